package switcher

import (
	"context"
	"errors"
	"maps"
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

// inFlight is what a switch under way remembers of where it started: an
// aborted selection restores it, a refused target fails forward from it.
type inFlight struct {
	from, prev   string // active and previous profile before the switch
	imsi         modem.IMSI
	iccid        modem.ICCID
	trigger      Trigger
	left         departure // from's departure record before this switch
	hadLeft      bool
	denied       int       // verify polls in a row that saw the target refused
	deniedAt     time.Time // the first of them
	registeredAt time.Time // first verify poll that saw the target registered
	forward      bool
	firstAttempt time.Time
	// steer is the network from was held to (zero: automatic or unknown):
	// a rollback restores it rather than choosing anew.
	steer modem.PLMN
	// carried: from was carrying data when the switch began. Going back
	// to a profile that was not (a retry out of failed, a dead core) buys
	// a verify window and nothing else.
	carried bool
	// passed: targets of this switch that failed without blame (failTarget);
	// failing forward does not try them again.
	passed []string
	// lastResort: the target was tried only because nothing else could be
	// (lastResort); it gives way to a profile that can (lastResortYields).
	lastResort bool
	// scanned: this switch scanned to steer its target (steerTarget).
	scanned bool
	// misplaced: the first verify poll of a run that saw the target
	// registered on a network or RAT it may not use (zero: none).
	misplaced time.Time
	// seen: a verify poll of this run read the target's identity on the
	// SIM; another identity after that was put in by someone else
	// (changedUnder).
	seen bool
}

// due lists the instants at which the verification's own judgement of its
// target changes, for Run to tick at (nextDue), not at the next poll after
// them: a refusal read once is confirmed by the next poll, held a URC gap
// after the first (a second read at once could still be the previous
// identity's registration, read across the refresh), or lossEvidenceMin
// after it for another operator's reject (verified); a target registered
// where it may not carry data is refused misplacedFor after it was first
// seen there; a registered target is given verifyDataGrace to bring data
// up. The verify window itself is s.deadline.
func (fl *inFlight) due() []time.Time {
	var out []time.Time
	if fl.denied == 1 {
		out = append(out, fl.deniedAt.Add(urcGap), fl.deniedAt.Add(lossEvidenceMin))
	}
	if !fl.misplaced.IsZero() {
		out = append(out, fl.misplaced.Add(misplacedFor))
	}
	if !fl.registeredAt.IsZero() {
		out = append(out, fl.registeredAt.Add(verifyDataGrace))
	}
	return out
}

// beginSwitch is check → switch: journal the intent, select the profile
// and start the verify deadline.
func (s *Switcher) beginSwitch(ctx context.Context, now time.Time, to string, t Trigger, why []Reason, ranked []Score) bool {
	p := s.cfg.Profile(to)
	if p == nil || ctx.Err() != nil {
		return false
	}
	fl := inFlight{from: s.active, prev: s.prev, imsi: s.obs.imsi, iccid: s.obs.iccid, trigger: t, firstAttempt: now,
		carried: s.pdpUp && !s.dataPathDead() && s.lc.Current() != StateFailed}
	if s.steerKnown {
		fl.steer = s.steer
	}
	fl.left, fl.hadLeft = s.left[s.active]
	if s.pin != nil && s.pin.Profile != to && (t == TriggerHard || t == TriggerThreat) {
		// Liveness and safety override a pin (the rules' dropPin): say so
		// rather than leave a pin on a profile no longer carried.
		s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: t,
			Reasons: append(slices.Clone(why), reason(CodePinned, "the pin on %q yields to this", s.pin.Profile))}, false)
		s.pin = nil
		s.fire(EvUnpin)
	}
	if st := s.lc.Current(); st == StateSwitching || st == StateVerifying {
		// Failing forward: the switch still starts from where the first
		// attempt left.
		fl = s.flight
		fl.denied, fl.forward, fl.registeredAt, fl.lastResort, fl.misplaced, fl.seen = 0, true, time.Time{}, false, time.Time{}, false
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
	if fl.forward {
		s.fire(EvFailForward)
	} else {
		s.fire(EvSwitch)
	}
	s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnSwitchStarted})
	switch t {
	case TriggerNone:
	case TriggerManual:
		s.opBudget.record(now)
	default:
		s.budget.record(now)
	}
	s.lastSwitch = now
	s.attaching = false // this switch's target has its own verify window
	if t == TriggerHard || t == TriggerThreat {
		// Left because its network was gone: a scan can tell when it is
		// back. Any other cause (dead core, threat) only time can clear.
		// A network that refuses the identity itself is there: seeing it
		// in a scan proves nothing.
		has := func(c Code) bool { return slices.ContainsFunc(why, func(r Reason) bool { return r.Code == c }) }
		cause := departOther
		switch {
		case has(CodeThreatCritical):
			// A Critical threat is left for an hour whatever else happens:
			// nothing seen from elsewhere says the attacker left. A
			// quarantined scope (leave_now) is avoided for as long as its
			// quarantine says.
			cause = departThreat
		case has(CodeDataPathDead) || has(CodeNoDataSession):
			cause = departDeadCore
		case has(CodeNoService) && (s.obs.identityRefused() || s.refusedByOwnNetwork()):
			// The network is there and said no: a scan that sees it says
			// nothing about whether it would say yes now.
			cause = departRefused
		case has(CodeNoService):
			cause = departGone
		}
		s.left[s.active] = departure{At: now, Cause: cause, PLMN: s.obs.plmn()}
		if cause == departThreat && s.threatRes != nil {
			// The networks the Critical threat was met on are avoided for
			// the hour by every profile that could use them: steering
			// keeps a profile with other networks off them.
			for _, a := range s.threatRes.PLMNs {
				if k := QuarantineKey(a.Scope); a.Level == threat.SeverityCritical && k.Kind() == QuarantinePLMN {
					s.quar.add(now, k, departureTTL, departureTTL, reason(CodeThreatCritical, "left on a Critical threat"))
				}
			}
		}
	}
	// The new profile's traffic is not compared with the old one's.
	s.traffic = traffic{unsupported: s.traffic.unsupported}
	s.prev, s.active = s.active, to
	if fl.forward {
		s.prev = fl.from
	}
	s.flight = fl
	s.deadline = now.Add(s.cfg.Policy.VerifyDeadline.Std())
	s.dataPath.down()
	s.verifyWhy = reason(CodeVerifyFailed, "not verified yet")
	return s.selectProfile(ctx, now, p, false)
}

