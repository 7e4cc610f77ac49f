package daemon

import (
	"testing"
	"time"

	"github.com/imsid/imsid/internal/upstream"
	"github.com/imsid/imsid/modem"
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
		adv(upstream.ScopeRegion, "north", upstream.ActionQuarantine, "", time.Hour),   // no switcher scope
		adv(upstream.ScopePLMN, "310260", upstream.ActionQuarantine, "", -time.Minute), // expired
		adv(upstream.ScopePLMN, "26201", upstream.ActionRaiseThreat, upstream.LevelHigh, time.Hour),
		adv(upstream.ScopePLMN, "23415", upstream.ActionRaiseThreat, upstream.LevelCritical, time.Hour), // not serving
		adv(upstream.ScopePLMN, "bad", upstream.ActionQuarantine, "", time.Hour),
	}, now)
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
		[]upstream.Advisory{adv(upstream.ScopePLMN, "26201", upstream.ActionRaiseThreat, upstream.LevelLow, time.Hour)}, now)
	if r.Response.Level != threat.SeverityCritical {
		t.Errorf("level lowered to %v", r.Response.Level)
	}
}
