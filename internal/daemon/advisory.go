package daemon

import (
	"strconv"
	"strings"
	"time"

	"github.com/imsid/imsid/internal/upstream"
	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher/threat"
)

// Fleet advisories reach the switcher through the threat channel, the one
// way it takes outside policy at run time: each threat result is tightened
// with the advisories in force (a PLMN or cell quarantine for as long as the
// advisory lasts; a raised level while the serving network is the
// advisory's). Advisories only ever tighten, so this can only add.
//
// A region advisory applies when it names one of the site's regions
// (policy.site.regions) or "mcc:<country MCC>". Whatever its action, it
// raises the threat level: quarantining every network of the region the
// gateway stands in would take it offline, which is the attacker's goal
// (threat-detectors §3, "monotonic safety").

// reasonAdvisory marks quarantines and levels that came from the fleet.
const reasonAdvisory threat.Reason = "fleet_advisory"

// applyAdvisories tightens r with the advisories active at now (wall
// time: advisories are signed wall-clock documents).
func applyAdvisories(r threat.Result, o threat.Observation, as []upstream.Advisory, site profiles.Site, now time.Time) threat.Result {
	for _, a := range as {
		if !a.Active(now) {
			continue
		}
		if a.Scope == upstream.ScopeRegion {
			if inRegion(site, a.Key) {
				lvl := max(threat.Severity(a.Level.Rank()), threat.SeverityMedium)
				r.Response.Level = max(r.Response.Level, lvl)
				r.Overall.Level = max(r.Overall.Level, lvl)
			}
			continue
		}
		scope, ok := advisoryScope(a)
		if !ok {
			continue
		}
		switch a.Action {
		case upstream.ActionQuarantine:
			r.Response.Quarantine = append(r.Response.Quarantine, threat.Quarantine{Scope: scope, TTL: a.Expires.Sub(now), Reason: reasonAdvisory})
		case upstream.ActionRaiseThreat:
			if !serving(o, scope) {
				continue
			}
			lvl := threat.Severity(a.Level.Rank())
			r.Response.Level = max(r.Response.Level, lvl)
			r.Overall.Level = max(r.Overall.Level, lvl)
		}
	}
	return r
}

// advisoryScope maps an advisory's key onto a threat scope: "26201" is a
// PLMN, "26201/1a2b3c4" a cell (hex cell identity).
func advisoryScope(a upstream.Advisory) (threat.Scope, bool) {
	switch a.Scope {
	case upstream.ScopePLMN:
		p, err := modem.ParsePLMN(a.Key)
		if err != nil {
			return threat.Scope{}, false
		}
		return threat.Scope{Kind: threat.ScopePLMN, PLMN: p}, true
	case upstream.ScopeCell:
		pl, ci, ok := strings.Cut(a.Key, "/")
		if !ok {
			return threat.Scope{}, false
		}
		p, err := modem.ParsePLMN(pl)
		if err != nil {
			return threat.Scope{}, false
		}
		id, err := strconv.ParseUint(ci, 16, 64)
		if err != nil {
			return threat.Scope{}, false
		}
		return threat.Scope{Kind: threat.ScopeCell, PLMN: p, Cell: threat.CellKey{PLMN: p, CI: id}}, true
	}
	return threat.Scope{}, false
}

// serving reports whether the observation's serving network is in scope.
func serving(o threat.Observation, s threat.Scope) bool {
	var plmn modem.PLMN
	var ci *uint64
	if o.Serving != nil {
		plmn, ci = o.Serving.PLMN, o.Serving.CellID
	}
	if plmn.IsZero() && o.Operator != nil {
		plmn = o.Operator.PLMN
	}
	if plmn.IsZero() || plmn != s.PLMN {
		return false
	}
	if s.Kind == threat.ScopeCell {
		return ci != nil && *ci == s.Cell.CI
	}
	return true
}

// inRegion reports whether a region advisory's key names the site.
func inRegion(site profiles.Site, key string) bool {
	if mcc, ok := strings.CutPrefix(key, "mcc:"); ok {
		return site.CountryMCC != "" && mcc == string(site.CountryMCC)
	}
	for _, r := range site.Regions {
		if strings.EqualFold(r, key) {
			return true
		}
	}
	return false
}
