package threat

import (
	"fmt"
	"slices"
	"time"

	"github.com/imsid/imsid/modem"
)

// d2 checks the serving network against the profile's allowlist and the
// site's country, and counts PLMN changes.
type d2 struct {
	last    modem.PLMN
	changes []time.Time
}

func (*d2) info() DetectorInfo {
	return DetectorInfo{ID: D2, Version: 1, Name: "plmn_allowlist",
		Description: "PLMN outside the profile allowlist (D2a), foreign MCC at a stationary site (D2b), unexpected roaming (D2c), PLMN churn (D2d)"}
}

func (*d2) enabled(c *Config) bool { return c.D2.Enabled }

func (d *d2) observe(e *env, o *Observation) []Finding {
	if o.Registration != nil && !o.Registration.Status.Registered() {
		return nil
	}
	if o.Operator != nil && o.Operator.Mode == 2 {
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
	leave := func(f Finding, why Reason) Finding {
		f.Response = Response{Level: f.Severity, Actions: ActLeaveNow | ActAlert,
			Quarantine: []Quarantine{{Scope: scope, TTL: e.cfg.Scoring.PLMNQuarantine, Reason: why}}}
		return f
	}
	if hasList && !listed {
		out = append(out, leave(e.finding("D2a", ReasonPLMNNotAllowed, SeverityHigh, 3.0, scope,
			fmt.Sprintf("serving PLMN %s is not in profile %q's allowlist", plmn, e.profile),
			ev("plmn", plmn), ev("profile", e.profile)), ReasonPLMNNotAllowed))
	}
	site := &e.cfg.Site
	if e.stationary && site.CountryMCC != "" && plmn.MCC != site.CountryMCC {
		// A border site, or a profile that explicitly lists the foreign
		// network, sees it legitimately; it still scores, just low.
		if slices.Contains(site.BorderMCCs, plmn.MCC) || (hasList && listed) {
			out = append(out, e.finding("D2b", ReasonForeignMCC, SeverityMedium, 1.0, scope,
				fmt.Sprintf("serving MCC %s differs from the site's %s (allowed at this site)", plmn.MCC, site.CountryMCC),
				ev("mcc", plmn.MCC), ev("site_mcc", site.CountryMCC)))
		} else {
			out = append(out, leave(e.finding("D2b", ReasonForeignMCC, SeverityHigh, 3.5, scope,
				fmt.Sprintf("serving MCC %s differs from the site's %s at a stationary site", plmn.MCC, site.CountryMCC),
				ev("mcc", plmn.MCC), ev("site_mcc", site.CountryMCC)), ReasonForeignMCC))
		}
	}
	if o.Registration != nil && o.Registration.Status.Roaming() && !pol.RoamingExpected {
		out = append(out, e.finding("D2c", ReasonUnexpectedRoaming, SeverityMedium, 1.5, scope,
			fmt.Sprintf("registered as roaming on %s with profile %q, which should be at home", plmn, e.profile),
			ev("plmn", plmn), ev("stat", o.Registration.Status)))
	}
	if !d.last.IsZero() && d.last != plmn && !e.suppressed {
		d.changes = append(d.changes, e.now)
	}
	d.last = plmn
	d.changes = pruneBefore(d.changes, e.now.Add(-time.Hour))
	if e.stationary && len(d.changes) > e.cfg.D2.MaxChangesPerHour {
		out = append(out, e.finding("D2d", ReasonPLMNChurn, SeverityMedium, 1.5, e.scopeFor(o, ScopeProfile),
			fmt.Sprintf("%d PLMN changes in the last hour at a stationary site", len(d.changes)),
			ev("changes", len(d.changes)), ev("limit", e.cfg.D2.MaxChangesPerHour)))
	}
	return out
}
