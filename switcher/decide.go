package switcher

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/imsid/imsid/modem"
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

// activeAvoided reports whether the active profile or its serving network
// or cell is quarantined.
func (s *Switcher) activeAvoided(now time.Time) bool {
	if _, ok := s.quar.active(now, profileKey(s.active)); ok {
		return true
	}
	if p := s.obs.plmn(); !p.IsZero() {
		if _, ok := s.quar.active(now, PLMNKey(p)); ok {
			return true
		}
		if s.obs.serving != nil && s.obs.serving.CellID != nil {
			k := threat.CellKey{PLMN: p, CI: *s.obs.serving.CellID}
			if _, ok := s.quar.active(now, CellKey(k)); ok {
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
				if isBar(r.Code) {
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

// situation gathers what the steady-state rules look at (rules.go).
func (s *Switcher) situation(now time.Time, ranked []Score) situation {
	pol := s.cfg.Policy
	sit := situation{now: now, active: s.active, autonomous: s.cfg.SIM.Method == profiles.MethodAutonomous,
		registered: s.obs.registered, unknown: s.active == "", pin: s.pin, criticalOverridesPin: pol.CriticalOverridesPin,
		suspended: s.suspended, margin: margin(pol.Thresholds), selectRetry: s.selRefused.until}
	if d := now.Sub(s.noServiceSince); !s.noServiceSince.IsZero() && d >= pol.NoServiceTrigger.Std() && !s.stillAttaching(now) {
		r := reason(CodeNoService, "no service for %s", d.Round(time.Second))
		sit.noService = &r
	} else if !s.noServiceSince.IsZero() && s.lossEvidence >= lossEvidencePolls && d >= lossEvidenceMin {
		r := reason(CodeNoService, "no service for %s: %s", d.Round(time.Second), s.lossWhy)
		sit.noService = &r
	}
	if s.dataPathDead() {
		r := reason(CodeDataPathDead, "%d consecutive probe failures", s.probeFails)
		if s.stallFailed {
			r = reason(CodeDataPathDead, "received data stopped, then %d probe round(s) failed", s.probeFails)
		}
		sit.dataDead = &r
	} else if !s.noDataSince.IsZero() && now.Sub(s.noDataSince) >= noDataTrigger {
		r := reason(CodeNoDataSession, "registered for %s without a data session", now.Sub(s.noDataSince).Round(time.Second))
		sit.dataDead = &r
	}
	for _, sc := range s.scores {
		if !sc.Active {
			continue
		}
		sit.act = sc
		for _, r := range sc.Reasons {
			switch r.Code {
			case CodePLMNNotAllowed:
				r := r
				sit.offList = &r
			case CodeOverCap:
				r := reason(CodeCapReached, "%s", r.Message)
				sit.overCap = &r
			}
		}
	}
	if s.threatActs() && s.active != "" {
		sit.activeThreat = s.threatLevel(s.active)
		if sit.activeThreat == threat.SeverityCritical {
			sit.critical = true
		} else if s.threatRes.Response.Actions.Has(threat.ActLeaveNow) && s.activeAvoided(now) {
			r := reason(CodeThreatLeave, "threat response: leave the quarantined profile or network now")
			sit.leaveNow = &r
		}
	}
	sit.ref = s.recentBest(now, sit.act)
	if on := s.onSince(); !on.IsZero() {
		sit.dwellUntil = on.Add(pol.MinDwell.Std())
		sit.failBackUntil = on.Add(min(failBackDwell, pol.MinDwell.Std()))
	}
	if ok, at := s.budget.allow(now, pol.SwitchCap.Max, pol.SwitchCap.Window.Std()); !ok {
		sit.capRetry = at
	}
	for _, sc := range ranked {
		if sc.Active {
			continue
		}
		c := candidate{Score: sc, threat: s.threatLevel(sc.Profile)}
		c.absentStale = !sc.Eligible && len(liveBars(sc, now.Sub(s.scanAt))) == 0
		if p := s.cfg.Profile(sc.Profile); p != nil {
			c.deadNets = s.deadSince(p, now)
		}
		if p := s.cfg.Profile(sc.Profile); p != nil && len(p.MCCs) == 0 && len(p.PLMNs) > 0 && !s.obs.plmn().IsZero() {
			c.sameNet = true
			for _, x := range p.PLMNs {
				c.sameNet = c.sameNet && string(x) == s.obs.plmn().String()
			}
		}
		if d, ok := s.left[sc.Profile]; ok && now.Sub(d.At) < departureTTL {
			c.left = &d
			c.seenBack = s.seenAt[sc.Profile].After(d.At)
			if p := s.cfg.Profile(sc.Profile); d.Cause == departThreat && p != nil && !d.PLMN.IsZero() {
				// It can be held to another network than the one the
				// threat was met on (that one is quarantined).
				if w := s.steerWant(p, modem.PLMN{}, now); !w.IsZero() && w != d.PLMN {
					c.left = nil
				}
			}
		}
		sit.cands = append(sit.cands, c)
	}
	return sit
}

// steadyStep is the decision in registering/connected/degraded/held.
func (s *Switcher) steadyStep(ctx context.Context, now time.Time, reqs []manualReq) {
	s.lifecycleHealth(now)
	ranked := s.rank(s.scores)

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
	if s.releaseLostHold(ctx, now) || s.steerActive(ctx, now) {
		return
	}
	v := decide(s.situation(now, ranked))
	s.execute(ctx, now, v, ranked)
}

// execute carries out a verdict of the rules.
func (s *Switcher) execute(ctx context.Context, now time.Time, v verdict, ranked []Score) {
	s.setIsolated(ctx, v.act == actIsolate)
	wn := map[string][]Reason{}
	if v.best != "" {
		wn[v.best] = v.whyBest
	}
	stay := func(kind Kind) {
		s.record(now, Decision{Kind: kind, From: s.active, To: s.active, Trigger: v.trigger, Reasons: v.reasons,
			WhyNot: whyNot(ranked, s.active, wn)}, true)
	}
	switch v.act {
	case actNone:
		s.failBackCheck(ctx, now)
	case actStay, actIsolate:
		stay(KindStay)
	case actHold:
		stay(KindHold)
	case actSuspend:
		stay(KindSuspend)
	case actFail:
		s.record(now, Decision{Kind: KindFail, From: s.active, Trigger: v.trigger, Reasons: v.reasons,
			WhyNot: whyNot(ranked, "", nil)}, true)
		s.fire(EvExhausted)
		s.failedRegistered = s.obs.registered
		if s.active != "" {
			if s.lastFailed == nil {
				s.lastFailed = map[string]time.Time{}
			}
			s.lastFailed[s.active] = now
		}
		// Falling out of the steady state is a new episode: the back-off
		// doubles over failed retries, not over the episodes before (an
		// adoption after a retry the modem garbled, then the core still
		// dead, waited 2 min instead of 30 s: DST seed 8453).
		s.failBackoff = 0
		s.armBackoff(now, v.retryAt)
	case actSwitch:
		if v.scan > 0 && !s.checkTarget(ctx, now, v.to, v.scan) {
			if ctx.Err() != nil {
				return // the scan was cut short by shutdown: decide nothing on it
			}
			wn[v.to] = []Reason{reason(CodeNotInScan, "%q: no allowed network in a fresh scan", v.to)}
			v.reasons = append(v.reasons, wn[v.to]...)
			stay(KindStay)
			return
		}
		if ctx.Err() != nil {
			return
		}
		if v.dropPin && s.pin != nil {
			s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: v.trigger,
				Reasons: append(slices.Clone(v.reasons), reason(CodePinned, "the pin on %q yields to this", s.pin.Profile))}, false)
			s.pin = nil
			s.fire(EvUnpin)
		}
		s.beginSwitch(ctx, now, v.to, v.trigger, v.reasons, ranked)
	}
}

// checkTarget refreshes a scan older than within before a switch and
// re-checks the target against it: a soft trigger is worth a scan, and so
// is a hard one whose target's only evidence is an old scan.
func (s *Switcher) checkTarget(ctx context.Context, now time.Time, target string, within time.Duration) bool {
	if !s.scanAt.IsZero() && now.Sub(s.scanAt) < within {
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
			s.seenAt[p.Name] = s.scanAt
		}
	}
	s.scores = s.scoreAll(now)
	return true
}

// waitsForNetwork reports whether p was left because its network was gone
// (no service) within departureTTL and no scan since has seen it back.
func (s *Switcher) waitsForNetwork(p string, now time.Time) bool {
	d, ok := s.left[p]
	return ok && d.Cause == departGone && now.Sub(d.At) < departureTTL && !s.seenAt[p].After(d.At)
}

// failBackDwell is how long after a switch a cheaper profile, left because
// its network was gone and seen back in a scan, may be returned to: a short
// outage costs minutes on the dearer profile, not min_dwell.
const failBackDwell = 2 * time.Minute

// onSince is when the identity the SIM carries was last changed, by imsid
// (lastSwitch) or by anyone else (otherSwitch; not the identity found at
// start): min_dwell and the fail-back dwell count from it. An identity the carrier's OTA put in dwells like
// one imsid chose; imsid undid the carrier's change within a second for a
// cheaper profile, and each such fight cost the modem's refresh and attach
// (make bench ota-storm; TestSequenceOTAFlipDwells).
func (s *Switcher) onSince() time.Time { return laterOf(s.lastSwitch, s.otherSwitch) }

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
	if on := s.onSince(); !on.IsZero() && now.Sub(on) < min(failBackDwell, s.cfg.Policy.MinDwell.Std()) {
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

// armBackoff sets when the failed state retries: the back-off, or at if
// that is later (a refused selection's own back-off).
func (s *Switcher) armBackoff(now, at time.Time) {
	switch {
	case s.failBackoff == 0:
		s.failBackoff, s.roundTries = failBackoffMin, 0
	case s.roundTries+1 >= len(s.cfg.Profiles):
		// A round of retries has failed: one per profile.
		s.failBackoff, s.roundTries = min(2*s.failBackoff, failBackoffMax), 0
	default:
		s.roundTries++
	}
	next := now.Add(s.failBackoff)
	if lapse := s.barLapse(now); !lapse.IsZero() && lapse.Before(next) {
		// Wake when a bar on a candidate lapses, not up to a back-off
		// later: the bound on getting data back depends on it.
		next = laterOf(lapse, now.Add(failBackoffMin))
	}
	s.failedUntil = laterOf(next, at)
}

// barLapse is the earliest future instant at which a profile kept out of
// a liveness retry by time alone may be entered: a dead-core departure or
// dead networks reaching deadCoreLiveRetry, or a quarantine ending. Zero
// if none.
func (s *Switcher) barLapse(now time.Time) time.Time {
	var out time.Time
	at := func(t time.Time) {
		if t.After(now) && (out.IsZero() || t.Before(out)) {
			out = t
		}
	}
	for i := range s.cfg.Profiles {
		p := &s.cfg.Profiles[i]
		if p.Name == s.active {
			continue
		}
		if d, ok := s.left[p.Name]; ok && d.Cause == departDeadCore {
			at(d.At.Add(deadCoreLiveRetry))
		}
		if d := s.deadSince(p, now); !d.IsZero() {
			at(d.Add(deadCoreLiveRetry))
		}
		if e, ok := s.quar.active(now, profileKey(p.Name)); ok {
			at(e.Until)
		}
	}
	return out
}

// failedStep waits out the back-off, then starts over. Service that comes
// back by itself on a configured profile ends the wait at once. At the end
// of the wait a profile quarantined only for a failed switch is tried as a
// last resort (the device is offline: trying costs nothing it has), and
// the radio is cycled only if the modem has no service at all: never on a
// working link.
func (s *Switcher) failedStep(ctx context.Context, now time.Time, reqs []manualReq) {
	for _, rq := range reqs {
		if s.manual(ctx, now, rq, s.rank(s.scores)) {
			return
		}
	}
	if s.releaseLostHold(ctx, now) {
		return
	}
	back := s.obs.registered && s.active != "" && !s.failedRegistered
	if now.Before(s.failedUntil) && !back {
		return
	}
	if !back && s.cfg.SIM.Method != profiles.MethodAutonomous && !s.selRefused.until.After(now) {
		// Offline, a scan costs nothing and is the evidence the retry
		// needs: which profiles' networks are there now.
		// The scan holds the modem for tens of seconds: the next tick
		// decides on it, at its own time.
		if s.scanAt.IsZero() || now.Sub(s.scanAt) >= absentMaxAge {
			if s.rescan(ctx, now) || ctx.Err() != nil {
				return
			}
		}
		// Strongest evidence first: a profile the liveness rule may enter
		// with nothing against it, then one kept out only by a failed
		// switch whose network the scan sees, then one left for a lost
		// network or a dead core that only time may have cured, then any
		// kept out only by a failed switch.
		ranked := s.rank(s.scores)
		sit := s.situation(now, ranked)
		try := func(c string) bool {
			if c == "" {
				return false
			}
			s.beginSwitch(ctx, now, c, TriggerHard, []Reason{reason(CodeExhausted, "retrying: %q may serve again", c)}, ranked)
			return true // tried, whatever came of it: one attempt per retry
		}
		if c, _ := pickPass(sit, classLiveness, true); try(c) {
			return
		}
		if s.lastResort(ctx, now, true) {
			return
		}
		if c, _ := pickPass(sit, classLiveness, false); try(c) {
			return
		}
		if s.lastResort(ctx, now, false) {
			return
		}
	}
	if !back {
		if !s.obs.registered && s.resetAllowed(now) {
			c, cancel := s.step(ctx)
			_ = s.m.SetFunctionality(c, 0)
			_ = s.m.SetFunctionality(c, 1)
			cancel()
			s.rec.CFUN++
			s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnCFUN})
		}
	}
	why := reason(CodeExhausted, "retrying after %s back-off", s.failBackoff)
	if back {
		why = reason(CodeExhausted, "service is back on %q", s.active)
	}
	s.record(now, Decision{Kind: KindRecover, From: s.active, To: s.active, Trigger: TriggerHard, Reasons: []Reason{why}}, false)
	if !s.pdpUp {
		// A retry is a new attempt on the profile: its data session is
		// tried at once and gets the whole no-data window again, rather
		// than failing on the PDP back-off and the timer of the attempt
		// that failed (a core back on the same registration was never
		// asked again: DST seed 5304).
		s.down()
	}
	s.fire(EvRetry)
}

// lastResort switches to a profile that is kept out only by a quarantine
// for a failed switch (never one for a threat, nor a profile left on a
// threat): the one whose last failure is oldest, best-ranked first among
// equals, so that repeated last resorts take turns rather than retrying
// the same dead profile while another was never tried again.
// With seen, only a profile whose network a fresh scan saw.
func (s *Switcher) lastResort(ctx context.Context, now time.Time, seen bool) bool {
	if s.cfg.SIM.Method == profiles.MethodAutonomous || s.selRefused.until.After(now) {
		return false
	}
	fresh := !s.scanAt.IsZero() && now.Sub(s.scanAt) < absentMaxAge
	ranked := s.rank(s.scores)
	var best string
	var bestQ *QuarantineEntry
	for _, sc := range ranked {
		if sc.Active || sc.Eligible {
			continue
		}
		if p := s.cfg.Profile(sc.Profile); seen && (p == nil || !fresh || len(s.availableInScan(p)) == 0) {
			continue
		}
		if d, ok := s.left[sc.Profile]; ok && d.Cause == departThreat && now.Sub(d.At) < departureTTL {
			continue
		}
		onlyQuar := slices.Equal(liveBars(sc, now.Sub(s.scanAt)), []Code{CodeQuarantined})
		e, q := s.quar.active(now, profileKey(sc.Profile))
		if !onlyQuar || !q || e.Reason.Code == "" || strings.HasPrefix(string(e.Reason.Code), "threat_") {
			continue
		}
		if best == "" || s.failedAt(sc.Profile, e).Before(s.failedAt(best, bestQ)) {
			best, bestQ = sc.Profile, e
		}
	}
	if best == "" {
		return false
	}
	if !s.beginSwitch(ctx, now, best, TriggerHard, []Reason{
		reason(CodeExhausted, "no eligible profile"),
		reason(CodeQuarantined, "trying %q, quarantined until %s for a failed switch, as a last resort", best, bestQ.Until.UTC().Format(time.RFC3339)),
	}, ranked) {
		return false
	}
	s.flight.lastResort = true
	return true
}

// failedAt is when profile last failed to carry data: its quarantine's
// start or its last fall into failed as the active profile, the later.
func (s *Switcher) failedAt(profile string, e *QuarantineEntry) time.Time {
	return laterOf(e.Since, s.lastFailed[profile])
}

// lastResortYields reports the profile a last-resort attempt should give
// way to ("" if none): one the liveness rule may enter now (a bar that
// kept it out lapsed), while the target has not registered where it may
// carry data. A last resort is tried because nothing better was there;
// once something is, its premise is gone (DST seed 6136: a last resort
// started 2 s before the profile whose dead core had recovered could be
// entered again, and held the device for its 3 min verify window).
func (s *Switcher) lastResortYields(now time.Time) string {
	fl := s.flight
	if !fl.lastResort || s.onAllowedNetwork() {
		return ""
	}
	sit := s.situation(now, s.rank(s.scores))
	sit.critical, sit.leaveNow = false, nil
	sit.cands = slices.DeleteFunc(sit.cands, func(c candidate) bool {
		return c.Profile == fl.from || c.Profile == s.active || slices.Contains(fl.passed, c.Profile)
	})
	next, _ := pick(sit, classLiveness)
	return next
}
