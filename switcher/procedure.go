package switcher

import (
	"context"
	"slices"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher/threat"
)

func (s *Switcher) selector(p *profiles.Profile) Selector {
	sel := Selector{Method: s.cfg.SIM.Method, ICCID: p.ICCID, Applet: s.cfg.SIM.Applet, Refresh: s.cfg.SIM.EUICC.Refresh}
	if p.Index != nil {
		sel.Index = *p.Index
	}
	if p.Slot != nil {
		sel.Slot = *p.Slot
	}
	return sel
}

// beginSwitch is check → switch: journal the intent, select the profile
// and start the verify deadline.
func (s *Switcher) beginSwitch(ctx context.Context, now time.Time, to string, t Trigger, why []Reason, ranked []Score) bool {
	p := s.cfg.Profile(to)
	if p == nil || ctx.Err() != nil {
		return false
	}
	s.seq++
	in := Intent{Seq: s.seq, At: now, From: s.active, To: to, Trigger: t, Reasons: slices.Clone(why)}
	if s.opt.journal != nil {
		c, cancel := s.step(ctx)
		err := s.opt.journal.Intent(c, in)
		cancel()
		if err != nil {
			// Without the intent a restart could not reconcile: do not act.
			s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: t,
				Reasons: append(slices.Clone(why), reason(CodeBusy, "journal: %v", err))}, true)
			return false
		}
	}
	s.pending = &in
	s.record(now, Decision{Kind: KindSwitch, From: s.active, To: to, Trigger: t, Reasons: why, Scores: ranked,
		WhyNot: whyNot(ranked, to, nil)}, false)
	s.fire(EvSwitch)
	s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnSwitchStarted})
	if t != TriggerNone {
		s.budget.record(now)
	}
	s.lastSwitch = now
	if t == TriggerHard || t == TriggerThreat {
		s.departed[s.active] = now
		// Left because its network was gone: a scan can tell when it is
		// back. Any other cause (dead core, threat) only time can clear.
		// A network that refuses the identity itself is there: seeing it
		// in a scan proves nothing.
		s.leftGone[s.active] = slices.ContainsFunc(why, func(r Reason) bool { return r.Code == CodeNoService }) && !s.obs.identityRefused()
		s.leftThreat[s.active] = t == TriggerThreat
	}
	// The new profile's traffic is not compared with the old one's.
	s.traffic = traffic{unsupported: s.traffic.unsupported}
	s.prev, s.active = s.active, to
	s.deadline = now.Add(s.cfg.Policy.VerifyDeadline.Std())
	s.pdpUp, s.pdpTried, s.probeFails = false, false, 0
	s.verifyWhy = reason(CodeVerifyFailed, "not verified yet")
	return s.selectProfile(ctx, now, p, false)
}

func (s *Switcher) selectProfile(ctx context.Context, now time.Time, p *profiles.Profile, rollback bool) bool {
	c, cancel := s.step(ctx)
	err := s.m.SelectProfile(c, s.selector(p))
	cancel()
	switch classify(err) {
	case healthLost:
		s.toModemLost(now, reason(CodeModemLost, "port lost while selecting %q", p.Name))
		return false
	case healthSick:
		// A hung modem is not a bad profile: recover, then reconcile.
		s.enterRecovery(now, reason(CodeModemSick, "modem timed out selecting %q", p.Name))
		return false
	}
	if err != nil && ctx.Err() != nil {
		// Cut short by shutdown: the SIM may or may not have switched. The
		// journal holds the intent without an outcome, so the next start
		// reconciles with what the SIM carries; nothing is quarantined.
		return false
	}
	if err != nil {
		s.verifyWhy = reason(CodeVerifyFailed, "selecting %q failed: %v", p.Name, err)
		if !rollback {
			s.failTarget(ctx, now)
		} else {
			s.rollbackFailed(ctx, now)
		}
		return false
	}
	if !rollback {
		s.fire(EvSwitched)
	}
	return true
}

// verified checks the active profile against the verify conditions.
func (s *Switcher) verified(ctx context.Context, now time.Time) (bool, Reason) {
	p := s.cfg.Profile(s.active)
	if p == nil {
		return false, reason(CodeUnknownProfile, "profile %q is gone", s.active)
	}
	if s.obs.imsi == "" && s.obs.iccid == "" {
		return false, reason(CodeVerifyFailed, "identity not readable yet")
	}
	if !s.matches(p) {
		return false, reason(CodeVerifyFailed, "SIM still reports IMSI %s / ICCID %s", s.obs.imsi, s.obs.iccid)
	}
	if !s.obs.registered {
		return false, reason(CodeVerifyFailed, "not registered")
	}
	plmn := s.obs.plmn()
	if plmn.IsZero() || !p.AllowsPLMN(profiles.PLMN(plmn.String())) {
		return false, reason(CodeVerifyFailed, "registered on %q, not on the allowlist", plmn.String())
	}
	if tech := s.obs.tech(); tech != modem.TechUnknown && !allowsTech(p, tech) {
		return false, reason(CodeVerifyFailed, "registered on %s, not an allowed RAT", tech)
	}
	s.ensureData(ctx, now)
	if !s.pdpUp {
		return false, reason(CodeVerifyFailed, "no PDP address")
	}
	if !s.probe(ctx, now) {
		return false, reason(CodeVerifyFailed, "data probe failed")
	}
	return true, Reason{}
}

