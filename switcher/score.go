package switcher

import (
	"math"
	"slices"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher/threat"
)

// ewmaTau is the smoothing time constant of the signal tracks. The weight
// of a sample depends on the time since the previous one, not on the poll
// count, so a faster poll (or event-driven ticks) does not make the score
// twitchier: 84 s is the 0.3 per-sample weight of a 30 s poll, riding out
// a single bad reading without hiding a real fade for long.
const ewmaTau = 84 * time.Second

// historyTTL is how long a profile's last measured signal is trusted as its
// expected quality; it fades towards neutral over that time.
const historyTTL = 24 * time.Hour

// stationaryHistoryTTL is historyTTL at a stationary site.
const stationaryHistoryTTL = 7 * 24 * time.Hour

// scanMaxAge is how long a +COPS=? scan describes the site.
const scanMaxAge = 15 * time.Minute

// SignalTrack is one profile's smoothed signal while it was active. It is
// the profile's expected quality afterwards, and is persisted (Snapshot) so
// a reboot starts from what worked here rather than from nothing.
type SignalTrack struct {
	RSRP     float64    `json:"rsrp,omitempty"`
	SINR     float64    `json:"sinr,omitempty"`
	RSSI     float64    `json:"rssi,omitempty"`
	HaveRSRP bool       `json:"have_rsrp,omitempty"`
	HaveSINR bool       `json:"have_sinr,omitempty"`
	HaveRSSI bool       `json:"have_rssi,omitempty"`
	At       time.Time  `json:"at"`
	PLMN     modem.PLMN `json:"plmn,omitzero"`
}