func (s *Switcher) selectProfile(ctx context.Context, now time.Time, p *profiles.Profile, rollback bool) bool {
	c, cancel := s.step(ctx)
	if !s.opt.externalData {
		// The attach after the refresh brings up the default bearer with
		// context 1's APN: define the target's before, so it attaches with
		// the right one and data needs no second round.
		if err := s.m.DefinePDP(c, s.pdpSpec(p)); err != nil && classify(err) == healthOK {
			s.log.Debug("switcher: pre-define PDP", "profile", p.Name, "err", err)
		}
	}
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
		if !rollback && s.unchanged(ctx) {
			s.abortSwitch(ctx, now, p.Name, err)
			return false
		}
		if !rollback {
			// An answer the driver could not read (a late or garbled
			// reply: the channel was out of step) says nothing about the
			// target; a refusal from the card or modem does.
			excuse := ""
			if errors.Is(err, modem.ErrParse) {
				excuse = "the modem's answer could not be read"
			}
			s.failTarget(ctx, now, excuse)
		} else {
			s.rollbackFailed(ctx, now)
		}
		return false
	}
	s.selRefused.ok()
	// Where the profile may use several networks, keep the modem off the
	// ones it must not use; otherwise selection is automatic.
	want := modem.PLMN{}
	if held := s.flight.steer; rollback && p.Name == s.flight.from && !held.IsZero() && !s.netAvoided(held, now) {
		want = held // back to what carried it before, not a new guess
	} else if s.needsSteer(p, modem.PLMN{}, now) {
		want = s.steerWant(p, modem.PLMN{}, now)
	}
	s.applySteer(ctx, p.Name, want)
	if !rollback {
		s.fire(EvSwitched)
	}
	return true
}

