package switcher

import (
	"context"
	"slices"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher/threat"
)

// ThreatConfig maps the profiles policy onto the threat engine's config
// (profiles cannot import switcher/threat: imports point one way).
func ThreatConfig(cfg *profiles.Config) threat.Config {
	c := threat.DefaultConfig()
	pol := cfg.Policy
	t := pol.Threats
	c.Site.Stationary = pol.Site.Mobility != profiles.Mobile
	c.Site.CountryMCC = string(pol.Site.CountryMCC)
	for _, m := range pol.Site.BorderMCCs {
		c.Site.BorderMCCs = append(c.Site.BorderMCCs, string(m))
	}
	c.Site.Legacy2GLive, c.Site.Legacy3GLive = pol.Site.Legacy2GLive, pol.Site.Legacy3GLive
	c.Site.AutonomousApplet = cfg.SIM.Method == profiles.MethodAutonomous
	c.Profiles = map[string]threat.ProfilePolicy{}
	for _, p := range cfg.Profiles {
		pp := threat.ProfilePolicy{RoamingExpected: p.Roaming}
		for _, x := range p.PLMNs {
			if v, err := modem.ParsePLMN(string(x)); err == nil {
				pp.AllowedPLMNs = append(pp.AllowedPLMNs, v)
			}
		}
		for _, m := range p.MCCs {
			pp.AllowedMCCs = append(pp.AllowedMCCs, string(m))
		}
		pp.Allow2G = p.AllowsRAT(profiles.RATGSM)
		pp.Allow3G = p.AllowsRAT(profiles.RATUMTS)
		c.Profiles[p.Name] = pp
		if p.ICCID != "" {
			c.Site.ProvisionedICCIDs = append(c.Site.ProvisionedICCIDs, modem.ICCID(p.ICCID.Reveal()))
		}
	}
	setD := func(dst *time.Duration, v profiles.Duration) {
		if v > 0 {
			*dst = v.Std()
		}
	}
	setD(&c.Scoring.Window, t.Window)
	if t.Watch > 0 && t.Watch <= t.Suspect && t.Suspect <= t.Threat {
		c.Scoring.Watch, c.Scoring.Suspect, c.Scoring.Threat = t.Watch, t.Suspect, t.Threat
	}
	if c.Scoring.Hold > c.Scoring.Window {
		c.Scoring.Hold = c.Scoring.Window
	}
	setD(&c.Suppression.After, t.SuppressAfterSwitch)
	setD(&c.Scoring.AlertEvery, t.AlertInterval)
	setD(&c.Baseline.WarmUp, t.BaselineLearning)
	if t.BaselineMinObservations > 0 {
		c.Baseline.WarmUpObservations = t.BaselineMinObservations
	}
	setD(&c.Scoring.ProfileQuarantine, pol.Quarantine.Base)
	c.D1.Enabled = t.D1.Enabled
	setD(&c.D1.Within, t.D1.Within)
	c.D1.GoodLTERSRP, c.D1.GoodLTESINR = float64(t.D1.GoodRSRP), float64(t.D1.GoodSINR)
	c.D2.Enabled = t.D2.Enabled
	if t.D2.MaxChangesPerHour > 0 {
		c.D2.MaxChangesPerHour = t.D2.MaxChangesPerHour
	}
	c.D3.Enabled = t.D3.Enabled
	c.D3.RecoveryBackoff = t.D3.RecoveryBackoff.Std()
	c.D3.MaxRecoveriesPerDay = t.D3.MaxRecoveries // 0 turns the recovery off
	c.D4.Enabled = t.D4.Enabled
	if t.D4.Polls > 0 {
		c.D4.Polls = t.D4.Polls
	}
	setD(&c.D4.AcceptAfter, t.D4.AcceptAfter)
	c.D5.Enabled = t.D5.Enabled
	setD(&c.D5.TransientMax, t.D5.Transient)
	setD(&c.D5.TransientGone, t.D5.ReturnWindow)
	c.D6.Enabled = t.D6.Enabled
	c.D6.KnownCellExcess = float64(t.D6.KnownCellDelta)
	c.D6.UnknownOverP90 = float64(t.D6.UnknownCellMargin)
	c.D6.UnknownAbsolute = float64(t.D6.UnknownCellMax)
	c.D7.Enabled = t.D7.Enabled
	if t.D7.EmptyPolls > 0 {
		c.D7.EmptyPolls = t.D7.EmptyPolls
	}
	c.D7.EmptyMinRSRP = float64(t.D7.MinRSRP)
	c.D8.Enabled = t.D8.Enabled
	setD(&c.D8.URCFor, t.D8.URCHold)
	setD(&c.D8.BlackoutWindow, t.D8.BlackoutFor)
	if t.D8.Polls > 0 {
		c.D8.Polls = t.D8.Polls
	}
	c.D8.MinRSRP, c.D8.MaxSINR = float64(t.D8.MinRSRP), float64(t.D8.MaxSINR)
	c.D8.MaxRSRQ, c.D8.SINRDrop = float64(t.D8.MaxRSRQ), float64(t.D8.SINRDrop)
	c.D9.Enabled = t.D9.Enabled
	if t.D9.ShortCount > 0 {
		c.D9.ShortCount, c.D9.LongCount = t.D9.ShortCount, max(t.D9.LongCount, t.D9.ShortCount)
	}
	setD(&c.D9.ShortWindow, t.D9.ShortWindow)
	setD(&c.D9.LongWindow, t.D9.LongWindow)
	setD(&c.D9.CaptureWindow, t.D9.ReleaseWithin)
	c.D10.Enabled = t.D10.Enabled
	// D2 confirms over consecutive polls; a window shorter than a few polls
	// would never confirm, whatever signal_poll is set to.
	c.D2.ConfirmWithin = max(c.D2.ConfirmWithin, 3*pol.SignalPoll.Std())
	return c
}

