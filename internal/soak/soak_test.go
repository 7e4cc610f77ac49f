package soak

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestSoakShort is `make soak` in miniature (`make test` runs it; -short
// skips it): about six scenario hours in 15 s with faults and events,
// memory and goroutines flat over the second half, nothing left running.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("15-25 s of real time; skipped with -short (make soak runs the long one)")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc")
	}
	rep, err := Run(t.Context(), Options{
		Scenario:   "../../simulator/scenarios/store-day.yaml",
		StateDir:   t.TempDir(),
		Speed:      1500,
		Wall:       15 * time.Second,
		Samples:    20,
		FaultEvery: 10 * time.Minute,
		EventEvery: 30 * time.Minute,
		Seed:       1,
	})
	var b strings.Builder
	rep.WriteTable(&b, 10)
	t.Log("\n" + b.String())
	if err != nil {
		t.Fatal(err)
	}
	tol := DefaultTolerance
	// The race detector's shadow memory makes RSS noisier over a short run.
	tol.RSSAbs = 16 << 20
	if err := rep.Check(tol); err != nil {
		t.Error(err)
	}
	if len(rep.Faults) == 0 || len(rep.Decisions) == 0 {
		t.Errorf("a soak with no faults (%v) or no decisions (%v) proves nothing", rep.Faults, rep.Decisions)
	}
}
