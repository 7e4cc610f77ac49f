package soak

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Slope fits y = a + b·x by least squares and returns b (0 for fewer than
// two distinct x).
func Slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if len(xs) < 2 || len(xs) != len(ys) {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of ds, which
// it sorts; 0 for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p/100+0.999999) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// ProcStat is one reading of a process's memory and CPU.
type ProcStat struct {
	RSS, HWM uint64        // bytes: VmRSS, VmHWM
	Anon     uint64        // bytes: RssAnon (heap, stacks, runtime); VmRSS - Anon is mostly the binary's pages
	CPU      time.Duration // utime + stime
}

// clockTick is USER_HZ, 100 on every Linux the project targets (the kernel
// ABI fixes it for /proc regardless of CONFIG_HZ).
const clockTick = 100

// ReadProc reads /proc/<pid>/status and /proc/<pid>/stat ("self" for pid 0).
func ReadProc(pid int) (ProcStat, error) {
	dir := "/proc/self"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	var st ProcStat
	b, err := os.ReadFile(dir + "/status")
	if err != nil {
		return st, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return st, fmt.Errorf("%s/status %s: %w", dir, k, err)
		}
		switch k {
		case "VmRSS":
			st.RSS = kb << 10
		case "VmHWM":
			st.HWM = kb << 10
		case "RssAnon":
			st.Anon = kb << 10
		}
	}
	b, err = os.ReadFile(dir + "/stat")
	if err != nil {
		return st, err
	}
	// The command name (field 2) may hold spaces and parentheses: count
	// fields from the last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return st, errors.New(dir + "/stat: no ')'")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return st, fmt.Errorf("%s/stat: %d fields after the name", dir, len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	stt, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return st, fmt.Errorf("%s/stat utime/stime: %w", dir, err)
	}
	st.CPU = time.Duration(ut+stt) * time.Second / clockTick
	return st, nil
}

// MiB formats bytes as mebibytes.
func MiB(b uint64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }
