package switcher

import (
	"fmt"
	"testing"
	"time"
)

func TestQuarantineTTLDoublesAndCaps(t *testing.T) {
	q := newQuarantines()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base, maxTTL := 30*time.Minute, 4*time.Hour
	want := []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 4 * time.Hour}
	for i, w := range want {
		e := q.add(now, "profile:x", base, maxTTL, Reason{Code: CodeVerifyFailed})
		if got := e.Until.Sub(now); got != w || e.Count != i+1 {
			t.Fatalf("repeat %d: TTL %s count %d, want %s", i+1, got, e.Count, w)
		}
		if _, ok := q.active(e.Until.Add(-time.Second), "profile:x"); !ok {
			t.Fatal("not active before expiry")
		}
		if _, ok := q.active(e.Until, "profile:x"); ok {
			t.Fatal("active at expiry")
		}
		now = e.Until.Add(time.Minute)
	}
	// A quiet spell longer than the maximum starts the doubling over.
	e := q.add(now.Add(maxTTL), "profile:x", base, maxTTL, Reason{})
	if e.Count != 1 || e.Until.Sub(now.Add(maxTTL)) != base {
		t.Fatalf("after a quiet spell: %+v", e)
	}
	// A new quarantine never shortens a running one.
	at := e.Since.Add(time.Minute)
	long := q.add(at, "plmn:310260", 2*time.Hour, maxTTL, Reason{})
	short := q.add(at.Add(time.Minute), "plmn:310260", time.Minute, maxTTL, Reason{})
	if short.Until.Before(long.Until) {
		t.Fatalf("shortened: %s < %s", short.Until, long.Until)
	}
}

func TestSwitchBudget(t *testing.T) {
	var b switchBudget
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := b.allow(t0.Add(time.Duration(i)*time.Minute), 3, time.Hour); !ok {
			t.Fatalf("switch %d refused", i)
		}
		b.record(t0.Add(time.Duration(i) * time.Minute))
	}
	ok, at := b.allow(t0.Add(10*time.Minute), 3, time.Hour)
	if ok || !at.Equal(t0.Add(time.Hour)) {
		t.Fatalf("cap: ok=%v retry=%s", ok, at)
	}
	if ok, _ := b.allow(t0.Add(time.Hour), 3, time.Hour); !ok {
		t.Fatal("window did not slide")
	}
}

func TestQuarantineBookPruned(t *testing.T) {
	q := newQuarantines()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		q.add(t0.Add(time.Duration(i)*time.Minute), QuarantineKey(fmt.Sprintf("cell:310260/%x", i)), time.Minute, time.Hour, Reason{})
	}
	q.prune(t0.Add(1000*time.Minute), time.Hour)
	if n := len(q.m); n > 62 {
		t.Fatalf("%d entries kept; only those that expired within the last hour say anything", n)
	}
	// A repeat within maxTTL of the expiry still doubles.
	e := q.add(t0.Add(1000*time.Minute), "cell:310260/3e7", time.Minute, time.Hour, Reason{})
	if e.Count != 2 {
		t.Fatalf("count %d after pruning, want 2", e.Count)
	}
}