// unchanged reports whether the SIM still carries the identity the switch
// started from: a selection refused before anything changed.
func (s *Switcher) unchanged(ctx context.Context) bool {
	if s.flight.imsi == "" && s.flight.iccid == "" {
		return false
	}
	c, cancel := s.step(ctx)
	defer cancel()
	imsi, err := s.m.IMSI(c)
	if err != nil || imsi != s.flight.imsi {
		return false
	}
	if s.flight.iccid != "" {
		if iccid, err := s.m.ICCID(c); err != nil || iccid != s.flight.iccid {
			return false
		}
	}
	return true
}

// abortSwitch undoes a switch the modem or card refused before anything
// changed. The target is not to blame (a foreign card without the applet,
// a modem refusing +CCHO): nothing is quarantined, the link was never
// down, and the radio is left alone. Selections back off instead.
func (s *Switcher) abortSwitch(ctx context.Context, now time.Time, target string, err error) {
	fl := s.flight
	s.active, s.prev = fl.from, fl.prev
	if fl.hadLeft {
		s.left[fl.from] = fl.left
	} else {
		delete(s.left, fl.from)
	}
	s.selRefused.refused(now)
	r := reason(CodeSelectRefused, "selecting %q was refused before anything changed (%v); no profile is blamed, next selection after %s",
		target, err, s.selRefused.until.UTC().Format(time.RFC3339))
	s.record(now, Decision{Kind: KindStay, From: fl.from, To: fl.from, Trigger: fl.trigger, Reasons: []Reason{r}}, false)
	s.finishJournal(ctx, now, false, r, fl.from)
	s.pdpTried, s.probeFails, s.stallFailed = false, 0, false
	s.fire(EvAborted)
	s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnSwitchFinished})
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
		// A reject of the target itself (attachRefused), seen on two
		// polls in a row (one could be the previous identity's, read
		// across the refresh), ends verification at once. Another
		// operator's location reject ends it when it has stayed
		// lossEvidenceMin: the modem has tried every network in reach.
		if why := s.obs.rejected(); why != "" {
			if s.flight.denied == 0 {
				s.flight.deniedAt = now
			}
			s.flight.denied++
			if s.attachRefused() == "" && now.Sub(s.flight.deniedAt) < lossEvidenceMin {
				s.flight.denied = 1
			}
			return false, reason(CodeTargetRefused, "the network refused %q: %s", s.active, why)
		}
		s.flight.denied = 0
		return false, reason(CodeVerifyFailed, "not registered")
	}
	s.flight.denied = 0
	if s.flight.registeredAt.IsZero() {
		s.flight.registeredAt = now
	}
	plmn := s.obs.plmn()
	if !s.onAllowedNetwork() {
		why := reason(CodeVerifyFailed, "registered on %q, not on the allowlist", plmn.String())
		if tech := s.obs.tech(); !plmn.IsZero() && p.AllowsPLMN(profiles.PLMN(plmn.String())) {
			why = reason(CodeVerifyFailed, "registered on %s, not an allowed RAT", tech)
		} else if !s.flight.misplaced.IsZero() && s.steerTarget(ctx, now, p, plmn) {
			// Seen on a second poll: the first may be the previous
			// identity's registration, read across the refresh.
			s.flight.misplaced = time.Time{}
			return false, why
		}
		// Registered where it may not carry data, and still there a
		// while later: the modem chose (or was held to) that network and
		// will not move by itself. The first polls may still show the
		// previous identity's registration, read across the refresh.
		if s.flight.misplaced.IsZero() {
			s.flight.misplaced = now
		}
		if now.Sub(s.flight.misplaced) >= misplacedFor {
			s.flight.denied = 2
			return false, reason(CodeTargetRefused, "%q stayed %s", s.active, why.Message)
		}
		return false, why
	}
	s.flight.misplaced = time.Time{}
	s.ensureData(ctx, now)
	if !s.pdpUp {
		return false, s.dataRefused(now, "no PDP address")
	}
	if !s.probe(ctx, now) {
		return false, s.dataRefused(now, "data probe failed")
	}
	return true, Reason{}
}