// cardProfile is the profile whose identity the card carries now: the
// engine judges a network against the policy of the profile registered on
// it. That is the active one except while the card changes under imsid
// (an OTA or applet flipping the IMSI during a switch's verification: the
// roaming identity's network read against the home profile's allowlist was
// a D2a "not allowed" and a quarantine of the roaming profile's only
// network, make bench ota-storm). A card that matches no profile (a foreign
// SIM, D10's) or is not read yet is judged as the active profile.
func (s *Switcher) cardProfile() string {
	if s.obs.imsi == "" && s.obs.iccid == "" {
		return s.active
	}
	if p := s.identify(s.obs.imsi, s.obs.iccid); p != "" {
		return p
	}
	return s.active
}

// threatObservation builds the engine's view of this tick.
func (s *Switcher) threatObservation(now time.Time, evs []ModemEvent) threat.Observation {
	o := threat.Observation{At: now, Profile: s.cardProfile()}
	// The registration that carries service (EPS first); an unregistered
	// EPS status next to a registered CREG means we are on 2G/3G.
	rank := func(r modem.Registration) int {
		n := 0
		if r.Status.Registered() {
			n += 2
		}
		if r.Domain == modem.DomainEPS {
			n++
		}
		return n
	}
	for i := range s.obs.regs {
		r := s.obs.regs[i]
		if o.Registration == nil || rank(r) > rank(*o.Registration) {
			o.Registration = &r
		}
	}
	o.Operator = s.obs.operator
	o.Serving = s.obs.serving
	o.Signal = s.obs.signal
	if s.obs.haveNeigh {
		nl := &threat.NeighbourList{}
		for _, n := range s.obs.neighbours {
			nc := threat.NeighbourCell{Neighbour: n}
			if s.obs.serving != nil && s.obs.serving.EARFCN != nil && n.EARFCN != nil {
				nc.Intra = *n.EARFCN == *s.obs.serving.EARFCN
			}
			nl.Cells = append(nl.Cells, nc)
		}
		o.Neighbours = nl
	}
	if s.obs.imsi != "" || s.obs.iccid != "" || s.obs.simState != modem.SIMUnknown {
		o.SIM = &threat.SIMIdentity{ICCID: s.obs.iccid, IMSI: s.obs.imsi, State: s.obs.simState, IMEI: s.imei}
	}
	for _, e := range evs {
		switch e.Kind {
		case ModemEventNetworkDetach:
			o.Events = append(o.Events, threat.Event{Kind: threat.EventNetworkDetach})
		case ModemEventPDNDeact:
			o.Events = append(o.Events, threat.Event{Kind: threat.EventPDNDeact})
		case ModemEventJamming:
			o.Events = append(o.Events, threat.Event{Kind: threat.EventJamming, Jammed: e.Jammed})
		case ModemEventSIMRemoved:
			o.Events = append(o.Events, threat.Event{Kind: threat.EventSIMRemoved})
		case ModemEventSIMInserted:
			o.Events = append(o.Events, threat.Event{Kind: threat.EventSIMInserted})
		}
	}
	o.RATLock, s.ratReadback = s.ratReadback, nil
	o.Events = append(o.Events, s.ownEvents...)
	s.ownEvents = nil
	return o
}

