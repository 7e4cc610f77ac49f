package switcher

import (
	"slices"
	"strings"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/switcher/threat"

	"github.com/imsid/imsid/profiles"
)

// QuarantineKind is what a quarantine keeps out of selection.
type QuarantineKind string

// Quarantine kinds.
const (
	QuarantineProfile QuarantineKind = "profile"
	QuarantinePLMN    QuarantineKind = "plmn"
	QuarantineCell    QuarantineKind = "cell"
)

// QuarantineKey names one quarantined scope. It is written "kind:name"
// ("profile:home", "plmn:310260", "cell:310260/1452808") on the wire and in
// the store; code builds and reads it through the constructors and
// accessors, never by string surgery.
type QuarantineKey string

// ProfileKey, PLMNKey and CellKey build keys.
func ProfileKey(name string) QuarantineKey {
	return QuarantineKey(string(QuarantineProfile) + ":" + name)
}

// PLMNKey is the key of a network.
func PLMNKey(p modem.PLMN) QuarantineKey {
	return QuarantineKey(string(QuarantinePLMN) + ":" + p.String())
}

// CellKey is the key of a cell.
func CellKey(k threat.CellKey) QuarantineKey {
	return QuarantineKey(string(QuarantineCell) + ":" + k.String())
}

// Kind is the key's kind ("" if it has none).
func (k QuarantineKey) Kind() QuarantineKind {
	kind, _, ok := strings.Cut(string(k), ":")
	if !ok {
		return ""
	}
	return QuarantineKind(kind)
}

// Name is the key without its kind: a profile name, a PLMN, a cell.
func (k QuarantineKey) Name() string {
	_, name, _ := strings.Cut(string(k), ":")
	return name
}

// PLMN is the network of a plmn key (zero for other kinds).
func (k QuarantineKey) PLMN() modem.PLMN {
	if k.Kind() != QuarantinePLMN {
		return modem.PLMN{}
	}
	p, err := modem.ParsePLMN(k.Name())
	if err != nil {
		return modem.PLMN{}
	}
	return p
}

// QuarantineEntry keeps one scope out of selection until Until.
type QuarantineEntry struct {
	Key    QuarantineKey `json:"key"`
	Until  time.Time     `json:"until"`
	Count  int           `json:"count"` // consecutive quarantines; the TTL doubles with it
	Since  time.Time     `json:"since"`
	Reason Reason        `json:"reason"`
}

// quarantines is the quarantine book. A repeat within forgetAfter of the
// previous expiry doubles the TTL; a longer quiet spell starts over.
type quarantines struct {
	m map[QuarantineKey]*QuarantineEntry
}

func newQuarantines() quarantines { return quarantines{m: map[QuarantineKey]*QuarantineEntry{}} }

// add quarantines key with TTL base·2^(n−1) capped at maxTTL, where n
// counts recent repeats; it never shortens a running quarantine.
func (q *quarantines) add(now time.Time, key QuarantineKey, base, maxTTL time.Duration, why Reason) *QuarantineEntry {
	e := q.m[key]
	n := 1
	if e != nil && now.Sub(e.Until) < maxTTL {
		n = e.Count + 1
	}
	pol := profiles.Quarantine{Base: profiles.Duration(base), Max: profiles.Duration(max(maxTTL, base))}
	until := now.Add(pol.TTL(n).Std())
	if e != nil && e.Until.After(until) {
		until = e.Until
	}
	ne := &QuarantineEntry{Key: key, Until: until, Count: n, Since: now, Reason: why}
	q.m[key] = ne
	return ne
}

// prune forgets entries that expired more than maxTTL ago: add would start
// their count over anyway, so they say nothing any more. It keeps the book
// (and what is persisted and published every tick) bounded.
func (q *quarantines) prune(now time.Time, maxTTL time.Duration) {
	for k, e := range q.m {
		if now.Sub(e.Until) >= maxTTL {
			delete(q.m, k)
		}
	}
}

// active returns the entry for key if it has not expired at now.
func (q *quarantines) active(now time.Time, key QuarantineKey) (*QuarantineEntry, bool) {
	e := q.m[key]
	if e == nil || !now.Before(e.Until) {
		return nil, false
	}
	return e, true
}

// list returns the unexpired entries, sorted by key.
func (q *quarantines) list(now time.Time) []QuarantineEntry {
	var out []QuarantineEntry
	for _, e := range q.m {
		if now.Before(e.Until) {
			out = append(out, *e)
		}
	}
	slices.SortFunc(out, func(a, b QuarantineEntry) int {
		if a.Key < b.Key {
			return -1
		}
		if a.Key > b.Key {
			return 1
		}
		return 0
	})
	return out
}

// all returns every entry, expired or not (for persistence: the repeat
// count outlives the quarantine).
func (q *quarantines) all() []QuarantineEntry {
	out := make([]QuarantineEntry, 0, len(q.m))
	for _, e := range q.m {
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b QuarantineEntry) int {
		if a.Key < b.Key {
			return -1
		}
		if a.Key > b.Key {
			return 1
		}
		return 0
	})
	return out
}

func profileKey(name string) QuarantineKey { return ProfileKey(name) }

// switchBudget is the anti-flap cap: at most max switches per window.
type switchBudget struct {
	times []time.Time
}

func (b *switchBudget) prune(now time.Time, window time.Duration) {
	b.times = slices.DeleteFunc(b.times, func(t time.Time) bool { return now.Sub(t) >= window })
}

// allow reports whether one more switch fits and, if not, when it will.
func (b *switchBudget) allow(now time.Time, maxN int, window time.Duration) (bool, time.Time) {
	b.prune(now, window)
	if maxN <= 0 || len(b.times) < maxN {
		return true, time.Time{}
	}
	return false, b.times[len(b.times)-maxN].Add(window)
}

func (b *switchBudget) count(now time.Time, window time.Duration) int {
	b.prune(now, window)
	return len(b.times)
}

func (b *switchBudget) record(now time.Time) { b.times = append(b.times, now) }

// selectBackoff spaces out selections after the modem or the card refused
// one before anything changed: that says nothing about the target, so no
// profile is quarantined for it, but asking again at every poll would
// only hammer a card that cannot do it.
type selectBackoff struct {
	until time.Time
	wait  time.Duration
}

const (
	selectBackoffMin = time.Minute
	selectBackoffMax = 30 * time.Minute
)

func (b *selectBackoff) refused(now time.Time) {
	b.wait = min(max(2*b.wait, selectBackoffMin), selectBackoffMax)
	b.until = now.Add(b.wait)
}

func (b *selectBackoff) ok() { *b = selectBackoff{} }