// steerTarget holds a target the modem registered on a network outside its
// allowlist to an allowed one a scan saw, scanning once per switch if the
// last scan is stale: the modem's own selection picked a network the
// profile may not use, and would pick it again. It reports whether it
// steered.
func (s *Switcher) steerTarget(ctx context.Context, now time.Time, p *profiles.Profile, serving modem.PLMN) bool {
	if s.cfg.SIM.Method == profiles.MethodAutonomous || (len(p.MCCs) == 0 && len(p.PLMNs) <= 1) {
		return false
	}
	if (s.scanAt.IsZero() || now.Sub(s.scanAt) >= scanMaxAge) && !s.flight.scanned {
		s.flight.scanned = true
		if !s.rescan(ctx, now) {
			return false
		}
	}
	want := s.steerWant(p, serving, now)
	if want.IsZero() || (s.steerKnown && want == s.steer) || !s.applySteer(ctx, p.Name, want) {
		return false
	}
	s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerHard, Reasons: []Reason{
		reason(CodeSteered, "%q held to network %s while verifying: the modem registered it on %s, outside its allowlist", p.Name, want, serving)}}, false)
	return true
}

// misplacedFor is how long a target may stay registered on a network or
// RAT it may not use before verification ends at once (DST seed 7701: a
// target held to a network whose only cell had become 2G waited out its
// 3 min verify window while another network could have served).
const misplacedFor = 10 * time.Second

// onAllowedNetwork: registered on a network of the active profile's
// allowlist with a RAT it allows (an unknown RAT passes).
func (s *Switcher) onAllowedNetwork() bool {
	p := s.cfg.Profile(s.active)
	plmn := s.obs.plmn()
	if p == nil || !s.obs.registered || plmn.IsZero() || !p.AllowsPLMN(profiles.PLMN(plmn.String())) {
		return false
	}
	tech := s.obs.tech()
	return tech == modem.TechUnknown || allowsTech(p, tech)
}

// verifyDataGrace is how long a registered target gets to bring data up
// before its data path counts as refused and verification ends at once.
// PDP activation takes about a second (on LTE the default bearer comes
// with the attach), a probe round a few; the grace holds two activation
// attempts pdpRetryBase apart and a probe round. A target whose core
// refused the context twice is a poor one even if a third attempt would
// have worked, and each verify window spent on a dead core is time with
// no data (DST seed 6551: three overlapping core outages, four targets
// tried at about a minute each).
const verifyDataGrace = 20 * time.Second

