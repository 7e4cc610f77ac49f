package switcher

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// dueClock is the bubble's clock, except that the first After is already
// due: the wait and a modem event are ready at the same instant.
type dueClock struct{ first bool }

func (c *dueClock) Now() time.Time { return time.Now() }

func (c *dueClock) After(d time.Duration) <-chan time.Time {
	if !c.first {
		c.first = true
		ch := make(chan time.Time, 1)
		ch <- time.Now()
		return ch
	}
	return time.After(d)
}

// When the wait runs out at the instant a modem event arrives, idle takes
// the event, keeps it for the tick, and ticks at once: whichever ready
// case the select picked. It used to take either: the timer (the event left
// in the channel for another tick a second later) or the event (and then
// wait out urcGap past the due tick). Runs of one benchmark seed differed.
func TestIdleTakesAnEventDueWithTheTimer(t *testing.T) {
	for i := range 200 {
		synctest.Test(t, func(t *testing.T) {
			s := &Switcher{clock: &dueClock{}, done: make(chan struct{}), wake: make(chan struct{}, 1)}
			events := make(chan ModemEvent, 1)
			events <- ModemEvent{Kind: ModemEventRegistration}
			start := time.Now()
			w, err := s.idle(context.Background(), 5*time.Second, events, start)
			if err != nil || w != wokeEvent {
				t.Fatalf("run %d: idle = %v, %v; want wokeEvent", i, w, err)
			}
			if took := time.Since(start); took != 0 {
				t.Fatalf("run %d: the due tick waited %v", i, took)
			}
			if len(s.stashed) != 1 || len(events) != 0 {
				t.Fatalf("run %d: event not kept for the tick: stashed %d, left %d", i, len(s.stashed), len(events))
			}
		})
	}
}

// An event alone still waits out urcGap after the last tick.
func TestIdleEventWaitsForTheURCGap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &Switcher{clock: SystemClock{}, done: make(chan struct{}), wake: make(chan struct{}, 1)}
		events := make(chan ModemEvent, 1)
		start := time.Now()
		time.AfterFunc(200*time.Millisecond, func() { events <- ModemEvent{Kind: ModemEventRegistration} })
		w, err := s.idle(context.Background(), 10*time.Second, events, start)
		if err != nil || w != wokeEvent {
			t.Fatalf("idle = %v, %v", w, err)
		}
		if took := time.Since(start); took != urcGap {
			t.Fatalf("ticked %v after the last tick, want urcGap %v", took, urcGap)
		}
		// ... but never past a wait that runs out sooner.
		start = time.Now()
		time.AfterFunc(200*time.Millisecond, func() { events <- ModemEvent{Kind: ModemEventRegistration} })
		if w, _ := s.idle(context.Background(), 500*time.Millisecond, events, start); w != wokeEvent {
			t.Fatalf("idle = %v", w)
		}
		if took := time.Since(start); took != 500*time.Millisecond {
			t.Fatalf("ticked %v after the last tick, want the 500ms wait", took)
		}
	})
}