func (t *SignalTrack) add(s modem.Signal, plmn modem.PLMN, now time.Time) {
	alpha := 1.0
	if !t.At.IsZero() {
		if dt := now.Sub(t.At); dt >= 0 {
			alpha = 1 - math.Exp(-dt.Seconds()/ewmaTau.Seconds())
		}
	}
	upd := func(v *float64, have *bool, x *float64) {
		if x == nil {
			return
		}
		if !*have {
			*v, *have = *x, true
			return
		}
		*v = alpha**x + (1-alpha)**v
	}
	var rsrp, sinr, rssi *float64
	if s.RSRP != nil {
		f := float64(*s.RSRP)
		rsrp = &f
	}
	if s.SINR != nil {
		f := float64(*s.SINR)
		sinr = &f
	}
	if s.RSSI != nil {
		f := float64(*s.RSSI)
		rssi = &f
	}
	upd(&t.RSRP, &t.HaveRSRP, rsrp)
	upd(&t.SINR, &t.HaveSINR, sinr)
	upd(&t.RSSI, &t.HaveRSSI, rssi)
	t.At = now
	if !plmn.IsZero() {
		t.PLMN = plmn
	}
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// signalPoints maps a smoothed signal onto 0..100 against the policy floors.
func signalPoints(t *SignalTrack, th profiles.Thresholds) (float64, bool) {
	span := func(v, lo, hi float64) float64 {
		if hi <= lo {
			hi = lo + 1
		}
		return clamp01((v-lo)/(hi-lo)) * 100
	}
	switch {
	case t.HaveRSRP && t.HaveSINR:
		return 0.6*span(t.RSRP, float64(th.RSRPFloor), float64(th.RSRPGood)) +
			0.4*span(t.SINR, float64(th.SINRFloor), float64(th.SINRGood)), true
	case t.HaveRSRP:
		return span(t.RSRP, float64(th.RSRPFloor), float64(th.RSRPGood)), true
	case t.HaveRSSI:
		return span(t.RSSI, float64(th.RSSIFloor), float64(th.RSSIFloor)+20), true
	}
	return 0, false
}

// belowFloor reports whether the smoothed signal is under a policy floor.
func belowFloor(t *SignalTrack, th profiles.Thresholds) bool {
	if t.HaveRSRP && t.RSRP < float64(th.RSRPFloor) {
		return true
	}
	if t.HaveSINR && t.SINR < float64(th.SINRFloor) {
		return true
	}
	return !t.HaveRSRP && t.HaveRSSI && t.RSSI < float64(th.RSSIFloor)
}

// margin is the hysteresis in total points: one point per 2 dB of
// Thresholds.Hysteresis (3 points by default). That is about a 2.5 dB RSRP
// gain through the signal weight, or a clearly cheaper tariff at equal
// signal, so a cheaper profile back in coverage can win while noise cannot.
func margin(th profiles.Thresholds) float64 {
	return max(1, float64(th.Hysteresis)/2)
}

// departurePenalty is the health cost of a profile we just left on a hard
// trigger; it fades over departureTTL so the profile is tried again later.
const (
	departurePenalty = 40.0
	departureTTL     = time.Hour
)

func threatPoints(l threat.Severity) float64 {
	switch l {
	case threat.SeverityLow:
		return 75
	case threat.SeverityMedium:
		return 50
	case threat.SeverityHigh:
		return 15
	case threat.SeverityCritical:
		return 0
	}
	return 100
}

// effectivePerMB is the marginal price of a megabyte on p, in micros.
func effectivePerMB(p *profiles.Profile) int64 {
	c := p.Cost.PerMB.Micros
	if p.Roaming {
		c += p.Cost.RoamingPerMB.Micros
	}
	return c
}

// scoreAll computes every profile's score at now. Caller holds s.mu.
func (s *Switcher) scoreAll(now time.Time) []Score {
	cfg := s.cfg
	th := cfg.Policy.Thresholds
	var maxPerMB int64
	for i := range cfg.Profiles {
		maxPerMB = max(maxPerMB, effectivePerMB(&cfg.Profiles[i]))
	}
	scanFresh := !s.scanAt.IsZero() && now.Sub(s.scanAt) < scanMaxAge
	servingPLMN := s.obs.plmn()
	activeTrack := s.sig[s.active]
	// A stationary gateway sees the same cells for weeks: what a profile
	// measured here last week still says more than a neutral guess.
	ttl := historyTTL
	if cfg.Policy.Site.Mobility == profiles.Stationary {
		ttl = stationaryHistoryTTL
	}
	// While the active profile is under threat its serving network is the
	// suspect: it vouches for no candidate.
	suspect := s.threatLevel(s.active) >= threat.SeverityMedium

	out := make([]Score, 0, len(cfg.Profiles))
	for i := range cfg.Profiles {
		p := &cfg.Profiles[i]
		sc := Score{Profile: p.Name, Eligible: true, Active: p.Name == s.active}
		why := func(c Code, format string, a ...any) { sc.Reasons = append(sc.Reasons, reason(c, format, a...)) }
		bar := func(c Code, format string, a ...any) {
			sc.Eligible = false
			why(c, format, a...)
		}

		// Signal. A candidate's expectation is the best of what we know: the
		// network we are on (if it may use it), its own recent history.
		switch {
		case sc.Active && !s.obs.registered:
			// Losing service is judged by the no-service trigger and its
			// delay, not by a signal of zero that would make any blip a
			// soft trigger.
			sc.Signal = 50
			if activeTrack != nil {
				if v, ok := signalPoints(activeTrack, th); ok {
					sc.Signal = v
				}
			}
			why(CodeNoService, "not registered")
		case sc.Active && activeTrack != nil:
			v, ok := signalPoints(activeTrack, th)
			if ok {
				sc.Signal = v
				why(CodeSignalMeasured, "smoothed RSRP %.1f dBm, SINR %.1f dB", activeTrack.RSRP, activeTrack.SINR)
				if belowFloor(activeTrack, th) {
					why(CodeBelowFloor, "below the policy floor")
				}
			} else {
				sc.Signal = 50
				why(CodeSignalUnknown, "registered but no signal reported")
			}
		case sc.Active:
			sc.Signal = 50
			why(CodeSignalUnknown, "registered but no signal reported")
		default:
			est, code, msg := 40.0, CodeSignalUnknown, "no measurement, scan or history"
			// The serving network's radio says nothing good about a candidate
			// while that network's data path is dead (it may share the fault)
			// or while a threat response has the network quarantined.
			dataDead := s.dataPathDead()
			_, avoided := s.quar.active(now, PLMNKey(servingPLMN))
			if activeTrack != nil && !servingPLMN.IsZero() && s.obs.registered && !dataDead && !avoided && !suspect &&
				p.AllowsPLMN(profiles.PLMN(servingPLMN.String())) {
				if v, ok := signalPoints(activeTrack, th); ok {
					est, code, msg = v, CodeSignalShared, "may use the serving network "+servingPLMN.String()
				}
			}
			if t := s.sig[p.Name]; t != nil && now.Sub(t.At) < ttl {
				v, ok := signalPoints(t, th)
				if !ok {
					v = 50
				}
				// Old history fades towards neutral: the radio may have changed.
				w := 1 - float64(now.Sub(t.At))/float64(ttl)
				if h := w*v + (1-w)*50; h > est || code == CodeSignalUnknown {
					est, code, msg = h, CodeSignalHistory, "last measured "+now.Sub(t.At).Round(time.Second).String()+" ago"
				}
			}
			sc.Signal = est
			why(code, "%s", msg)
		}
		if !sc.Active && scanFresh {
			avail := s.availableInScan(p)
			if len(avail) == 0 {
				sc.Signal = 0
				bar(CodeNotInScan, "no allowed network of this profile in the last scan")
			} else if sc.Reasons[len(sc.Reasons)-1].Code == CodeSignalUnknown {
				sc.Signal = 50
				sc.Reasons[len(sc.Reasons)-1] = reason(CodeSignalScan, "allowed network %s seen in the scan", avail[0])
			}
		}

		// Cost.
		sc.Cost = 100
		if maxPerMB > 0 {
			sc.Cost = 100 * (1 - float64(effectivePerMB(p))/float64(maxPerMB))
		}
		why(CodeCostTariff, "%s per MB", profiles.Money{Micros: effectivePerMB(p), Currency: p.Cost.Currency})
		if s.opt.usage != nil {
			r := s.opt.usage.Report(p, now)
			switch {
			case r.OverCap:
				sc.Cost = 0
				if !sc.Active {
					bar(CodeOverCap, "data cap %s used up this period", p.DataCap)
				} else {
					why(CodeOverCap, "data cap %s used up this period", p.DataCap)
				}
			case r.Forecast != nil && r.Forecast.OverCap:
				sc.Cost = math.Max(0, sc.Cost-30)
				why(CodeCostForecast, "at %d B/day the cap runs out before %s", r.Forecast.BytesPerDay, r.Period.End.Format(time.DateOnly))
			case r.Cap > 0 && r.Remaining < r.Cap/10:
				sc.Cost = math.Max(0, sc.Cost-15)
				why(CodeCostLowCap, "%s of the cap left", r.Remaining)
			}
		}

		// Threat.
		lvl := s.threatLevel(p.Name)
		sc.Threat = threatPoints(lvl)
		if lvl > threat.SeverityNone {
			why(CodeThreatLevel, "threat level %s", lvl)
		}

		// Health.
		sc.Health = 100
		if n := s.recentFailures(p.Name, now); n > 0 {
			sc.Health -= 25 * float64(n)
			why(CodeHealthFailures, "%d failed switch(es) in the last 24h", n)
		}
		// A scan after we left that sees the profile's network again is
		// better evidence than the time since.
		dep, hasDep := s.left[p.Name]
		backInScan := hasDep && dep.Cause == departGone && s.seenAt[p.Name].After(dep.At)
		if !sc.Active && s.threatHold(p.Name, now) {
			why(CodeThreatLevel, "left on a threat %s ago: no return for score or cost before %s",
				now.Sub(dep.At).Round(time.Second), dep.At.Add(departureTTL).UTC().Format(time.RFC3339))
		}
		if t := dep.At; hasDep && now.Sub(t) < departureTTL && !backInScan {
			pen := departurePenalty * (1 - float64(now.Sub(t))/float64(departureTTL))
			sc.Health -= pen
			why(CodeHealthFailures, "left on a hard trigger %s ago", now.Sub(t).Round(time.Second))
		}
		if sc.Active && s.probeFails > 0 {
			sc.Health -= 20 * float64(s.probeFails)
			why(CodeProbeFailing, "%d consecutive probe failure(s)", s.probeFails)
		}
		if q, ok := s.quar.active(now, profileKey(p.Name)); ok {
			sc.Health = 0
			if !sc.Active {
				bar(CodeQuarantined, "quarantined until %s (%s)", q.Until.UTC().Format(time.RFC3339), q.Reason.Code)
			} else {
				why(CodeQuarantined, "quarantined until %s (%s)", q.Until.UTC().Format(time.RFC3339), q.Reason.Code)
			}
		}
		sc.Health = math.Max(0, sc.Health)

		// Allowlist and threat-avoided networks.
		if sc.Active {
			if s.obs.registered && !servingPLMN.IsZero() && !p.AllowsPLMN(profiles.PLMN(servingPLMN.String())) && s.offList.polls >= offListConfirm {
				why(CodePLMNNotAllowed, "serving network %s is not on the allowlist", servingPLMN)
			}
		} else if s.allPLMNsAvoided(p, now) {
			bar(CodePLMNAvoided, "every allowed network it could use is quarantined")
		}

		sc.Total = round1(WeightSignal*sc.Signal + WeightCost*sc.Cost + WeightThreat*sc.Threat + WeightHealth*sc.Health)
		sc.Signal, sc.Cost, sc.Threat, sc.Health = round1(sc.Signal), round1(sc.Cost), round1(sc.Threat), round1(sc.Health)
		out = append(out, sc)
	}
	return out
}

// threatHold reports whether p was left on a threat less than departureTTL
// ago. A soft trigger does not go back to it: from another network nothing
// says the attacker left, and trying means camping on its network again.
// A hard trigger (the current profile lost) still may, and an operator may
// force it.
func (s *Switcher) threatHold(p string, now time.Time) bool {
	d, ok := s.left[p]
	return ok && d.Cause == departThreat && now.Sub(d.At) < departureTTL
}

// availableInScan lists the allowed PLMNs of p that the last scan saw.
// "Forbidden" (stat 3) belongs to the identity that scanned (EF_FPLMN, a
// cause-11 reject of the active IMSI), so it bars only the active profile:
// for another identity the network is there.
func (s *Switcher) availableInScan(p *profiles.Profile) []modem.PLMN {
	var out []modem.PLMN
	for _, e := range s.scan {
		if (e.Stat == 3 && p.Name == s.active) || e.PLMN.IsZero() {
			continue
		}
		if p.AllowsPLMN(profiles.PLMN(e.PLMN.String())) && !slices.Contains(out, e.PLMN) {
			out = append(out, e.PLMN)
		}
	}
	if n := s.sighting(); p.Name != s.active && !n.IsZero() && p.AllowsPLMN(profiles.PLMN(n.String())) && !slices.Contains(out, n) {
		out = append(out, n)
	}
	return out
}

// reach is the network the modem camps on (registered or in limited
// service) and since when.
type reach struct {
	plmn  modem.PLMN
	since time.Time
}

// reachSettle: after a switch the modem looks for a network for the new
// identity and may camp on one, then another; a move onto a network is
// news only once the identity has settled.
const reachSettle = time.Minute

// trackReach follows the camped network and records a sighting (below)
// for every other profile it allows: a profile left because its network
// was gone is seen back without waiting for the next fail-back scan (the
// modem on another identity often camps on that network first).
func (s *Switcher) trackReach(now time.Time) {
	var n modem.PLMN
	if s.obs.serving != nil && !s.obs.serving.PLMN.IsZero() {
		n = s.obs.serving.PLMN
	} else {
		n = s.obs.plmn()
	}
	if n != s.reach.plmn {
		s.reach = reach{plmn: n, since: now}
	}
	if sg := s.sighting(); !sg.IsZero() {
		for i := range s.cfg.Profiles {
			if p := &s.cfg.Profiles[i]; p.Name != s.active && p.AllowsPLMN(profiles.PLMN(sg.String())) {
				s.seenAt[p.Name] = laterOf(s.seenAt[p.Name], s.reach.since)
			}
		}
	}
}

// sighting is the camped network when the modem moved onto it after the
// active identity had settled (reachSettle after our last switch or an
// identity change we adopted): the network came into reach then, as
// surely as a scan that lists it, and newer than the last scan. A network
// camped on since the switch says nothing of the ones another identity
// lost (the identity may be what that network refuses). None while the
// active profile is under a threat: its network is the suspect and
// vouches for nothing.
func (s *Switcher) sighting() modem.PLMN {
	if s.reach.plmn.IsZero() || s.reach.since.Sub(laterOf(s.lastSwitch, s.changedAt)) < reachSettle ||
		s.threatLevel(s.active) >= threat.SeverityMedium {
		return modem.PLMN{}
	}
	return s.reach.plmn
}

// allPLMNsAvoided reports whether every allowed PLMN p could use (as far as
// we know: the scan, else its listed PLMNs) is quarantined.
func (s *Switcher) allPLMNsAvoided(p *profiles.Profile, now time.Time) bool {
	cands := s.availableInScan(p)
	if len(cands) == 0 {
		if len(p.MCCs) > 0 {
			return false // a whole country: cannot all be quarantined by PLMN
		}
		for _, x := range p.PLMNs {
			if n, err := modem.ParsePLMN(string(x)); err == nil {
				cands = append(cands, n)
			}
		}
	}
	if len(cands) == 0 {
		return false
	}
	for _, c := range cands {
		if _, ok := s.quar.active(now, PLMNKey(c)); !ok {
			return false
		}
	}
	return true
}

func (s *Switcher) threatLevel(profile string) threat.Severity {
	if s.threatRes == nil {
		return threat.SeverityNone
	}
	for _, a := range s.threatRes.Profiles {
		if a.Scope == "profile:"+profile {
			return a.Level
		}
	}
	return threat.SeverityNone
}

func (s *Switcher) recentFailures(profile string, now time.Time) int {
	n := 0
	for _, t := range s.failures[profile] {
		if now.Sub(t) < historyTTL {
			n++
		}
	}
	return n
}

// rank orders scores best first: eligible, total, priority, name.
func (s *Switcher) rank(scores []Score) []Score {
	out := slices.Clone(scores)
	prio := func(name string) int {
		if p := s.cfg.Profile(name); p != nil {
			return p.Priority
		}
		return math.MaxInt
	}
	slices.SortStableFunc(out, func(a, b Score) int {
		switch {
		case a.Eligible != b.Eligible:
			if a.Eligible {
				return -1
			}
			return 1
		case a.Total != b.Total:
			if a.Total > b.Total {
				return -1
			}
			return 1
		case prio(a.Profile) != prio(b.Profile):
			return prio(a.Profile) - prio(b.Profile)
		case a.Profile < b.Profile:
			return -1
		case a.Profile > b.Profile:
			return 1
		}
		return 0
	})
	return out
}