// feedThreat runs the engine on this tick's observation.
func (s *Switcher) feedThreat(now time.Time, evs []ModemEvent) {
	obs := s.threatObservation(now, evs)
	s.trackOffList(obs)
	if s.opt.engine == nil {
		return
	}
	res, err := s.opt.engine.Observe(obs)
	if err != nil {
		s.log.Warn("switcher: threat observe", "err", err)
		return
	}
	s.threatRes = &res
	if s.opt.onThreat != nil {
		s.opt.onThreat(res)
	}
}

// scopeKey is the quarantine key of a threat scope ("" for the device,
// which is never quarantined).
func scopeKey(sc threat.Scope) QuarantineKey {
	switch sc.Kind {
	case threat.ScopeProfile:
		return ProfileKey(sc.Profile)
	case threat.ScopePLMN:
		return PLMNKey(sc.PLMN)
	case threat.ScopeCell:
		return CellKey(sc.Cell)
	}
	return ""
}

// jamHold is how long switching stays suspended after the last finding
// that asked for it (D8): long enough to bridge the polls in which a
// jammer is not measurable (no serving cell in deep jamming), short enough
// that a failover is not held once it is gone.
const jamHold = 2 * time.Minute

// jamObserved: a finding asked to suspend switching within jamHold.
func (s *Switcher) jamObserved(now time.Time) bool {
	return !s.jamSeenAt.IsZero() && now.Sub(s.jamSeenAt) < jamHold
}

