package switcher

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/imsid/imsid/profiles"
)

type manualKind int

const (
	reqForce manualKind = iota + 1
	reqPin
	reqUnpin
)

type manualReq struct {
	kind    manualKind
	profile string
	reason  string
	dur     time.Duration
}

// manual applies one operator request; it reports whether it acted.
func (s *Switcher) manual(ctx context.Context, now time.Time, rq manualReq, ranked []Score) bool {
	switch rq.kind {
	case reqUnpin:
		if s.pin != nil {
			s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerManual,
				Reasons: []Reason{reason(CodePinned, "unpinned %q", s.pin.Profile)}}, false)
		}
		s.pin = nil
		s.fire(EvUnpin)
		return false
	case reqPin:
		if ref := s.refuse("pin", rq.profile, now, rq.profile != s.active); ref != nil {
			s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerManual, Reasons: []Reason{ref.Reason}}, false)
			return false
		}
		s.pin = &Pin{Profile: rq.profile, Since: now}
		if rq.dur > 0 {
			s.pin.Until = now.Add(rq.dur)
		}
		if rq.profile == s.active {
			s.record(now, Decision{Kind: KindHold, From: s.active, To: s.active, Trigger: TriggerManual,
				Reasons: []Reason{reason(CodePin, "pinned to %q", rq.profile)}}, false)
			s.fire(EvPin)
			return false
		}
		return s.beginSwitch(ctx, now, rq.profile, TriggerManual, []Reason{reason(CodePin, "pinned to %q", rq.profile)}, ranked)
	case reqForce:
		if ref := s.refuse("force", rq.profile, now, true); ref != nil {
			s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerManual, Reasons: []Reason{ref.Reason}}, false)
			return false
		}
		if rq.profile == s.active {
			return false
		}
		if s.pin != nil && s.pin.Profile != rq.profile {
			// Forcing elsewhere is an explicit operator act: it replaces the pin.
			s.pin = nil
			s.fire(EvUnpin)
		}
		msg := rq.reason
		if msg == "" {
			msg = "operator request"
		}
		return s.beginSwitch(ctx, now, rq.profile, TriggerManual, []Reason{reason(CodeManual, "%s", msg)}, ranked)
	}
	return false
}

// refuse checks a manual request against live state; move says a switch
// would be needed. Caller holds s.mu.
func (s *Switcher) refuse(op, name string, now time.Time, move bool) *RefusedError {
	v := view{
		cfg: s.cfg, state: s.lc.Current(), active: s.active, suspended: s.suspended,
		quar: s.quar.list(now),
	}
	if ok, at := s.opBudget.allow(now, s.cfg.Policy.SwitchCap.Max, s.cfg.Policy.SwitchCap.Window.Std()); !ok {
		v.capRetry = at
	}
	return v.refuse(op, name, now, move)
}

// view is what a manual request is judged on.
type view struct {
	cfg       *profiles.Config
	state     State
	active    string
	suspended bool
	quar      []QuarantineEntry
	capRetry  time.Time
}

func (v view) refuse(op, name string, now time.Time, move bool) *RefusedError {
	ref := func(c Code, at time.Time, format string, a ...any) *RefusedError {
		return &RefusedError{Op: op, Profile: name, Reason: reason(c, format, a...), RetryAt: at}
	}
	if v.cfg.Profile(name) == nil {
		names := make([]string, len(v.cfg.Profiles))
		for i, p := range v.cfg.Profiles {
			names[i] = p.Name
		}
		sort.Strings(names)
		return ref(CodeUnknownProfile, time.Time{}, "no profile %q; known: %s", name, strings.Join(names, ", "))
	}
	if !move {
		return nil
	}
	if v.cfg.SIM.Method == profiles.MethodAutonomous {
		return ref(CodeAutonomous, time.Time{}, "the applet selects the IMSI on its own (method autonomous)")
	}
	for _, q := range v.quar {
		if q.Key == profileKey(name) && now.Before(q.Until) {
			return ref(CodeQuarantined, q.Until, "quarantined (%s) until %s", q.Reason.Code, q.Until.UTC().Format(time.RFC3339))
		}
	}
	if v.suspended {
		return ref(CodeSuspended, time.Time{}, "switching is suspended while jamming is detected")
	}
	switch v.state {
	case StateSwitching, StateVerifying, StateRollingBack, StateRecovering, StateModemLost, StateStarting, StateProbing:
		return ref(CodeBusy, time.Time{}, "the switcher is %s; try again shortly", v.state)
	}
	if !v.capRetry.IsZero() && now.Before(v.capRetry) {
		return ref(CodeSwitchCap, v.capRetry, "the operator switch budget (%d per %s) is used up", v.cfg.Policy.SwitchCap.Max, windowText(v.cfg.Policy.SwitchCap.Window.Std()))
	}
	return nil
}

// requestView is the last tick's state; it never waits for a running tick.
func (s *Switcher) requestView() view {
	p := s.pub.Load()
	st := p.status
	return view{cfg: p.cfg, state: st.State, active: st.Active, suspended: st.Suspended, quar: st.Quarantines, capRetry: st.OperatorCapRetryAt}
}

func (s *Switcher) enqueue(r manualReq) {
	s.reqMu.Lock()
	s.reqs = append(s.reqs, r)
	s.reqMu.Unlock()
	s.poke()
}

// Force asks for a switch to profile now, skipping the dwell but not the
// cap, quarantines or a jamming suspension. It is checked against the last
// tick's state, queued, and re-checked when the next tick applies it; a
// refusal is a *RefusedError saying why and, where it applies, from when.
func (s *Switcher) Force(profile, why string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	v := s.requestView()
	if ref := v.refuse("force", profile, s.clock.Now(), profile != v.active); ref != nil {
		return ref
	}
	s.enqueue(manualReq{kind: reqForce, profile: profile, reason: why})
	return nil
}

// Pin holds the switcher on profile for d (0: until Unpin), switching to it
// first if needed. Automatic logic respects it; a Critical threat overrides
// it when policy.critical_overrides_pin is set.
func (s *Switcher) Pin(profile string, d time.Duration) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if d < 0 {
		return &RefusedError{Op: "pin", Profile: profile, Reason: reason(CodeBadRequest, "negative pin duration %s", d)}
	}
	v := s.requestView()
	if ref := v.refuse("pin", profile, s.clock.Now(), profile != v.active); ref != nil {
		return ref
	}
	s.enqueue(manualReq{kind: reqPin, profile: profile, dur: d})
	return nil
}

// Unpin releases a pin. It is idempotent.
func (s *Switcher) Unpin() error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.enqueue(manualReq{kind: reqUnpin})
	return nil
}

// windowText writes a duration as the config does ("1h", "1h30m"), not as
// Go prints it ("1h0m0s").
func windowText(d time.Duration) string {
	s := d.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok && strings.Contains(t, "h") {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	} else if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	return s
}
