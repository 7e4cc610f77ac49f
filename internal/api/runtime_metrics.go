package api

import (
	"runtime"
)

// collectRuntime adds the Go runtime's and the process's series (go_*,
// process_*), read at scrape time, under the names client_golang used, so
// dashboards and scripts/footprint-qemu.sh keep working.
func (m *Metrics) collectRuntime() {
	mem := func(f func(*runtime.MemStats) uint64) func() []Sample {
		return func() []Sample {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return []Sample{{Value: float64(f(&ms))}}
		}
	}
	m.Collect("go_goroutines", "Number of goroutines that currently exist.", false, nil,
		func() []Sample { return []Sample{{Value: float64(runtime.NumGoroutine())}} })
	m.Collect("go_memstats_alloc_bytes", "Number of bytes allocated in heap objects and still in use.", false, nil,
		mem(func(ms *runtime.MemStats) uint64 { return ms.HeapAlloc }))
	m.Collect("go_memstats_heap_inuse_bytes", "Number of heap bytes in in-use spans.", false, nil,
		mem(func(ms *runtime.MemStats) uint64 { return ms.HeapInuse }))
	m.Collect("go_memstats_sys_bytes", "Number of bytes obtained from the OS by the Go runtime.", false, nil,
		mem(func(ms *runtime.MemStats) uint64 { return ms.Sys }))
	m.Collect("go_memstats_gc_completed_total", "Number of completed GC cycles.", true, nil,
		mem(func(ms *runtime.MemStats) uint64 { return uint64(ms.NumGC) }))
	collectProcess(m)
}
