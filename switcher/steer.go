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
	for _, e := range s.scan {
		if e.Stat == 3 && p.Name == s.active {
			continue // forbidden for the identity that scanned
		}
		if ok(e.PLMN) {
			return e.PLMN
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
	return false
}

// netAvoided: plmn is quarantined, or carried no data for us lately.
func (s *Switcher) netAvoided(plmn modem.PLMN, now time.Time) bool {
	if _, q := s.quar.active(now, PLMNKey(plmn)); q {
		return true
	}
	at, ok := s.deadNet[plmn]
	return ok && now.Sub(at) < deadCoreRetry
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
	s.steer, s.steerKnown = want, true
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
	dead := (s.cfg.Policy.Probes.FailuresToDown > 0 && s.probeFails >= s.cfg.Policy.Probes.FailuresToDown) ||
		(!s.noDataSince.IsZero() && now.Sub(s.noDataSince) >= noDataTrigger)
	if dead && !serving.IsZero() {
		if s.deadNet == nil {
			s.deadNet = map[modem.PLMN]time.Time{}
		}
		for k, at := range s.deadNet {
			if now.Sub(at) >= deadCoreRetry {
				delete(s.deadNet, k)
			}
		}
		s.deadNet[serving] = now
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
	s.pdpUp, s.pdpTried, s.probeFails, s.noDataSince = false, false, 0, time.Time{}
	return true
}
