package threat

import "time"

// timeVal is an optional instant; the zero time is a valid observation
// time in tests, so "unset" needs its own flag.
type timeVal struct {
	t  time.Time
	ok bool
}

func (v *timeVal) set(t time.Time) { v.t, v.ok = t, true }

// within reports whether v is set and no older than d at now.
func (v timeVal) within(now time.Time, d time.Duration) bool { return v.ok && now.Sub(v.t) <= d }

// maxHistory bounds every detector's list of event times by count as well
// as age: no threshold counts anywhere near it, and a modem that reports an
// event at every poll of an hour cannot grow memory with it.
const maxHistory = 256

// pruneBefore drops the times older than cutoff from a sorted slice, and
// all but the newest maxHistory.
func pruneBefore(ts []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(cutoff) {
		i++
	}
	i = max(i, len(ts)-maxHistory)
	return append(ts[:0], ts[i:]...)
}

// countSince counts the times at or after cutoff.
func countSince(ts []time.Time, cutoff time.Time) int {
	n := 0
	for _, t := range ts {
		if !t.Before(cutoff) {
			n++
		}
	}
	return n
}
