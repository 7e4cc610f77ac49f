package switcher

import (
	"context"
	"slices"
	"time"

	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher/threat"
)

// refuseBusy answers requests that arrive while a switch, recovery or
// start-up is in flight: unpinning is always safe, the rest is refused.
func (s *Switcher) refuseBusy(now time.Time, reqs []manualReq) {
	for _, rq := range reqs {
		if rq.kind == reqUnpin {
			s.pin = nil
			s.fire(EvUnpin)
			continue
		}
		s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerManual,
			Reasons: []Reason{reason(CodeBusy, "request for %q refused: the switcher is %s", rq.profile, s.lc.Current())}}, false)
	}
}

// lifecycleHealth moves between registering, connected, degraded and held.
func (s *Switcher) lifecycleHealth(now time.Time) {
	st := s.lc.Current()
	switch {
	case !s.obs.registered:
		s.fire(EvServiceLost)
		return
	case !s.pdpUp:
		return
	}
	t := s.sig[s.active]
	degraded := s.probeFails > 0 || (t != nil && belowFloor(t, s.cfg.Policy.Thresholds))
	switch {
	case st == StateRegistering:
		s.fire(EvHealthy)
	case st == StateConnected && degraded:
		s.fire(EvDegrade)
	case st == StateDegraded && !degraded:
		s.fire(EvHealthy)
	}
	if s.pin != nil && s.pin.Profile == s.active {
		s.fire(EvPin)
	}
}

type trig struct {
	kind    Trigger
	reasons []Reason
}

// triggers lists why the active profile should be left.
func (s *Switcher) triggers(now time.Time, scores []Score) (hard, soft trig) {
	pol := s.cfg.Policy
	if s.active == "" {
		hard.kind = TriggerHard
		hard.reasons = append(hard.reasons, reason(CodeUnknownProfile, "the SIM carries no configured profile"))
	}
	if !s.noServiceSince.IsZero() && now.Sub(s.noServiceSince) >= pol.NoServiceTrigger.Std() {
		hard.kind = TriggerHard
		hard.reasons = append(hard.reasons, reason(CodeNoService, "no service for %s", now.Sub(s.noServiceSince).Round(time.Second)))
	}
	if n := pol.Probes.FailuresToDown; n > 0 && s.probeFails >= n {
		hard.kind = TriggerHard
		hard.reasons = append(hard.reasons, reason(CodeDataPathDead, "%d consecutive probe failures", s.probeFails))
	}
	var act *Score
	for i := range scores {
		if scores[i].Active {
			act = &scores[i]
		}
	}
	if act != nil {
		for _, r := range act.Reasons {
			if r.Code == CodePLMNNotAllowed {
				hard.kind = TriggerHard
				hard.reasons = append(hard.reasons, r)
			}
		}
	}
	if s.threatActs() && s.active != "" {
		if lvl := s.threatLevel(s.active); lvl == threat.SeverityCritical {
			hard.kind = TriggerThreat
			hard.reasons = append(hard.reasons, reason(CodeThreatCritical, "Critical threat on the active profile"))
		} else if s.threatRes.Response.Actions.Has(threat.ActLeaveNow) && s.activeAvoided(now) {
			hard.kind = TriggerThreat
			hard.reasons = append(hard.reasons, reason(CodeThreatLeave, "threat response: leave the quarantined profile or network now"))
		}
	}
	if act != nil {
		for _, r := range act.Reasons {
			if r.Code == CodeOverCap {
				soft.kind = TriggerSoft
				soft.reasons = append(soft.reasons, reason(CodeCapReached, "%s", r.Message))
			}
		}
	}
	return hard, soft
}

// activeAvoided reports whether the active profile or its serving network
// or cell is quarantined.
func (s *Switcher) activeAvoided(now time.Time) bool {
	if _, ok := s.quar.active(now, profileKey(s.active)); ok {
		return true
	}
	if p := s.obs.plmn(); !p.IsZero() {
		if _, ok := s.quar.active(now, "plmn:"+p.String()); ok {
			return true
		}
		if s.obs.serving != nil && s.obs.serving.CellID != nil {
			k := threat.CellKey{PLMN: p, CI: *s.obs.serving.CellID}
			if _, ok := s.quar.active(now, "cell:"+k.String()); ok {
				return true
			}
		}
	}
	return false
}

func (s *Switcher) threatActs() bool {
	return s.threatRes != nil && s.cfg.Policy.Threats.Mode != profiles.ModeShadow
}

