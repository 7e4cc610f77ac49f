package switchertest_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imsid/imsid/switcher/switchertest"
)

// world does at instant at what a simulator does: a timer fires and its
// effect reaches the observer a few goroutine hops later (the URC through
// the wire, the driver and the event pump).
func world(at time.Duration, seen *atomic.Bool) {
	hop1, hop2 := make(chan struct{}), make(chan struct{})
	time.AfterFunc(at, func() { hop1 <- struct{}{} })
	go func() { <-hop1; hop2 <- struct{}{} }()
	go func() { <-hop2; seen.Store(true) }()
}

// A wake at the instant of a world event fires after the event has taken
// effect, every time. With a plain timer the two race, and with more than
// one P the switcher's tick read the state before or after the event.
func TestSettledClockWakesAfterTheWorld(t *testing.T) {
	for i := range 300 {
		synctest.Test(t, func(t *testing.T) {
			clk := switchertest.StartSettledClock(t)
			var seen atomic.Bool
			world(time.Second, &seen)
			<-clk.After(time.Second)
			if !seen.Load() {
				t.Fatalf("run %d: woke at the event's instant before the event took effect", i)
			}
		})
	}
}

// At one instant an observer (the benchmark's meter) is woken before the
// switcher, and the switcher only once the observer is blocked again.
func TestSettledClockObserversFirst(t *testing.T) {
	for i := range 100 {
		synctest.Test(t, func(t *testing.T) {
			clk := switchertest.StartSettledClock(t)
			at := time.Now().Add(time.Second)
			var order []string
			observed := make(chan struct{})
			woke := clk.After(time.Second) // asked for first
			go func() {
				defer close(observed)
				if err := clk.SleepUntil(context.Background(), at); err != nil {
					t.Error(err)
				}
				order = append(order, "observer")
			}()
			<-woke
			order = append(order, "switcher")
			<-observed
			if len(order) != 2 || order[0] != "observer" {
				t.Fatalf("run %d: order %v, want the observer first", i, order)
			}
		})
	}
}

// Without settle it is a plain clock.
func TestSettledClockPlain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		clk := switchertest.NewSettledClock(nil)
		done := make(chan struct{})
		go func() { defer close(done); clk.Run(ctx) }()
		start := time.Now()
		<-clk.After(2 * time.Second)
		<-clk.After(0)
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("woke after %v, want 2s", got)
		}
		cancel()
		<-done
	})
}
