package threat

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/imsid/imsid/modem"
)

// d2 checks the serving network against the profile's allowlist and the
// site's country, and counts PLMN changes.
//
// D2a and a High D2b leave the network and quarantine it at once, so they
// must not fire on a poll whose reads straddle a loss of registration: the
// registration read can still say "registered" on our network while the
// operator and serving-cell reads, made a moment later, already show the
// rival network the modem fell back to. Quarantining that PLMN would take
// the fallback profile's network away too. So the direct response needs a
// confirmed sighting: the observation's sources agree on the network
// (consistency), and the same off-list network was seen that way on
// D2.ConfirmPolls consecutive observations, each within D2.ConfirmWithin of
// the one before (persistence). Anything short of that is logged as a Low
// finding scoring d2UnconfirmedScore, with no response.
type d2 struct {
	last        modem.PLMN
	lastProfile string
	// changes are counted per profile: a switch to a profile on another
	// network is ours, not the network's, and one identity's churn says
	// nothing about another's.
	changes map[string][]time.Time
	streak  d2Streak
}

// d2Streak is the run of consistent off-list sightings of one network on
// one profile.
type d2Streak struct {
	profile string
	plmn    modem.PLMN
	n       int
	last    time.Time
}

// d2UnconfirmedScore is what an unconfirmed D2a/D2b scores: a first
// sighting, or one whose reads disagree. It stays below Watch on its own
// and, more to the point, below Suspect together with the most an unknown
// cell can add (D5a 1.5): otherwise the Suspect tier, which quarantines
// every scope whose own score reaches 2.5, would quarantine the rival's
// PLMN on one straddling poll just as the direct response did.
const d2UnconfirmedScore = 0.5

func (*d2) info() DetectorInfo {
	return DetectorInfo{ID: D2, Version: 2, Name: "plmn_allowlist",
		Description: "PLMN outside the profile allowlist (D2a), foreign MCC at a stationary site (D2b), unexpected roaming (D2c), PLMN churn (D2d); D2a/D2b act only on a consistent sighting that persists"}
}

func (*d2) enabled(c *Config) bool { return c.D2.Enabled }

// PLMNConflict reports why the sources of one observation disagree about
// the network we are on, or "" when every source present agrees. A poll
// whose reads straddle a loss of registration shows up here. Cell and area
// are compared only on the same technology: a CS registration (+CREG)
// legitimately reports a location area next to an LTE serving cell.
func (o *Observation) PLMNConflict() string {
	sc := o.Serving
	if sc == nil {
		return ""
	}
	if o.Operator != nil && !o.Operator.PLMN.IsZero() && !sc.PLMN.IsZero() && o.Operator.PLMN != sc.PLMN {
		return fmt.Sprintf("operator reports %s but the serving cell is on %s", o.Operator.PLMN, sc.PLMN)
	}
	r := o.Registration
	if r == nil {
		return ""
	}
	if r.Status.Registered() && (sc.State == "SEARCH" || sc.State == "LIMSRV") {
		return fmt.Sprintf("registration says %s but the serving cell is in state %s", r.Status, sc.State)
	}
	if r.AcT == nil || r.AcT.Tech() == modem.TechUnknown || r.AcT.Tech() != sc.Tech {
		return ""
	}
	if r.CellID != nil && sc.CellID != nil && *r.CellID != *sc.CellID {
		return fmt.Sprintf("registered on cell %x but the serving cell is %x", *r.CellID, *sc.CellID)
	}
	if r.Area != nil && sc.Area != nil && *r.Area != *sc.Area {
		return fmt.Sprintf("registered in area %x but the serving cell is in %x", *r.Area, *sc.Area)
	}
	return ""
}

// sighting records an off-list network seen this observation and returns
// how many consecutive consistent sightings of it there are so far (0 for
// an inconsistent one, which never counts towards confirmation).
func (d *d2) sighting(e *env, plmn modem.PLMN, consistent bool) int {
	s := &d.streak
	if !consistent {
		*s = d2Streak{}
		return 0
	}
	within := e.cfg.D2.ConfirmWithin
	if s.n == 0 || s.profile != e.profile || s.plmn != plmn || (within > 0 && e.now.Sub(s.last) > within) {
		*s = d2Streak{profile: e.profile, plmn: plmn}
	}
	s.n++
	s.last = e.now
	return s.n
}

