// Package soak measures the daemon over long runs: Run drives it in process
// against the simulator at high speed with random faults and events and
// samples its heap, RSS and goroutines; Load fires a fixed-rate open-loop
// request schedule at an HTTP endpoint and reports its latencies; Proc reads
// a process's RSS and CPU time from /proc. The commands under cmd/ are
// `make soak`, `make loadtest` and `make footprint`.
package soak