// whyNot explains every profile other than chosen.
func whyNot(scores []Score, chosen string, extra map[string][]Reason) []WhyNot {
	var out []WhyNot
	for _, sc := range scores {
		if sc.Profile == chosen {
			continue
		}
		w := WhyNot{Profile: sc.Profile, Total: sc.Total}
		if sc.Active {
			w.Reasons = append(w.Reasons, reason(CodeActive, "the active profile"))
		}
		if !sc.Eligible {
			for _, r := range sc.Reasons {
				switch r.Code {
				case CodeQuarantined, CodeOverCap, CodeNotInScan, CodePLMNAvoided, CodePLMNNotAllowed:
					w.Reasons = append(w.Reasons, r)
				}
			}
		}
		w.Reasons = append(w.Reasons, extra[sc.Profile]...)
		if len(w.Reasons) == 0 {
			w.Reasons = append(w.Reasons, reason(CodeNotBetter, "total %.1f", sc.Total))
		}
		out = append(out, w)
	}
	return out
}

func (s *Switcher) takeRequests() []manualReq {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	r := s.reqs
	s.reqs = nil
	return r
}

// softHold is how long a fall of the active profile's own score must last
// before it can make a soft trigger. A candidate that got better (a scan saw
// it back, a cheaper tariff) wins at once; the active profile getting worse
// has to stay worse this long: a dip rides it out, and interference that
// collapses SINR under steady power is D8's to judge (it confirms in three
// polls and suspends switching) before a soft switch would jump into it.
const softHold = 60 * time.Second

// recentBest records the active profile's total and returns its best over
// the last softHold.
func (s *Switcher) recentBest(now time.Time, act Score) float64 {
	if !act.Active || s.active != s.actHistOf {
		s.actHist, s.actHistOf = s.actHist[:0], s.active
	}
	if act.Active {
		s.actHist = append(s.actHist, scoreAt{at: now, total: act.Total})
	}
	best := act.Total
	keep := s.actHist[:0]
	for _, h := range s.actHist {
		if now.Sub(h.at) < softHold {
			keep = append(keep, h)
			best = max(best, h.total)
		}
	}
	s.actHist = keep
	return best
}

// requeue puts requests back in front of any made since they were taken.
func (s *Switcher) requeue(reqs []manualReq) {
	if len(reqs) == 0 {
		return
	}
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	s.reqs = append(reqs, s.reqs...)
}

