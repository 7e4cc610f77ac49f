package switchertest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// SettledClock is the switcher's clock inside a testing/synctest bubble in
// which it runs against a simulated world (the benchmark's episodes). A
// wake it hands out fires at its instant only once every other goroutine of
// the bubble is durably blocked, so whatever the world does at that instant
// (a timeline event, an attach completing, the URC on its way to the
// switcher) has happened before the switcher looks.
//
// Without it, a switcher timer and a world event due at the same instant
// wake their goroutines together, the runtime runs them in an order it does
// not fix (in parallel, with more than one P), and two runs of one seed can
// differ: the tick read the registration before or after the loss.
//
// One goroutine, Run, does every settle, because testing/synctest allows
// one waiter at a time. An observer that reads the world at fixed instants
// (the benchmark's meter) waits with SleepUntil: at one instant observers
// are woken first, after the world, and the switcher's wakes only once they
// are done. With settle nil it is a plain clock (outside a bubble).
type SettledClock struct {
	settle func()
	kick   chan struct{}

	mu    sync.Mutex
	seq   uint64
	wakes []wake // by (at, observer first, seq)
}

type wake struct {
	at       time.Time
	observer bool
	seq      uint64
	ch       chan time.Time
}

func (w wake) before(o wake) bool {
	if !w.at.Equal(o.at) {
		return w.at.Before(o.at)
	}
	if w.observer != o.observer {
		return w.observer
	}
	return w.seq < o.seq
}

// NewSettledClock returns a clock whose wakes fire after settle returns
// (synctest.Wait in a bubble). Start Run before the first wake is due.
func NewSettledClock(settle func()) *SettledClock {
	return &SettledClock{settle: settle, kick: make(chan struct{}, 1)}
}

// Now implements switcher.Clock.
func (c *SettledClock) Now() time.Time { return time.Now() }

// After implements switcher.Clock.
func (c *SettledClock) After(d time.Duration) <-chan time.Time {
	return c.add(time.Now().Add(max(d, 0)), false)
}

// SleepUntil waits until t, after the world and before the switcher at
// that instant, or until ctx ends.
func (c *SettledClock) SleepUntil(ctx context.Context, t time.Time) error {
	select {
	case <-c.add(t, true):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *SettledClock) add(at time.Time, observer bool) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	c.seq++
	w := wake{at: at, observer: observer, seq: c.seq, ch: ch}
	i, _ := slices.BinarySearchFunc(c.wakes, w, func(a, b wake) int {
		if a.before(b) {
			return -1
		}
		return 1
	})
	c.wakes = slices.Insert(c.wakes, i, w)
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
	return ch
}

// due removes and returns the wakes at or before now of one kind: the
// observers' if any are due, else the rest.
func (c *SettledClock) due(now time.Time) []wake {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for n < len(c.wakes) && !c.wakes[n].at.After(now) {
		n++
	}
	if n == 0 {
		return nil
	}
	obs := slices.ContainsFunc(c.wakes[:n], func(w wake) bool { return w.observer })
	var out []wake
	c.wakes = slices.DeleteFunc(c.wakes, func(w wake) bool {
		if !w.at.After(now) && w.observer == obs {
			out = append(out, w)
			return true
		}
		return false
	})
	return out
}

func (c *SettledClock) next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.wakes) == 0 {
		return time.Time{}, false
	}
	return c.wakes[0].at, true
}

// Run fires the wakes until ctx ends. The caller starts it in the bubble
// and waits for it to return.
func (c *SettledClock) Run(ctx context.Context) {
	for {
		var fire <-chan time.Time
		var t *time.Timer
		if at, ok := c.next(); ok {
			t = time.NewTimer(time.Until(at))
			fire = t.C
		}
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return
		case <-c.kick:
			if t != nil {
				t.Stop()
			}
			continue
		case <-fire:
		}
		// Everything due now: observers, a settle, then the switcher.
		for {
			if c.settle != nil {
				c.settle()
			}
			ws := c.due(time.Now())
			if len(ws) == 0 {
				break
			}
			for _, w := range ws {
				w.ch <- w.at
			}
		}
	}
}

// StartSettledClock starts a settled clock in the calling test's synctest
// bubble (settle is synctest.Wait) and stops it in the test's cleanup.
func StartSettledClock(t testing.TB) *SettledClock {
	ctx, cancel := context.WithCancel(context.Background())
	c := NewSettledClock(synctest.Wait)
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return c
}
