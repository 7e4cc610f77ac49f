package api

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// collectProcess adds process_* from /proc/self: resident and virtual
// memory, CPU time and open file descriptors. A value
// that cannot be read is absent.
func collectProcess(m *Metrics) {
	pageSize := float64(os.Getpagesize())
	const ticks = 100 // USER_HZ; 100 on every Linux the gateways run
	stat := func() []string {
		b, err := os.ReadFile("/proc/self/stat")
		if err != nil {
			return nil
		}
		// The command name is in parentheses and may contain spaces.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 {
			return strings.Fields(string(b[i+1:]))
		}
		return nil
	}
	// field n of stat(5), counted from 1 (pid); f[0] is field 3 (state).
	field := func(f []string, n int) (float64, bool) {
		if len(f) < n-2 {
			return 0, false
		}
		v, err := strconv.ParseFloat(f[n-3], 64)
		return v, err == nil
	}
	one := func(v float64, ok bool) []Sample {
		if !ok {
			return nil
		}
		return []Sample{{Value: v}}
	}
	m.Collect("process_resident_memory_bytes", "Resident memory size in bytes.", false, nil, func() []Sample {
		v, ok := field(stat(), 24)
		return one(v*pageSize, ok)
	})
	m.Collect("process_virtual_memory_bytes", "Virtual memory size in bytes.", false, nil, func() []Sample {
		return one(field(stat(), 23))
	})
	m.Collect("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", true, nil, func() []Sample {
		f := stat()
		u, ok1 := field(f, 14)
		s, ok2 := field(f, 15)
		return one((u+s)/ticks, ok1 && ok2)
	})
	m.Collect("process_open_fds", "Number of open file descriptors.", false, nil, func() []Sample {
		d, err := os.ReadDir("/proc/self/fd")
		return one(float64(len(d)), err == nil)
	})
}