// steadyStep is the decision in registering/connected/degraded/held.
func (s *Switcher) steadyStep(ctx context.Context, now time.Time, reqs []manualReq) {
	s.lifecycleHealth(now)
	ranked := s.rank(s.scores)
	pol := s.cfg.Policy

	// Pins lapse on time.
	if s.pin != nil && !s.pin.Until.IsZero() && !now.Before(s.pin.Until) {
		p := s.pin.Profile
		s.pin = nil
		s.fire(EvUnpin)
		s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerManual,
			Reasons: []Reason{reason(CodePinned, "pin on %q expired", p)}}, false)
	}

	for _, rq := range reqs {
		if s.manual(ctx, now, rq, ranked) {
			return
		}
	}
	if s.opt.policy != nil {
		if s.cfg.SIM.Method != profiles.MethodAutonomous && (s.pin == nil || s.pin.Profile != s.active) {
			s.policyStep(ctx, now, ranked)
		}
		return
	}

	hard, soft := s.triggers(now, s.scores)
	var best *Score
	for i := range ranked {
		if !ranked[i].Active && ranked[i].Eligible && (hard.kind != TriggerNone || !s.threatHold(ranked[i].Profile, now)) {
			best = &ranked[i]
			break
		}
	}
	var act Score
	for _, sc := range s.scores {
		if sc.Active {
			act = sc
		}
	}
	ref := s.recentBest(now, act)
	if hard.kind == TriggerNone && best != nil && s.active != "" && best.Total >= ref+margin(pol.Thresholds) {
		soft.kind = TriggerSoft
		soft.reasons = append(soft.reasons, reason(CodeBetterProfile, "%q scores %.1f against %.1f (margin %.1f)",
			best.Profile, best.Total, act.Total, margin(pol.Thresholds)))
	}
	t := hard
	if t.kind == TriggerNone {
		t = soft
	}
	if t.kind == TriggerNone {
		s.failBackCheck(ctx, now)
		return
	}
	stay := func(kind Kind, extra ...Reason) {
		rs := append(slices.Clone(t.reasons), extra...)
		wn := map[string][]Reason{}
		if best != nil {
			wn[best.Profile] = extra
		}
		s.record(now, Decision{Kind: kind, From: s.active, To: s.active, Trigger: t.kind, Reasons: rs,
			WhyNot: whyNot(ranked, s.active, wn)}, true)
	}

	if s.cfg.SIM.Method == profiles.MethodAutonomous {
		stay(KindStay, reason(CodeAutonomous, "the applet selects the IMSI; imsid only observes"))
		return
	}
	if s.suspended {
		stay(KindSuspend, reason(CodeSuspended, "jamming: changing profile would not help"))
		return
	}
	if s.pin != nil && s.pin.Profile == s.active {
		override := pol.CriticalOverridesPin && slices.ContainsFunc(t.reasons, func(r Reason) bool { return r.Code == CodeThreatCritical })
		if !override {
			stay(KindHold, reason(CodePinned, "pinned to %q", s.pin.Profile))
			return
		}
		s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerThreat,
			Reasons: []Reason{reason(CodePinned, "Critical threat overrides the pin on %q", s.pin.Profile)}}, false)
		s.pin = nil
		s.fire(EvUnpin)
	}
	if best == nil {
		if hard.kind == TriggerHard && (!s.obs.registered || s.probeFails >= pol.Probes.FailuresToDown || s.active == "") {
			s.record(now, Decision{Kind: KindFail, From: s.active, Trigger: t.kind,
				Reasons: append(slices.Clone(t.reasons), reason(CodeExhausted, "no eligible profile to switch to")),
				WhyNot:  whyNot(ranked, "", nil)}, true)
			s.fire(EvExhausted)
			s.armBackoff(now)
			return
		}
		// A threat with nowhere to go: stay (restricted mode), never offline.
		stay(KindStay, reason(CodeExhausted, "no eligible profile to switch to"))
		return
	}
	if ok, at := s.budget.allow(now, pol.SwitchCap.Max, pol.SwitchCap.Window.Std()); !ok {
		stay(KindStay, reason(CodeSwitchCap, "%d switches per %s used; next allowed at %s", pol.SwitchCap.Max,
			pol.SwitchCap.Window, at.UTC().Format(time.RFC3339)))
		return
	}
	if hard.kind == TriggerNone && !s.lastSwitch.IsZero() && now.Sub(s.lastSwitch) < pol.MinDwell.Std() {
		stay(KindStay, reason(CodeDwell, "on %q since %s; minimum dwell %s", s.active,
			s.lastSwitch.UTC().Format(time.RFC3339), pol.MinDwell))
		return
	}
	if hard.kind == TriggerNone && !s.checkTarget(ctx, now, best.Profile) {
		if ctx.Err() != nil {
			return
		}
		stay(KindStay, reason(CodeNotInScan, "%q: no allowed network in a fresh scan", best.Profile))
		return
	}
	if ctx.Err() != nil {
		return // the scan was cut short by shutdown: decide nothing on it
	}
	s.beginSwitch(ctx, now, best.Profile, t.kind, t.reasons, ranked)
}

// checkTarget refreshes a stale scan before a soft switch and re-checks the
// target against it: a soft trigger is worth a scan, a hard one is not.
func (s *Switcher) checkTarget(ctx context.Context, now time.Time, target string) bool {
	if !s.scanAt.IsZero() && now.Sub(s.scanAt) < scanMaxAge {
		return true
	}
	if !s.rescan(ctx, now) {
		// No scan (unsupported, busy): judge on history; verify protects
		// us. A scan cut short by shutdown decides nothing.
		return ctx.Err() == nil
	}
	for _, sc := range s.scores {
		if sc.Profile == target {
			return sc.Eligible
		}
	}
	return false
}

// scanTimeout bounds a +COPS=? scan: modems document up to 180 s.
const scanTimeout = 3 * time.Minute

// rescan runs a network scan and rescores on it. The scan holds the modem
// for tens of seconds; the time it describes is when it finished.
func (s *Switcher) rescan(ctx context.Context, now time.Time) bool {
	c, cancel := context.WithTimeout(ctx, scanTimeout)
	defer cancel()
	nets, err := s.m.Scan(c)
	if err != nil {
		return false
	}
	s.scan, s.scanAt = nets, laterOf(now, s.clock.Now())
	for i := range s.cfg.Profiles {
		if p := &s.cfg.Profiles[i]; p.Name != s.active && len(s.availableInScan(p)) > 0 {
			s.seenInScan[p.Name] = s.scanAt
		}
	}
	s.scores = s.scoreAll(now)
	return true
}

