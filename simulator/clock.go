package simulator

import (
	"sort"
	"sync"
	"time"
)

// Clock is the simulator's only source of time. Latencies, attach delays and
// the scenario timeline all run on it, so tests can drive them without
// sleeping.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop cancels the call; it reports false if the call already ran or was
	// stopped.
	Stop() bool
}

// NewRealClock returns a wall clock on which scenario time runs speed times
// faster than real time (speed <= 0 counts as 1). Inside a testing/synctest
// bubble it runs on the bubble's fake time.
func NewRealClock(speed float64) Clock {
	if speed <= 0 {
		speed = 1
	}
	return &realClock{speed: speed, origin: time.Now()}
}

type realClock struct {
	speed  float64
	origin time.Time
}

func (c *realClock) Now() time.Time {
	if c.speed == 1 {
		return time.Now()
	}
	el := time.Since(c.origin)
	return c.origin.Add(time.Duration(float64(el) * c.speed))
}

func (c *realClock) AfterFunc(d time.Duration, f func()) Timer {
	if c.speed != 1 {
		d = time.Duration(float64(d) / c.speed)
	}
	return time.AfterFunc(d, f)
}

// ManualClock only moves when Advance is called; due callbacks run inside
// Advance, in deadline order, on the caller's goroutine.
type ManualClock struct {
	mu      sync.Mutex
	now     time.Time
	seq     uint64
	pending []*manualTimer
	// advancing serialises Advance calls so callbacks never run concurrently.
	advancing sync.Mutex
}

// NewManualClock returns a ManualClock reading start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start}
}

type manualTimer struct {
	c    *ManualClock
	when time.Time
	seq  uint64
	f    func()
	done bool
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f to run once the clock has advanced by d. A d <= 0
// call still waits for the next Advance (even Advance(0)), so it never runs
// under the caller's locks.
func (c *ManualClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d < 0 {
		d = 0
	}
	c.seq++
	t := &manualTimer{c: c, when: c.now.Add(d), seq: c.seq, f: f}
	c.pending = append(c.pending, t)
	return t
}

func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	for i, p := range t.c.pending {
		if p == t {
			t.c.pending = append(t.c.pending[:i], t.c.pending[i+1:]...)
			break
		}
	}
	return true
}

// Advance moves the clock forward by d, running every callback that falls
// due, including ones scheduled by callbacks within the window.
func (c *ManualClock) Advance(d time.Duration) {
	c.advancing.Lock()
	defer c.advancing.Unlock()
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		sort.Slice(c.pending, func(i, j int) bool {
			a, b := c.pending[i], c.pending[j]
			if !a.when.Equal(b.when) {
				return a.when.Before(b.when)
			}
			return a.seq < b.seq
		})
		if len(c.pending) == 0 || c.pending[0].when.After(target) {
			c.now = target
			c.mu.Unlock()
			return
		}
		t := c.pending[0]
		c.pending = c.pending[1:]
		t.done = true
		if t.when.After(c.now) {
			c.now = t.when
		}
		c.mu.Unlock()
		t.f()
	}
}

// Pending reports how many callbacks are scheduled; tests use it to see that
// the modem is waiting on the clock.
func (c *ManualClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}