func (s *Switcher) dataRefused(now time.Time, what string) Reason {
	if d := now.Sub(s.flight.registeredAt); d >= verifyDataGrace {
		s.flight.denied = 2
		// Registered, and no data: the network's core carried nothing for
		// us. Steering keeps every profile off it for a while, as after a
		// dead data path in the steady state.
		s.markDeadNet(s.obs.plmn(), now)
		return reason(CodeTargetRefused, "%s %s after registering on %q", what, d.Round(time.Second), s.active)
	}
	return reason(CodeVerifyFailed, "%s", what)
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

// changedUnder reports that the SIM carries another identity than the
// target after a verify poll of this run read the target's: someone else
// (the carrier's OTA, the applet's own rotation) changed it under the
// switch. Before the target is first read the SIM may still show the
// identity the switch started from, across the refresh.
func (s *Switcher) changedUnder() bool {
	p := s.cfg.Profile(s.active)
	if p == nil || (s.obs.imsi == "" && s.obs.iccid == "") {
		return false
	}
	if s.matches(p) {
		s.flight.seen = true
		return false
	}
	return s.flight.seen
}

// overridden ends a switch whose identity someone else changed after the
// target came up (changedUnder): imsid adopts what the SIM carries, as it
// does outside a switch (checkIdentity), and blames the target for
// nothing. The verify window ran on, and the target was quarantined for
// the time it spent under other identities (TestSequenceOTAFlipWaitsForTheAttach:
// the carrier's OTA flipped the IMSI under a switch four times, and the
// home profile was quarantined for 30 min as "not registered").
func (s *Switcher) overridden(ctx context.Context, now time.Time) {
	target := s.active
	got := s.identify(s.obs.imsi, s.obs.iccid)
	r := reason(CodeExternalChange, "identity changed without us while switching to %q: now %q (IMSI %s); %q is not blamed", target, got, s.obs.imsi, target)
	if got == "" {
		r = reason(CodeUnknownProfile, "identity changed without us while switching to %q, to one no profile matches (IMSI %s)", target, s.obs.imsi)
	}
	s.record(now, Decision{Kind: KindAdopt, From: target, To: got, Trigger: TriggerExternal, Reasons: []Reason{r}}, false)
	s.finishJournal(ctx, now, false, r, got)
	s.prev, s.active = target, got
	s.dataPath.down()
	s.identityChanged(now)
	s.otherSwitch = now
	s.pdpTried, s.probeFails, s.stallFailed = false, 0, false
	s.appletHoldTill = laterOf(s.appletHoldTill, now.Add(s.cfg.Policy.AppletHoldoff.Std()))
	s.fire(EvOverridden)
	s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnSwitchFinished})
}

// verifyStep advances switching/verifying/rolling_back by one tick.
func (s *Switcher) verifyStep(ctx context.Context, now time.Time, rollback bool) {
	if s.changedUnder() {
		s.overridden(ctx, now)
		return
	}
	ok, why := s.verified(ctx, now)
	if !ok && ctx.Err() != nil {
		return // cut short by shutdown, not a failed check
	}
	if ok {
		s.probeFails, s.stallFailed = 0, false
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
			// It carried data: whatever it was left for is gone.
			delete(s.left, s.active)
		}
		s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnSwitchFinished})
		return
	}
	s.verifyWhy = why
	// A target held to one network that has not registered there within
	// holdSettle is handed back to the modem's own selection, as in the
	// steady state: the held network may be gone (DST seed 7701: held to
	// a network whose only cell had become 2G, the target waited out its
	// verify window while two other networks it may use were in reach).
	s.releaseLostHold(ctx, now)
	if !rollback {
		if next := s.lastResortYields(now); next != "" {
			s.verifyWhy = reason(CodeVerifyFailed, "%q, tried as a last resort, is not on a network it may use (%s); %q may serve now",
				s.active, why.Message, next)
			s.failTarget(ctx, now, "a last resort gives way")
			return
		}
	}
	if now.Before(s.deadline) && s.flight.denied < 2 {
		return
	}
	if rollback {
		s.rollbackFailed(ctx, now)
		return
	}
	s.failTarget(ctx, now, "")
}