func (d *d2) observe(e *env, o *Observation) []Finding {
	if o.Registration != nil && !o.Registration.Status.Registered() {
		// A lost registration ends any run of sightings: what comes back
		// is a new registration and must earn its confirmation again.
		d.streak = d2Streak{}
		return nil
	}
	if o.Operator != nil && o.Operator.Mode == 2 {
		d.streak = d2Streak{}
		return nil
	}
	plmn := o.servingPLMN()
	if plmn.IsZero() {
		return nil
	}
	var out []Finding
	pol := e.policy
	scope := e.scopeFor(o, ScopePLMN)
	hasList := len(pol.AllowedPLMNs) > 0 || len(pol.AllowedMCCs) > 0
	listed := slices.Contains(pol.AllowedPLMNs, plmn) || slices.Contains(pol.AllowedMCCs, plmn.MCC)
	site := &e.cfg.Site
	foreign := e.stationary && site.CountryMCC != "" && plmn.MCC != site.CountryMCC
	borderOK := slices.Contains(site.BorderMCCs, plmn.MCC) || (hasList && listed)
	conflict := o.PLMNConflict()

	direct := (hasList && !listed) || (foreign && !borderOK)
	need := max(e.cfg.D2.ConfirmPolls, 1)
	confirmed, seen := false, 0
	if direct {
		seen = d.sighting(e, plmn, conflict == "")
		confirmed = seen >= need
	} else {
		d.streak = d2Streak{}
	}
	// high emits a direct-response rule: High with leave-now and a PLMN
	// quarantine once confirmed, else Low evidence that says why not yet.
	high := func(rule string, why Reason, score float64, msg string, evidence ...Evidence) Finding {
		if confirmed {
			f := e.finding(rule, why, SeverityHigh, score, scope, msg, append(evidence, ev("sightings", seen))...)
			f.Response = Response{Level: f.Severity, Actions: ActLeaveNow | ActAlert,
				Quarantine: []Quarantine{{Scope: scope, TTL: e.cfg.Scoring.PLMNQuarantine, Reason: why}}}
			return f
		}
		if conflict != "" {
			return e.finding(rule, why, SeverityLow, d2UnconfirmedScore, scope,
				msg+" (inconsistent reads, not acted on: "+conflict+")", append(evidence, ev("inconsistent", conflict))...)
		}
		return e.finding(rule, why, SeverityLow, d2UnconfirmedScore, scope,
			msg+" (unconfirmed: sighting "+strconv.Itoa(seen)+" of "+strconv.Itoa(need)+")",
			append(evidence, ev("sightings", seen))...)
	}
	if hasList && !listed {
		out = append(out, high("D2a", ReasonPLMNNotAllowed, 3.0,
			fmt.Sprintf("serving PLMN %s is not in profile %q's allowlist", plmn, e.profile),
			ev("plmn", plmn), ev("profile", e.profile)))
	}
	if foreign {
		// A border site, or a profile that explicitly lists the foreign
		// network, sees it legitimately; it still scores, just low.
		if borderOK {
			out = append(out, e.finding("D2b", ReasonForeignMCC, SeverityMedium, 1.0, scope,
				fmt.Sprintf("serving MCC %s differs from the site's %s (allowed at this site)", plmn.MCC, site.CountryMCC),
				ev("mcc", plmn.MCC), ev("site_mcc", site.CountryMCC)))
		} else {
			out = append(out, high("D2b", ReasonForeignMCC, 3.5,
				fmt.Sprintf("serving MCC %s differs from the site's %s at a stationary site", plmn.MCC, site.CountryMCC),
				ev("mcc", plmn.MCC), ev("site_mcc", site.CountryMCC)))
		}
	}
	if o.Registration != nil && o.Registration.Status.Roaming() && !pol.RoamingExpected {
		out = append(out, e.finding("D2c", ReasonUnexpectedRoaming, SeverityMedium, 1.5, scope,
			fmt.Sprintf("registered as roaming on %s with profile %q, which should be at home", plmn, e.profile),
			ev("plmn", plmn), ev("stat", o.Registration.Status)))
	}
	// Churn counts only networks the observation agrees on, so a straddling
	// read does not add two phantom changes (there and back).
	if conflict == "" {
		if !d.last.IsZero() && d.last != plmn && d.lastProfile == e.profile && !e.suppressed {
			if d.changes == nil {
				d.changes = map[string][]time.Time{}
			}
			d.changes[e.profile] = append(d.changes[e.profile], e.now)
		}
		d.last, d.lastProfile = plmn, e.profile
	}
	for k, ch := range d.changes {
		if ch = pruneBefore(ch, e.now.Add(-time.Hour)); len(ch) == 0 {
			delete(d.changes, k)
		} else {
			d.changes[k] = ch
		}
	}
	if n := len(d.changes[e.profile]); e.stationary && n > e.cfg.D2.MaxChangesPerHour {
		out = append(out, e.finding("D2d", ReasonPLMNChurn, SeverityMedium, 1.5, e.scopeFor(o, ScopeProfile),
			fmt.Sprintf("%d PLMN changes of profile %q in the last hour at a stationary site", n, e.profile),
			ev("changes", n), ev("limit", e.cfg.D2.MaxChangesPerHour)))
	}
	return out
}
