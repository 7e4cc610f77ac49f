package switcher

import (
	"context"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher/threat"
)

// Network steering. A profile whose allowlist names several networks (an
// MCC, a roaming IMSI) is carried by whichever one the modem selects, and
// the modem selects by signal: onto a network outside the allowlist, or
// back onto the one a Critical threat was just left on. When that would
// happen and an allowed, unquarantined network was seen, imsid holds the
// modem to it (+COPS=1); otherwise selection stays automatic (+COPS=0).

// steerWant is the network the modem should be held to for p, or zero for
// automatic selection. serving is the network the modem is on now (zero if
// none); it is kept when it is allowed and not avoided.
func (s *Switcher) steerWant(p *profiles.Profile, serving modem.PLMN, now time.Time) modem.PLMN {
	if p == nil || (len(p.MCCs) == 0 && len(p.PLMNs) <= 1) {
		return modem.PLMN{} // one network: the SIM's own selection finds it
	}
	avoided := func(x modem.PLMN) bool { return s.netAvoided(x, now) || s.selectionRefused(p.Name, x, now) }
	ok := func(x modem.PLMN) bool { return !x.IsZero() && p.AllowsPLMN(profiles.PLMN(x.String())) && !avoided(x) }
	if !serving.IsZero() && ok(serving) {
		return modem.PLMN{}
	}
	if s.scanAt.IsZero() || now.Sub(s.scanAt) >= scanMaxAge {
		return modem.PLMN{} // only a fresh scan says which networks are there
	}
	// A network the scan lists as forbidden (EF_FPLMN: a reject of
	// whichever identity was active, the list is the card's) is still a
	// network manual selection may try (23.122 4.4.3.2): the network
	// answers, and a refusal is remembered (selectionRefused). Networks
	// not forbidden come first.
	for _, forbidden := range []bool{false, true} {
		for _, e := range s.scan {
			if (e.Stat == 3) == forbidden && ok(e.PLMN) {
				return e.PLMN
			}
		}
	}
	return modem.PLMN{}
}

// needsSteer reports whether p would be carried by an avoided network if
// selection were left to the modem: its allowlist reaches a quarantined
// network, or the active profile sits on one (or outside the allowlist).
func (s *Switcher) needsSteer(p *profiles.Profile, serving modem.PLMN, now time.Time) bool {
	if p == nil || (len(p.MCCs) == 0 && len(p.PLMNs) <= 1) {
		return false
	}
	if !serving.IsZero() && p.Name == s.active {
		return !p.AllowsPLMN(profiles.PLMN(serving.String())) || s.netAvoided(serving, now)
	}
	for _, e := range s.quar.list(now) {
		if e.Key.Kind() == QuarantinePLMN && p.AllowsPLMN(profiles.PLMN(e.Key.Name())) {
			return true
		}
	}
	for n, at := range s.deadNet {
		if now.Sub(at) < deadCoreRetry && p.AllowsPLMN(profiles.PLMN(n.String())) {
			return true // it could land on a core that carried nothing lately
		}
	}
	return false
}

// markDeadNet records that plmn carried no data for us at now.
func (s *Switcher) markDeadNet(plmn modem.PLMN, now time.Time) {
	if plmn.IsZero() {
		return
	}
	if s.deadNet == nil {
		s.deadNet = map[modem.PLMN]time.Time{}
	}
	for k, at := range s.deadNet {
		if now.Sub(at) >= deadCoreRetry {
			delete(s.deadNet, k)
		}
	}
	s.deadNet[plmn] = now
}

// netAvoided: plmn is quarantined, or carried no data for us lately.
func (s *Switcher) netAvoided(plmn modem.PLMN, now time.Time) bool {
	if _, q := s.quar.active(now, PLMNKey(plmn)); q {
		return true
	}
	at, ok := s.deadNet[plmn]
	return ok && now.Sub(at) < deadCoreRetry
}