// failTarget quarantines the target that did not verify. A switch made
// because the previous profile had lost its service, its data path or
// its safety fails forward to the next candidate; with none left it fails
// rather than return there. Any other switch rolls back.
//
// A non-empty excuse says why the target is not to blame (the modem's
// answer to the selection could not be read; a last resort gave way):
// nothing is quarantined, and the target is only passed over by this
// switch's fail-forward.
func (s *Switcher) failTarget(ctx context.Context, now time.Time, excuse string) {
	target := s.active
	qr := reason(CodeVerifyFailed, "%q is not blamed: %s", target, excuse)
	if excuse == "" {
		q := s.cfg.Policy.Quarantine
		e := s.quar.add(now, profileKey(target), q.Base.Std(), q.Max.Std(), s.verifyWhy)
		s.failures[target] = append(s.failures[target], now)
		s.pruneFailures(now)
		qr = reason(CodeQuarantined, "%q quarantined until %s (#%d)", target, e.Until.UTC().Format(time.RFC3339), e.Count)
	} else {
		s.flight.passed = append(s.flight.passed, target)
	}
	if s.failForward(ctx, now, target, qr) {
		return
	}
	s.fire(EvVerifyFailed)
	s.record(now, Decision{Kind: KindRollback, From: target, To: s.prev, Trigger: TriggerHard,
		Reasons: []Reason{s.verifyWhy, qr}}, false)
	if s.prev == "" || s.cfg.Profile(s.prev) == nil {
		s.rollbackFailed(ctx, now)
		return
	}
	s.prev, s.active = target, s.prev
	s.flight.denied, s.flight.registeredAt, s.flight.misplaced, s.flight.seen = 0, time.Time{}, time.Time{}, false
	s.deadline = now.Add(s.cfg.Policy.VerifyDeadline.Std())
	s.dataPath.down()
	s.selectProfile(ctx, now, s.cfg.Profile(s.active), true)
}

// failForward handles a refused target of a switch made to leave a lost
// or unsafe profile: the next candidate at once, or failed. It reports
// false when a rollback is right instead.
func (s *Switcher) failForward(ctx context.Context, now time.Time, target string, qr Reason) bool {
	fl := s.flight
	if fl.trigger != TriggerHard && fl.trigger != TriggerThreat {
		return false
	}
	if fl.from != "" && s.cfg.Profile(fl.from) != nil && s.left[fl.from].Cause == departOther && fl.carried {
		// Left for a cause no rule bars (a hard trigger, or a quarantine's
		// leave_now, which stays put when there is nowhere to go) while it
		// carried data: going back is what the rule would have done had it
		// known.
		return false
	}
	s.scores = s.scoreAll(now)
	ranked := s.rank(s.scores)
	class := classLiveness
	if fl.trigger == TriggerThreat {
		class = classSafety
	}
	sit := s.situation(now, ranked)
	sit.critical, sit.leaveNow = false, nil
	sit.cands = slices.DeleteFunc(sit.cands, func(c candidate) bool {
		return c.Profile == fl.from || c.Profile == target || slices.Contains(fl.passed, c.Profile)
	})
	next, _ := pick(sit, class)
	s.finishJournal(ctx, now, false, s.verifyWhy, "")
	if next != "" {
		s.beginSwitch(ctx, now, next, fl.trigger, []Reason{s.verifyWhy, qr}, ranked)
		return true
	}
	r := reason(CodeExhausted, "no other candidate, and %q is not gone back to (it was left: %s)", fl.from, s.left[fl.from].Cause)
	if s.left[fl.from].Cause == departOther {
		r = reason(CodeExhausted, "no other candidate, and %q is not gone back to (it carried no data when left)", fl.from)
	}
	s.record(now, Decision{Kind: KindFail, From: target, To: target, Trigger: fl.trigger, Reasons: []Reason{s.verifyWhy, qr, r}}, false)
	s.fire(EvExhausted)
	s.failedRegistered = s.obs.registered
	s.armBackoff(now, time.Time{})
	s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnSwitchFinished})
	return true
}

func (s *Switcher) rollbackFailed(ctx context.Context, now time.Time) {
	r := reason(CodeRollbackFailed, "neither the target nor %q came up: %s", s.active, s.verifyWhy.Message)
	s.record(now, Decision{Kind: KindFail, From: s.prev, To: s.active, Trigger: TriggerHard, Reasons: []Reason{r}}, false)
	s.fire(EvRollbackFailed)
	s.failedRegistered = s.obs.registered
	s.armBackoff(now, time.Time{})
	s.finishJournal(ctx, now, false, r, "")
	s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnSwitchFinished})
}

func (s *Switcher) pruneFailures(now time.Time) {
	maps.DeleteFunc(s.lastFailed, func(_ string, t time.Time) bool { return now.Sub(t) >= historyTTL })
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
