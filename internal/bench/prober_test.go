package bench

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/switcher/switchertest"
)

// A probe on a dead path returns at its deadline only after the world has
// done what it does at that instant, as every other switcher wake does.
// It used to resume on the context's deadline, a plain timer: the tick
// that followed raced a timeline event due at the same instant, and a
// seed's detect phase moved by a probe interval between two runs
// (slow-fade mwan3-tuned seed 2: 15.7 s, then 10.5 s).
func TestDeadProbeResumesAfterTheWorld(t *testing.T) {
	sc := Scenarios()[0]
	for i := range 200 {
		synctest.Test(t, func(t *testing.T) {
			simSc, err := World(sc, Variant{Name: "ours"}, 1, sc.Build(rand.New(rand.NewPCG(1, 0x1b5d))))
			if err != nil {
				t.Fatal(err)
			}
			sim, err := simulator.New(simSc, simulator.WithClock(simulator.NewRealClock(1)))
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Close()
			if sim.Snapshot().DataUp {
				t.Fatal("data up before any PDP activation")
			}
			ctx, cancel := context.WithCancel(context.Background())
			clk := switchertest.NewSettledClock(synctest.Wait)
			done := make(chan struct{})
			go func() { defer close(done); clk.Run(ctx) }()
			defer func() { cancel(); <-done }()

			const timeout = 2 * time.Second
			// The world acts at the deadline's instant, a few goroutine
			// hops from its timer (as a URC reaches the switcher).
			var seen atomic.Bool
			hop := make(chan struct{})
			time.AfterFunc(timeout, func() { hop <- struct{}{} })
			go func() { <-hop; seen.Store(true) }()

			pctx, pcancel := context.WithTimeout(ctx, timeout)
			defer pcancel()
			r, _ := timedProber{m: sim, timeout: timeout, clk: clk}.Probe(pctx, "home")
			if r.OK {
				t.Fatal("a probe on a dead path passed")
			}
			if !seen.Load() {
				t.Fatalf("run %d: the probe returned at its deadline before the world's event at that instant", i)
			}
		})
	}
}