// deadSince is when the first of p's networks was found carrying no data,
// if every network p could use (those of a fresh scan, else its listed
// PLMNs) did so within deadCoreRetry; zero otherwise.
func (s *Switcher) deadSince(p *profiles.Profile, now time.Time) time.Time {
	var nets []modem.PLMN
	if !s.scanAt.IsZero() && now.Sub(s.scanAt) < scanMaxAge {
		nets = s.availableInScan(p)
	}
	if len(nets) == 0 && len(p.MCCs) == 0 {
		for _, x := range p.PLMNs {
			if n, err := modem.ParsePLMN(string(x)); err == nil {
				nets = append(nets, n)
			}
		}
	}
	var oldest time.Time
	for _, n := range nets {
		at, ok := s.deadNet[n]
		if !ok || now.Sub(at) >= deadCoreRetry {
			return time.Time{}
		}
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	return oldest
}

// selKey is one profile's manual selection of one network.
type selKey struct {
	profile string
	plmn    modem.PLMN
}

// selectionRefused: the modem refused to hold profile to plmn lately (the
// network rejects the identity, or is not there after all). Trying again
// at every poll would deregister the modem each time and keep data down.
func (s *Switcher) selectionRefused(profile string, plmn modem.PLMN, now time.Time) bool {
	at, ok := s.refusedSel[selKey{profile, plmn}]
	return ok && now.Sub(at) < deadCoreRetry
}

// applySteer sends the selection for profile if it differs from what the
// modem was last told. It reports whether it sent anything.
func (s *Switcher) applySteer(ctx context.Context, profile string, want modem.PLMN) bool {
	if s.steerKnown && want == s.steer {
		return false
	}
	c, cancel := s.step(ctx)
	defer cancel()
	// A selection makes the modem leave its network and search: the
	// registration losses it causes are ours, not an attack's.
	s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnNetworkSelect})
	if err := s.m.SelectNetwork(c, want); err != nil {
		s.log.Warn("switcher: network selection", "plmn", want.String(), "err", err)
		if !want.IsZero() {
			now := s.clock.Now()
			for k, at := range s.refusedSel {
				if now.Sub(at) >= deadCoreRetry {
					delete(s.refusedSel, k)
				}
			}
			if s.refusedSel == nil {
				s.refusedSel = map[selKey]time.Time{}
			}
			s.refusedSel[selKey{profile, want}] = now
			// A refused manual selection leaves the modem in manual mode
			// on a network it cannot use: hand selection back to it.
			if err := s.m.SelectNetwork(c, modem.PLMN{}); err == nil {
				s.steer, s.steerKnown = modem.PLMN{}, true
			}
		}
		return false
	}
	s.steer, s.steerKnown, s.steerAt = want, true, s.clock.Now()
	return true
}

// holdSettle is how long a manual selection may search before its loss
// counts: the modem leaves its network and attaches to the held one
// (5–30 s on real modems).
const holdSettle = time.Minute

// releaseLostHold hands network selection back to the modem when the
// active profile lost service while held to one network. A manual
// selection (+COPS=1, 27.007 7.3) never falls back by itself: with the held
// network gone the profile would stay off the air although another allowed
// network is there, and a radio reset would not help. The released network
// is not held again for deadCoreRetry. It reports whether it acted.
func (s *Switcher) releaseLostHold(ctx context.Context, now time.Time) bool {
	if s.obs.registered || s.active == "" || s.noServiceSince.IsZero() || s.cfg.SIM.Method == profiles.MethodAutonomous {
		return false
	}
	if s.steerKnown && s.steer.IsZero() {
		return false // selection is automatic already
	}
	if now.Sub(s.noServiceSince) < s.cfg.Policy.NoServiceTrigger.Std() || now.Sub(s.steerAt) < holdSettle {
		return false
	}
	held := s.steer
	if !held.IsZero() {
		if s.refusedSel == nil {
			s.refusedSel = map[selKey]time.Time{}
		}
		s.refusedSel[selKey{s.active, held}] = now
	}
	if !s.applySteer(ctx, s.active, modem.PLMN{}) {
		return false
	}
	what := "network selection"
	if !held.IsZero() {
		what = "network " + held.String()
	}
	s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerHard, Reasons: []Reason{
		reason(CodeSteered, "%q released from %s: no service for %s; the modem selects among the networks in reach", s.active, what, now.Sub(s.noServiceSince).Round(time.Second))}}, false)
	return true
}

// steerActive holds the active profile off a network it must not use when
// another allowed one was seen: cheaper and faster than leaving the
// profile. It reports whether it acted.
func (s *Switcher) steerActive(ctx context.Context, now time.Time) bool {
	p := s.cfg.Profile(s.active)
	serving := s.obs.plmn()
	if p == nil || !s.obs.registered || s.cfg.SIM.Method == profiles.MethodAutonomous {
		return false
	}
	// A network that carries no data for us (a dead core, every context
	// refused) is avoided a while: another allowed one may.
	dead := s.dataPathDead() ||
		(!s.noDataSince.IsZero() && now.Sub(s.noDataSince) >= noDataTrigger)
	if dead {
		s.markDeadNet(serving, now)
	}
	if !s.needsSteer(p, serving, now) {
		return false
	}
	if s.scanAt.IsZero() || now.Sub(s.scanAt) >= scanMaxAge {
		if !s.rescan(ctx, now) {
			return false
		}
	}
	want := s.steerWant(p, serving, now)
	s.log.Debug("switcher: steering", "profile", p.Name, "serving", serving.String(), "want", want.String(), "scan", len(s.scan))
	if want.IsZero() || (s.steerKnown && want == s.steer) {
		return false
	}
	if !s.applySteer(ctx, p.Name, want) {
		return false
	}
	s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerHard, Reasons: []Reason{
		reason(CodeSteered, "%q held to network %s: %s is outside its allowlist, quarantined or carried no data", s.active, want, serving)}}, false)
	s.dataPath.down()
	return true
}