// applyThreat turns the engine's response into quarantines, a switching
// suspension and the one-off actions (RAT lock, guarded CFUN). Responses
// only tighten, and so does what we do with them.
func (s *Switcher) applyThreat(ctx context.Context, now time.Time) {
	s.suspended = s.jammedURC && s.opt.engine == nil
	if !s.threatActs() {
		return
	}
	resp := s.threatRes.Response
	ep := s.threatRes.Episode.ID
	// Switching is suspended while jamming is being observed, not for the
	// whole threat episode: once the jammer is gone, a failover or leaving
	// an attack must not wait for the episode to decay.
	for _, f := range s.threatRes.Findings {
		if !f.Response.SwitchAllowed() {
			s.jamSeenAt = now
		}
	}
	s.suspended = s.suspended || s.jamObserved(now)
	maxTTL := s.cfg.Policy.Quarantine.Max.Std()
	for _, q := range resp.Quarantine {
		key := scopeKey(q.Scope)
		if key == "" {
			continue // quarantining the device would be self-inflicted denial of service
		}
		if _, ok := s.quar.active(now, key); ok {
			continue
		}
		why := string(q.Reason)
		if why == "" {
			why = "response"
		}
		s.quar.add(now, key, q.TTL, max(maxTTL, q.TTL), reason(Code("threat_"+why), "threat response for %s", key))
	}
	once := func(a threat.Action) bool {
		if !resp.Actions.Has(a) || s.actedEpisode[a] == ep {
			return false
		}
		s.actedEpisode[a] = ep
		return true
	}
	if (once(threat.ActForbid2G) || once(threat.ActRewriteRATLock)) && s.active != "" {
		if p := s.cfg.Profile(s.active); p != nil {
			var techs []modem.Tech
			for _, r := range p.RATs {
				if r != profiles.RATGSM {
					techs = append(techs, ratTechs(r)...)
				}
			}
			s.lockRAT(ctx, techs)
		}
	}
	if once(threat.ActCheckRATLock) {
		s.ratCheckNow = true
	}
	if resp.Actions.Has(threat.ActRecoverCFUN) && s.resetAllowed(now) && once(threat.ActRecoverCFUN) {
		c, cancel := s.step(ctx)
		_ = s.m.SetFunctionality(c, 0)
		_ = s.m.SetFunctionality(c, 1)
		cancel()
		s.rec.CFUN++
		s.pdpUp, s.pdpTried = false, false
		s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnCFUN})
	}
}

// lockRAT writes the lock and reads it back: the read-back, not our
// request, is what later read-backs are compared with, since a dialect may
// only approximate the technologies we asked for.
func (s *Switcher) lockRAT(ctx context.Context, techs []modem.Tech) {
	c, cancel := s.step(ctx)
	defer cancel()
	s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnRATChange})
	if err := s.m.LockRAT(c, techs); err != nil {
		s.log.Warn("switcher: RAT lock", "err", err)
		return
	}
	got, err := s.m.RATLock(c)
	if err != nil {
		return
	}
	if slices.Contains(got, modem.TechGSM) && !slices.Contains(techs, modem.TechGSM) {
		s.log.Warn("switcher: RAT lock still allows 2G after writing it", "got", got)
	}
	s.ratWant, s.ratCheckedAt = got, s.clock.Now()
}

// checkRATLock reads the lock back every d1b_rat_lock.check, or at once
// when the threat response asks, for D1b to compare on the next tick.
func (s *Switcher) checkRATLock(ctx context.Context, now time.Time) {
	if s.ratWant == nil {
		return
	}
	d1b := s.cfg.Policy.Threats.D1b
	due := s.ratCheckNow || (d1b.Enabled && d1b.Check > 0 && now.Sub(s.ratCheckedAt) >= d1b.Check.Std())
	if !due {
		return
	}
	s.ratCheckNow, s.ratCheckedAt = false, now
	c, cancel := s.step(ctx)
	defer cancel()
	got, err := s.m.RATLock(c)
	if err != nil {
		return
	}
	s.ratReadback = &threat.RATLockReadback{Want: slices.Clone(s.ratWant), Got: got}
}

// offListConfirm is how many consecutive polls must put the active profile,
// with reads that agree, on a network outside its allowlist before that
// alone is a hard trigger. One poll whose reads straddle a loss of
// registration (still "registered", the operator already the rival's that
// the modem reselected) must not send the gateway away: the threat
// engine's D2 applies the same rule.
const offListConfirm = 2

// offListRun counts those polls.
type offListRun struct {
	plmn  modem.PLMN
	polls int
}

func (s *Switcher) trackOffList(o threat.Observation) {
	p := s.cfg.Profile(s.active)
	plmn := s.obs.plmn()
	if p == nil || !s.obs.registered || plmn.IsZero() || p.AllowsPLMN(profiles.PLMN(plmn.String())) || o.PLMNConflict() != "" {
		s.offList = offListRun{}
		return
	}
	if s.offList.plmn != plmn {
		s.offList = offListRun{plmn: plmn}
	}
	s.offList.polls++
}
