package threat

import (
	"fmt"
	"time"
)

// d3 scores registration rejects by EMM cause (TS 24.301 Annex A).
type d3 struct {
	rejects    []time.Time
	recoveries []time.Time
	// stickySince is when the current run of sticky rejects (with an
	// active subscription) was first seen; zero once registered again.
	stickySince time.Time
}

func (*d3) info() DetectorInfo {
	return DetectorInfo{ID: D3, Version: 1, Name: "reject_causes",
		Description: "registration rejects with sticky or IMSI-exposing EMM causes (D3), and reject storms (D3s)"}
}

func (*d3) enabled(c *Config) bool { return c.D3.Enabled }

// causeInfo is one row of the reference's cause table.
type causeInfo struct {
	score  float64
	what   string
	sticky bool // #3/#6/#8: the UE treats the USIM as invalid until power-off
}

var causes = map[int]causeInfo{
	2:  {2.0, "IMSI unknown in HSS", false},
	3:  {3.0, "illegal UE", true},
	6:  {3.0, "illegal ME", true},
	7:  {3.0, "EPS services not allowed", false},
	8:  {3.0, "EPS and non-EPS services not allowed", true},
	9:  {1.5, "UE identity cannot be derived by the network", false},
	10: {1.5, "implicitly detached", false},
	11: {1.5, "PLMN not allowed", false},
	12: {1.5, "tracking area not allowed", false},
	13: {1.5, "roaming not allowed in this tracking area", false},
	14: {3.0, "EPS services not allowed in this PLMN", false},
	15: {1.5, "no suitable cells in tracking area", false},
	17: {0.5, "network failure", false},
	22: {0.5, "congestion", false},
	35: {1.5, "requested service option not authorised", false},
}

// locationCause: the network refuses this area or this PLMN, not the
// identity (#11, #12, #13, #15).
func locationCause(c int) bool { return c == 11 || c == 12 || c == 13 || c == 15 }

func (d *d3) observe(e *env, o *Observation) []Finding {
	reg := o.Registration
	if reg != nil && reg.Status.Registered() {
		d.stickySince = time.Time{} // service is back: nothing to recover
	}
	if reg == nil || reg.RejectCause == nil || reg.Status.Registered() {
		// A cause shown next to a registered status is stale.
		return nil
	}
	if reg.RejectCauseType != nil && *reg.RejectCauseType != 0 {
		return nil // manufacturer-specific causes have no agreed meaning
	}
	if e.suppressed {
		return nil // rejects right after our own switch or CFUN are expected re-attach noise
	}
	cause := *reg.RejectCause
	ci, ok := causes[cause]
	if !ok {
		return nil
	}
	if locationCause(cause) {
		// A location cause from a network the profile may not use anyway
		// is what a modem collects trying other operators once its own
		// network has vanished (TS 23.122 §4.4.3): expected, not hostile.
		if p := e.scopeFor(o, ScopeCell).PLMN; !p.IsZero() && e.policy.outsideAllowlist(p) {
			return nil
		}
	}
	cfg := &e.cfg.D3
	d.rejects = append(pruneBefore(d.rejects, e.now.Add(-cfg.StormWindow)), e.now)
	d.recoveries = pruneBefore(d.recoveries, e.now.Add(-24*time.Hour))

	score := ci.score
	evidence := []Evidence{ev("cause", cause), ev("meaning", ci.what), ev("stat", reg.Status)}
	k, haveCell := e.cellOf(o)
	area, haveArea := o.area()
	offBaseline := haveCell && e.suspicious(k, area, haveArea)
	recentCapture := e.hist.haveSuspicious && e.now.Sub(e.hist.suspiciousAt) <= cfg.CaptureWindow
	if offBaseline || recentCapture {
		score *= cfg.UnknownCellFactor
		evidence = append(evidence, ev("unknown_cell_factor", cfg.UnknownCellFactor))
	}
	if e.policy.RoamingExpected {
		score *= cfg.RoamingFactor
		evidence = append(evidence, ev("roaming_factor", cfg.RoamingFactor))
	}
	var resp Response
	if ci.sticky {
		evidence = append(evidence, ev("subscription", o.Subscription))
		switch o.Subscription {
		case SubscriptionSuspended:
			// An inactive SIM explains the reject (Rayhunter's #8 FP).
			score = 0.5
		case SubscriptionActive:
			// The recovery waits RecoveryBackoff from the first sticky
			// reject of the run, and as long again after each recovery.
			if d.stickySince.IsZero() {
				d.stickySince = e.now
			}
			from := d.stickySince
			if n := len(d.recoveries); n > 0 && d.recoveries[n-1].After(from) {
				from = d.recoveries[n-1]
			}
			switch due := from.Add(cfg.RecoveryBackoff); {
			case len(d.recoveries) >= cfg.MaxRecoveriesPerDay:
			case e.now.Before(due):
				evidence = append(evidence, ev("recovery_due", due))
			default:
				resp.Actions |= ActRecoverCFUN
				d.recoveries = append(d.recoveries, e.now)
			}
		}
	}
	scope := e.scopeFor(o, ScopeCell)
	sev := severityForScore(score)
	f := e.finding("D3", ReasonRejectCause, sev, score, scope,
		fmt.Sprintf("registration rejected with cause #%d (%s)", cause, ci.what), evidence...)
	if sev >= SeverityHigh {
		// Quarantine the cell, not the profile: an unauthenticated reject
		// alone must not mark a subscription bad.
		resp.Level = sev
		resp.Actions |= ActLeaveNow | ActAlert
		if q, ok := quarantineFor(scope, ReasonRejectCause, &e.cfg.Scoring); ok && scope.Kind == ScopeCell {
			resp.Quarantine = []Quarantine{q}
		}
	}
	f.Response = resp
	out := []Finding{f}
	if len(d.rejects) >= cfg.StormCount {
		out = append(out, e.finding("D3s", ReasonRejectStorm, SeverityMedium, 1.5, e.scopeFor(o, ScopeProfile),
			fmt.Sprintf("%d registration rejects within %s", len(d.rejects), cfg.StormWindow),
			ev("rejects", len(d.rejects)), ev("window", cfg.StormWindow)))
	}
	return out
}
