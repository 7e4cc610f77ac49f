package daemon

import (
	"testing"
	"time"

	"github.com/imsid/imsid/internal/upstream"
	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher/threat"
)

func TestApplyAdvisories(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	adv := func(scope upstream.Scope, key string, act upstream.Action, lvl upstream.Level, expires time.Duration) upstream.Advisory {
		return upstream.Advisory{ID: key, Issued: now.Add(-time.Hour), Expires: now.Add(expires), Scope: scope, Key: key, Action: act, Level: lvl}
	}
	ci := uint64(0x5A29C0B)
	tdg := modem.PLMN{MCC: "262", MNC: "01"}
	obs := threat.Observation{At: now, Serving: &modem.ServingCell{PLMN: tdg, CellID: &ci}}

	r := applyAdvisories(threat.Result{}, obs, []upstream.Advisory{
		adv(upstream.ScopePLMN, "23415", upstream.ActionQuarantine, "", time.Hour),
		adv(upstream.ScopeCell, "26201/5a29c0b", upstream.ActionQuarantine, "", 2*time.Hour),
		adv(upstream.ScopeRegion, "north", upstream.ActionQuarantine, "", time.Hour),   // not this site's region
		adv(upstream.ScopePLMN, "310260", upstream.ActionQuarantine, "", -time.Minute), // expired
		adv(upstream.ScopePLMN, "26201", upstream.ActionRaiseThreat, upstream.LevelHigh, time.Hour),
		adv(upstream.ScopePLMN, "23415", upstream.ActionRaiseThreat, upstream.LevelCritical, time.Hour), // not serving
		adv(upstream.ScopePLMN, "bad", upstream.ActionQuarantine, "", time.Hour),
	}, profiles.Site{Regions: []string{"south"}}, now)
	if len(r.Response.Quarantine) != 2 {
		t.Fatalf("quarantines %+v", r.Response.Quarantine)
	}
	q0, q1 := r.Response.Quarantine[0], r.Response.Quarantine[1]
	if q0.Scope.Kind != threat.ScopePLMN || q0.Scope.PLMN.String() != "23415" || q0.TTL != time.Hour || q0.Reason != reasonAdvisory {
		t.Errorf("plmn quarantine %+v", q0)
	}
	if q1.Scope.Kind != threat.ScopeCell || q1.Scope.Cell.CI != ci || q1.TTL != 2*time.Hour {
		t.Errorf("cell quarantine %+v", q1)
	}
	if r.Response.Level != threat.SeverityHigh || r.Overall.Level != threat.SeverityHigh {
		t.Errorf("level %v / %v, want high", r.Response.Level, r.Overall.Level)
	}
	// Only tightens: a higher level already there stays.
	r = applyAdvisories(threat.Result{Response: threat.Response{Level: threat.SeverityCritical}}, obs,
		[]upstream.Advisory{adv(upstream.ScopePLMN, "26201", upstream.ActionRaiseThreat, upstream.LevelLow, time.Hour)}, profiles.Site{}, now)
	if r.Response.Level != threat.SeverityCritical {
		t.Errorf("level lowered to %v", r.Response.Level)
	}
}

// A region advisory applies when it names one of the site's regions or its
// country, and only ever raises the level: it never quarantines networks.
func TestApplyRegionAdvisories(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	site := profiles.Site{CountryMCC: "262", Regions: []string{"berlin", "stores-north"}}
	reg := func(key string, act upstream.Action, lvl upstream.Level) upstream.Advisory {
		return upstream.Advisory{ID: key, Issued: now.Add(-time.Hour), Expires: now.Add(time.Hour), Scope: upstream.ScopeRegion, Key: key, Action: act, Level: lvl}
	}
	for _, tc := range []struct {
		name string
		a    upstream.Advisory
		want threat.Severity
	}{
		{"named region raises", reg("Berlin", upstream.ActionRaiseThreat, upstream.LevelHigh), threat.SeverityHigh},
		{"country raises", reg("mcc:262", upstream.ActionRaiseThreat, upstream.LevelCritical), threat.SeverityCritical},
		{"quarantine becomes a raise", reg("stores-north", upstream.ActionQuarantine, ""), threat.SeverityMedium},
		{"other region ignored", reg("munich", upstream.ActionRaiseThreat, upstream.LevelCritical), threat.SeverityNone},
		{"other country ignored", reg("mcc:234", upstream.ActionRaiseThreat, upstream.LevelCritical), threat.SeverityNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := applyAdvisories(threat.Result{}, threat.Observation{At: now}, []upstream.Advisory{tc.a}, site, now)
			if r.Response.Level != tc.want || r.Overall.Level != tc.want {
				t.Errorf("level %v / %v, want %v", r.Response.Level, r.Overall.Level, tc.want)
			}
			if len(r.Response.Quarantine) != 0 {
				t.Errorf("region advisory quarantined %+v", r.Response.Quarantine)
			}
			// The log says what the code does: "in force" exactly when it
			// raised the level.
			if msg, applies := advisoryEffect(tc.a, site); applies != (tc.want != threat.SeverityNone) || applies == (msg != "") {
				t.Errorf("advisoryEffect = %q, %v; applied level %v", msg, applies, tc.want)
			}
		})
	}
}
