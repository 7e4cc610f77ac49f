//go:build !linux

package api

// collectProcess has nothing to read without /proc: the process_* series
// are absent.
func collectProcess(*Metrics) {}