// ratTechs maps a profile RAT to the modem technologies it covers.
func ratTechs(r profiles.RAT) []modem.Tech {
	switch r {
	case profiles.RATGSM:
		return []modem.Tech{modem.TechGSM}
	case profiles.RATUMTS:
		return []modem.Tech{modem.TechUMTS}
	case profiles.RATLTE:
		return []modem.Tech{modem.TechLTE}
	case profiles.RATLTEM:
		return []modem.Tech{modem.TechLTEM}
	case profiles.RATNBIoT:
		return []modem.Tech{modem.TechNBIoT}
	case profiles.RATNR:
		return []modem.Tech{modem.TechNR5G, modem.TechNR5GNSA}
	}
	return nil
}

func allowsTech(p *profiles.Profile, t modem.Tech) bool {
	for _, r := range p.RATs {
		if slices.Contains(ratTechs(r), t) {
			return true
		}
	}
	return false
}

// verifyStep advances switching/verifying/rolling_back by one tick.
func (s *Switcher) verifyStep(ctx context.Context, now time.Time, rollback bool) {
	ok, why := s.verified(ctx, now)
	if !ok && ctx.Err() != nil {
		return // cut short by shutdown, not a failed check
	}
	if ok {
		s.probeFails = 0
		if rollback {
			r := reason(CodeRolledBack, "rolled back to %q", s.active)
			s.record(now, Decision{Kind: KindVerified, From: s.prev, To: s.active, Trigger: TriggerHard, Reasons: []Reason{r}}, false)
			s.fire(EvRolledBack)
			s.finishJournal(ctx, now, false, r, s.active)
		} else {
			r := reason(CodeActive, "%q verified: identity, allowed network, PDP address, probe", s.active)
			s.record(now, Decision{Kind: KindVerified, From: s.prev, To: s.active, Reasons: []Reason{r}}, false)
			s.fire(EvVerified)
			s.finishJournal(ctx, now, true, r, s.active)
		}
		s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnSwitchFinished})
		return
	}
	s.verifyWhy = why
	if now.Before(s.deadline) {
		return
	}
	if rollback {
		s.rollbackFailed(ctx, now)
		return
	}
	s.failTarget(ctx, now)
}

// failTarget quarantines the target that did not verify and rolls back.
func (s *Switcher) failTarget(ctx context.Context, now time.Time) {
	target := s.active
	q := s.cfg.Policy.Quarantine
	e := s.quar.add(now, profileKey(target), q.Base.Std(), q.Max.Std(), s.verifyWhy)
	s.failures[target] = append(s.failures[target], now)
	s.pruneFailures(now)
	s.fire(EvVerifyFailed)
	s.record(now, Decision{Kind: KindRollback, From: target, To: s.prev, Trigger: TriggerHard,
		Reasons: []Reason{s.verifyWhy, reason(CodeQuarantined, "%q quarantined until %s (#%d)", target,
			e.Until.UTC().Format(time.RFC3339), e.Count)}}, false)
	if s.prev == "" || s.cfg.Profile(s.prev) == nil {
		s.rollbackFailed(ctx, now)
		return
	}
	s.prev, s.active = target, s.prev
	s.deadline = now.Add(s.cfg.Policy.VerifyDeadline.Std())
	s.pdpUp, s.pdpTried, s.probeFails = false, false, 0
	s.selectProfile(ctx, now, s.cfg.Profile(s.active), true)
}

func (s *Switcher) rollbackFailed(ctx context.Context, now time.Time) {
	r := reason(CodeRollbackFailed, "neither the target nor %q came up: %s", s.active, s.verifyWhy.Message)
	s.record(now, Decision{Kind: KindFail, From: s.prev, To: s.active, Trigger: TriggerHard, Reasons: []Reason{r}}, false)
	s.fire(EvRollbackFailed)
	s.armBackoff(now)
	s.finishJournal(ctx, now, false, r, "")
	s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnSwitchFinished})
}

func (s *Switcher) pruneFailures(now time.Time) {
	for k, v := range s.failures {
		v = slices.DeleteFunc(v, func(t time.Time) bool { return now.Sub(t) >= historyTTL })
		if len(v) == 0 {
			delete(s.failures, k)
		} else {
			s.failures[k] = v
		}
	}
}

func (s *Switcher) finishJournal(ctx context.Context, now time.Time, ok bool, r Reason, active string) {
	if s.pending == nil {
		return
	}
	out := Outcome{Seq: s.pending.Seq, At: now, Active: active, OK: ok, Reason: r}
	if s.opt.journal != nil {
		c, cancel := s.step(ctx)
		if err := s.opt.journal.Outcome(c, out); err != nil {
			s.log.Warn("switcher: journal outcome", "err", err)
		}
		cancel()
	}
	if ok {
		s.failBackoff = 0
	}
	s.pending = nil
}
