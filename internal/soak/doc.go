// Package soak measures the daemon over long runs: Run drives it in process
// against the simulator at high speed with random faults and events and
// samples its heap, RSS and goroutines; RunFault and RunMatrix drive it the
// same way through one simulator fault at a time and measure its recovery
// and what it lost, leaked or switched; Load fires a fixed-rate open-loop
// request schedule at an HTTP endpoint and reports its latencies; Proc reads
// a process's RSS and CPU time from /proc. The commands under cmd/ are
// `make soak`, `make loadtest`, `make footprint` and the fault matrix.
package soak