// waitsForNetwork reports whether p was left because its network was gone
// (no service) within departureTTL and no scan since has seen it back.
func (s *Switcher) waitsForNetwork(p string, now time.Time) bool {
	left, ok := s.departed[p]
	return ok && s.leftGone[p] && now.Sub(left) < departureTTL && !s.seenInScan[p].After(left)
}

// failBackCheck scans for a cheaper profile that is not usable now (left
// on a hard trigger, or barred by an older scan), once min_dwell has passed
// since the last switch, then every fail_back.scan_every, doubling up to
// fail_back.max while the scans do not see it. A scan that does see it
// clears the penalty for having left it, so the score decides at once.
func (s *Switcher) failBackCheck(ctx context.Context, now time.Time) {
	fb := s.cfg.Policy.FailBack
	if fb.ScanEvery <= 0 || s.active == "" || s.lc.Current() != StateConnected || s.pin != nil || s.suspended ||
		s.cfg.SIM.Method == profiles.MethodAutonomous {
		return
	}
	if !s.lastSwitch.IsZero() && now.Sub(s.lastSwitch) < s.cfg.Policy.MinDwell.Std() {
		return
	}
	act := s.cfg.Profile(s.active)
	if act == nil {
		return
	}
	var waiting []string
	for _, sc := range s.scores {
		p := s.cfg.Profile(sc.Profile)
		if sc.Active || p == nil || effectivePerMB(p) >= effectivePerMB(act) {
			continue
		}
		if _, q := s.quar.active(now, profileKey(p.Name)); q || s.allPLMNsAvoided(p, now) {
			continue
		}
		if s.waitsForNetwork(p.Name, now) {
			waiting = append(waiting, p.Name)
		}
	}
	if len(waiting) == 0 {
		s.fbEvery, s.fbNext = 0, time.Time{}
		return
	}
	if now.Before(s.fbNext) {
		return
	}
	ok := s.rescan(ctx, now)
	if ctx.Err() != nil {
		return
	}
	// The scan held the modem (and this loop) for its whole length; the
	// next one waits at least twice that, so scanning never takes more
	// than a third of the modem's time, however slow its scans are.
	end := s.clock.Now()
	took := end.Sub(now)
	seen := ok && slices.ContainsFunc(waiting, func(name string) bool { return !s.waitsForNetwork(name, now) })
	switch {
	case seen:
		s.fbEvery = 0
	case s.fbEvery == 0:
		s.fbEvery = fb.ScanEvery.Std()
	default:
		// A failed scan backs off like one that did not see the profile.
		s.fbEvery = min(2*s.fbEvery, fb.Max.Std())
	}
	s.fbNext = end.Add(max(s.fbEvery, fb.ScanEvery.Std(), 2*took))
	s.log.Debug("switcher: fail-back scan", "waiting", waiting, "ok", ok, "seen", seen, "took", took, "next", s.fbNext)
}

func (s *Switcher) armBackoff(now time.Time) {
	if s.failBackoff == 0 {
		s.failBackoff = failBackoffMin
	} else {
		s.failBackoff = min(2*s.failBackoff, failBackoffMax)
	}
	s.failedUntil = now.Add(s.failBackoff)
}

// failedStep waits out the back-off, then cycles the radio (if no applet
// might be rotating) and starts over.
func (s *Switcher) failedStep(ctx context.Context, now time.Time, reqs []manualReq) {
	for _, rq := range reqs {
		if s.manual(ctx, now, rq, s.rank(s.scores)) {
			return
		}
	}
	if now.Before(s.failedUntil) {
		return
	}
	if s.resetAllowed(now) {
		c, cancel := s.step(ctx)
		_ = s.m.SetFunctionality(c, 0)
		_ = s.m.SetFunctionality(c, 1)
		cancel()
		s.rec.CFUN++
		s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnCFUN})
	}
	s.record(now, Decision{Kind: KindRecover, From: s.active, To: s.active, Trigger: TriggerHard,
		Reasons: []Reason{reason(CodeExhausted, "retrying after %s back-off", s.failBackoff)}}, false)
	s.fire(EvRetry)
}
