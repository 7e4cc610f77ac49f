package threat

import (
	"fmt"
	"slices"

	"github.com/imsid/imsid/modem"
)

// d1 watches for a drop to a legacy RAT (2G, 3G) and for the RAT lock we
// wrote reading back changed.
type d1 struct {
	goodStreak int
	lastGood   timeVal
	lastRevert timeVal
}

func (*d1) info() DetectorInfo {
	return DetectorInfo{ID: D1, Version: 1, Name: "rat_downgrade",
		Description: "2G under an LTE-only policy (D1a), a sudden LTE→2G/3G drop right after good LTE (D1d/D1u), the RAT lock reading back changed (D1b)"}
}

func (*d1) enabled(c *Config) bool { return c.D1.Enabled }

func (d *d1) observe(e *env, o *Observation) []Finding {
	cfg := &e.cfg.D1
	var out []Finding
	if f, ok := d.lock(e, o); ok {
		out = append(out, f)
	}
	tech := o.tech()
	// A modem that lost service may still print the last AcT, and some
	// firmware says "GSM" while searching: judge only a RAT we are on.
	if o.Registration != nil && !o.Registration.Status.Registered() {
		return out
	}
	if o.Serving != nil && (o.Serving.State == "SEARCH" || o.Serving.State == "LIMSRV") {
		return out
	}
	switch tech {
	case modem.TechLTE, modem.TechLTEM, modem.TechNBIoT, modem.TechNR5G, modem.TechNR5GNSA:
		rsrp, okR := o.rsrp()
		sinr, okS := o.sinr()
		if okR && rsrp >= cfg.GoodLTERSRP && (!okS || sinr >= cfg.GoodLTESINR) {
			d.goodStreak++
			d.lastGood.set(e.now)
		} else if okR || okS {
			// Weak LTE before the drop makes it a coverage loss, not a redirect.
			d.goodStreak = 0
		}
	case modem.TechGSM:
		scope := e.scopeFor(o, ScopeCell)
		sudden := d.sudden(e)
		d.goodStreak = 0
		if !e.policy.Allow2G {
			sev := SeverityHigh
			if !e.cfg.Site.Legacy2GLive {
				sev = SeverityCritical
			}
			f := e.finding("D1a", Reason2GUnderLTEPolicy, sev, 3.0, scope,
				"registered on 2G although the profile's policy is LTE/NR only: the RAT lock failed or was tampered with",
				ev("tech", tech), ev("legacy_2g_live", e.cfg.Site.Legacy2GLive), ev("sudden", sudden))
			f.Response = downgradeResponse(sev, scope, e)
			return append(out, f)
		}
		if sudden {
			sev, score := SeverityHigh, 3.0
			if e.cfg.Site.Legacy2GLive {
				sev, score = SeverityLow, 1.0
			}
			f := e.finding("D1d", ReasonSudden2GDowngrade, sev, score, scope,
				fmt.Sprintf("dropped from good LTE to 2G within %s with no weak-signal phase", cfg.Within),
				ev("good_lte_polls", fmt.Sprint(cfg.GoodPolls)), ev("legacy_2g_live", e.cfg.Site.Legacy2GLive))
			if sev >= SeverityHigh {
				f.Response = downgradeResponse(sev, scope, e)
			}
			out = append(out, f)
		}
	case modem.TechUMTS:
		if d.sudden(e) {
			score := 1.5
			if e.cfg.Site.Legacy3GLive {
				score = 0.5
			}
			out = append(out, e.finding("D1u", ReasonSudden3GDowngrade, severityForScore(score), score, e.scopeFor(o, ScopeCell),
				fmt.Sprintf("dropped from good LTE to 3G within %s with no weak-signal phase", cfg.Within),
				ev("legacy_3g_live", e.cfg.Site.Legacy3GLive)))
		}
		d.goodStreak = 0
	}
	return out
}

func (d *d1) sudden(e *env) bool {
	// Inside our own switch the previous LTE belonged to another profile.
	return !e.suppressed && d.goodStreak >= e.cfg.D1.GoodPolls && d.lastGood.within(e.now, e.cfg.D1.Within)
}

func downgradeResponse(sev Severity, scope Scope, e *env) Response {
	// Leaving matters only while the quarantined 2G cell still serves; once
	// the lock has pulled the modem back to LTE there is nothing to leave.
	r := Response{Level: sev, Actions: ActForbid2G | ActCheckRATLock | ActAlert | ActLeaveNow}
	if scope.Kind == ScopeCell {
		r.Quarantine = []Quarantine{{Scope: scope, TTL: e.cfg.Scoring.CellQuarantine, Reason: Reason2GUnderLTEPolicy}}
	}
	return r
}

// lock is D1b: the RAT configuration read back is not what we wrote. A
// modem reset or firmware update can quietly restore the defaults.
func (d *d1) lock(e *env, o *Observation) (Finding, bool) {
	rl := o.RATLock
	if rl == nil {
		return Finding{}, false
	}
	want, got := techSet(rl.Want), techSet(rl.Got)
	if slices.Equal(want, got) {
		return Finding{}, false
	}
	recur := d.lastRevert.within(e.now, e.cfg.D1.LockRecurWithin)
	d.lastRevert.set(e.now)
	f := e.finding("D1b", ReasonRATLockChanged, SeverityHigh, 3.0, Scope{Kind: ScopeDevice},
		"the RAT lock read back differs from the policy we wrote",
		ev("want", fmt.Sprint(want)), ev("got", fmt.Sprint(got)), ev("recurred", recur))
	f.Response = Response{Level: SeverityHigh, Actions: ActRewriteRATLock}
	if recur {
		f.Response.Actions |= ActAlert
	}
	if slices.Contains(got, modem.TechGSM) && !slices.Contains(want, modem.TechGSM) {
		f.Response.Actions |= ActForbid2G
	}
	return f, true
}

func techSet(ts []modem.Tech) []modem.Tech {
	out := slices.Clone(ts)
	slices.Sort(out)
	return slices.Compact(out)
}
