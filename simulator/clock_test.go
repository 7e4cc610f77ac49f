package simulator

import (
	"testing"
	"testing/synctest"
	"time"
)

func TestManualClockOrderAndStop(t *testing.T) {
	c := NewManualClock(testEpoch)
	var got []string
	c.AfterFunc(2*time.Second, func() { got = append(got, "b") })
	c.AfterFunc(time.Second, func() {
		got = append(got, "a")
		c.AfterFunc(500*time.Millisecond, func() { got = append(got, "a2") })
	})
	stopped := c.AfterFunc(1500*time.Millisecond, func() { got = append(got, "never") })
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should succeed once")
	}
	c.AfterFunc(0, func() { got = append(got, "now") })
	c.Advance(0)
	c.Advance(3 * time.Second)
	want := "now a a2 b"
	if s := join4(got); s != want {
		t.Errorf("order = %q, want %q", s, want)
	}
	if !c.Now().Equal(testEpoch.Add(3 * time.Second)) {
		t.Errorf("Now = %v", c.Now())
	}
}

func join4(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func TestRealClockSpeed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewRealClock(60)
		start := c.Now()
		fired := make(chan time.Time, 1)
		c.AfterFunc(time.Minute, func() { fired <- time.Now() })
		wall := time.Now()
		at := <-fired
		if d := at.Sub(wall); d != time.Second {
			t.Errorf("a scenario minute took %v of wall time at speed 60", d)
		}
		if d := c.Now().Sub(start); d != time.Minute {
			t.Errorf("scenario time advanced %v, want 1m", d)
		}
	})
}
