package threat

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Action is a set of things the switcher should do. Actions only restrict
// the device; none can re-enable a RAT, accept a PLMN or loosen anything.
type Action uint32

// Actions.
const (
	// ActAlert: tell upstream (rate-limited per rule and scope; see Result.Alerts).
	ActAlert Action = 1 << iota
	// ActProbe: run the DNS/TLS canary probes now.
	ActProbe
	// ActDeprioritise: rank the quarantined scopes last without leaving them.
	ActDeprioritise
	// ActLeaveNow: move off the quarantined scopes now (switch profile or
	// select another PLMN), skipping the dwell but not the switch cap.
	ActLeaveNow
	// ActForbid2G: apply (or keep) the LTE/NR-only RAT lock.
	ActForbid2G
	// ActCheckRATLock: read the RAT configuration back now.
	ActCheckRATLock
	// ActRewriteRATLock: the lock read back changed; write it again.
	ActRewriteRATLock
	// ActRecoverCFUN: schedule one guarded CFUN 0/1 (rejects #3/#6/#8 on
	// an active subscription), after a back-off.
	ActRecoverCFUN
	// ActSuspendSwitching: jamming; changing profile does not help, so do
	// not switch at all. It overrides ActLeaveNow.
	ActSuspendSwitching
	// ActLocalAlarm: raise the site's local tamper alarm.
	ActLocalAlarm
	// ActStoreAndForward: hold non-essential traffic for later.
	ActStoreAndForward
	// ActBlockTransactions: block payment/transaction traffic until a human
	// or remote attestation acknowledges (tamper-class Critical only).
	ActBlockTransactions
)

var actionNames = []string{"alert", "probe", "deprioritise", "leave_now", "forbid_2g", "check_rat_lock",
	"rewrite_rat_lock", "recover_cfun", "suspend_switching", "local_alarm", "store_and_forward", "block_transactions"}

// Has reports whether every action in x is set.
func (a Action) Has(x Action) bool { return a&x == x }

func (a Action) String() string {
	var parts []string
	for i, n := range actionNames {
		if a&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// MarshalText writes the names joined by "|".
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads the MarshalText form ("none" or names joined by "|").
func (a *Action) UnmarshalText(b []byte) error {
	*a = 0
	if string(b) == "none" || len(b) == 0 {
		return nil
	}
	for _, part := range strings.Split(string(b), "|") {
		i := slices.Index(actionNames, part)
		if i < 0 {
			return fmt.Errorf("threat: unknown action %q", part)
		}
		*a |= 1 << i
	}
	return nil
}

// Quarantine asks the switcher to avoid a scope for at least TTL (it
// doubles the TTL on repeats; that bookkeeping is the switcher's).
type Quarantine struct {
	Scope  Scope         `json:"scope"`
	TTL    time.Duration `json:"ttl"`
	Reason Reason        `json:"reason"`
}

// Response is what the threat side asks of the switcher. Within an episode
// it only tightens: actions are added, quarantines added or lengthened,
// the level only rises.
type Response struct {
	Level      Severity     `json:"level"`
	Actions    Action       `json:"actions"`
	Quarantine []Quarantine `json:"quarantine,omitempty"`
}

// IsZero reports whether the response asks for nothing.
func (r Response) IsZero() bool {
	return r.Level == SeverityNone && r.Actions == 0 && len(r.Quarantine) == 0
}

// SwitchAllowed reports whether the switcher may change profile at all.
func (r Response) SwitchAllowed() bool { return !r.Actions.Has(ActSuspendSwitching) }

// Merge returns the union of r and x: the higher level, every action, every
// quarantine with the longer TTL. Merge is commutative and idempotent, which
// is what makes "only tightens" hold whatever order findings arrive in.
func (r Response) Merge(x Response) Response {
	out := Response{Level: max(r.Level, x.Level), Actions: r.Actions | x.Actions}
	n := len(r.Quarantine) + len(x.Quarantine)
	if n == 0 {
		return out
	}
	type keyed struct {
		key string
		q   Quarantine
	}
	idx := make(map[string]int, n)
	all := make([]keyed, 0, n)
	for _, q := range slices.Concat(r.Quarantine, x.Quarantine) {
		k := q.Scope.Key()
		i, ok := idx[k]
		if !ok {
			idx[k] = len(all)
			all = append(all, keyed{k, q})
			continue
		}
		cur := &all[i].q
		if q.TTL > cur.TTL || (q.TTL == cur.TTL && q.Reason < cur.Reason) {
			cur.TTL, cur.Reason = q.TTL, q.Reason
		}
	}
	slices.SortFunc(all, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	out.Quarantine = make([]Quarantine, len(all))
	for i, k := range all {
		out.Quarantine[i] = k.q
	}
	return out
}

// Covers reports whether r is at least as tight as x: the property the
// engine guarantees between successive responses of one episode.
func (r Response) Covers(x Response) bool {
	if r.Level < x.Level || r.Actions&x.Actions != x.Actions {
		return false
	}
	if len(x.Quarantine) == 0 {
		return true
	}
	ttl := make(map[string]time.Duration, len(r.Quarantine))
	for _, q := range r.Quarantine {
		ttl[q.Scope.Key()] = q.TTL
	}
	for _, q := range x.Quarantine {
		if t, ok := ttl[q.Scope.Key()]; !ok || t < q.TTL {
			return false
		}
	}
	return true
}
