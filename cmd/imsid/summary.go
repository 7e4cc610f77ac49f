//go:build !nosimulate

package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/imsid/imsid/internal/daemon"
)

// tally sums a simulated run from its progress events: time on each
// profile while the link was up, downtime, switches by reason, alerts.
type tally struct {
	last     time.Time
	up       bool
	everUp   bool
	profile  string
	onProf   map[string]time.Duration
	down     time.Duration
	starting time.Duration
	switches map[string]int
	alerts   int
}

func linkState(s string) bool { return s == "connected" || s == "degraded" || s == "held" }

func (t *tally) advance(at time.Time) {
	if t.onProf == nil {
		t.onProf, t.switches = map[string]time.Duration{}, map[string]int{}
	}
	if !t.last.IsZero() && at.After(t.last) {
		d := at.Sub(t.last)
		switch {
		case t.up && t.profile != "":
			t.onProf[t.profile] += d
		case t.everUp:
			t.down += d
		default:
			t.starting += d
		}
	}
	t.last = at
}

func (t *tally) add(ev daemon.Progress) {
	t.advance(ev.At)
	switch ev.Kind {
	case "state":
		t.up = linkState(ev.State)
		t.everUp = t.everUp || t.up
		if t.up && t.profile == "" {
			t.profile = ev.Profile
		}
	case "decision":
		switch ev.Code {
		case "switch":
			t.switches[ev.Reason]++
		case "verified", "adopt", "rollback":
			if ev.Profile != "" {
				t.profile = ev.Profile
			}
		}
	case "threat":
		t.alerts++
	}
}

func (t *tally) write(w io.Writer, start, end time.Time) {
	if t.last.IsZero() {
		t.last = start
	}
	t.advance(end)
	total := end.Sub(start)
	if total <= 0 {
		return
	}
	pct := func(d time.Duration) float64 { return 100 * float64(d) / float64(total) }
	fmt.Fprintf(w, "\nSummary after %s of scenario time:\n", clock(total))
	fmt.Fprintf(w, "  %-16s %9s %6s\n", "profile", "time", "share")
	for _, p := range slices.Sorted(maps.Keys(t.onProf)) {
		fmt.Fprintf(w, "  %-16s %9s %5.1f%%\n", p, clock(t.onProf[p]), pct(t.onProf[p]))
	}
	fmt.Fprintf(w, "  %-16s %9s %5.1f%%\n", "(down)", clock(t.down), pct(t.down))
	fmt.Fprintf(w, "  %-16s %9s %5.1f%%\n", "(starting)", clock(t.starting), pct(t.starting))
	n := 0
	for _, c := range t.switches {
		n += c
	}
	fmt.Fprintf(w, "  switches: %d", n)
	for _, r := range slices.Sorted(maps.Keys(t.switches)) {
		fmt.Fprintf(w, "  %s=%d", r, t.switches[r])
	}
	fmt.Fprintf(w, "\n  threat alerts: %d\n", t.alerts)
}
