package threat

import (
	"fmt"
	"time"
)

// d6 flags over-strong signal: a known cell far above its own median, an
// unknown cell stronger than anything the site normally sees, and sudden
// jumps on one cell.
type d6 struct {
	streakCell CellKey
	streak     int
	lastCell   CellKey
	lastRSRP   float64
	lastAt     timeVal
}

func (*d6) info() DetectorInfo {
	return DetectorInfo{ID: D6, Version: 1, Name: "signal_anomaly",
		Description: "known cell +12 dB over its median (D6a), unknown cell over the site p90+10 dB or -65 dBm (D6b), sudden RSRP jump (D6j)"}
}

func (*d6) enabled(c *Config) bool { return c.D6.Enabled }

func (d *d6) observe(e *env, o *Observation) []Finding {
	k, okK := o.servingKey()
	rsrp, okR := o.rsrp()
	if !okK || !okR || !e.stationary {
		return nil
	}
	cfg := &e.cfg.D6
	minN := e.cfg.Baseline.MinSignalSamples
	scope := e.scopeFor(o, ScopeCell)
	var out []Finding
	if d.streakCell != k {
		d.streakCell, d.streak = k, 0
	}
	if rec := e.base.Cells[k]; e.warm && e.known(k) && rec != nil && rec.RSRP.Total() >= minN {
		med, _ := rec.RSRP.Quantile(0.5)
		if rsrp-med > cfg.KnownCellExcess {
			d.streak++
			if d.streak >= cfg.Polls {
				out = append(out, e.finding("D6a", ReasonStrongKnownCell, SeverityLow, 0.5, scope,
					fmt.Sprintf("cell %s at %.0f dBm, %.0f dB over its median", k, rsrp, rsrp-med),
					ev("rsrp", rsrp), ev("median", med), ev("polls", d.streak)))
			}
		} else {
			d.streak = 0
		}
	}
	if e.warm && !e.known(k) {
		p90, ok := e.base.Site.ServingRSRP.Quantile(0.9)
		ok = ok && e.base.Site.ServingRSRP.Total() >= minN
		if (ok && rsrp >= p90+cfg.UnknownOverP90) || rsrp > cfg.UnknownAbsolute {
			evidence := []Evidence{ev("rsrp", rsrp), ev("absolute_limit", cfg.UnknownAbsolute)}
			if ok {
				evidence = append(evidence, ev("site_p90", p90))
			}
			out = append(out, e.finding("D6b", ReasonStrongUnknownCell, SeverityMedium, 1.0, scope,
				fmt.Sprintf("unknown cell %s at %.0f dBm, stronger than the site normally sees", k, rsrp), evidence...))
		}
	}
	if d.lastCell == k && d.lastAt.within(e.now, cfg.JumpWithin) && rsrp-d.lastRSRP >= cfg.JumpDB {
		out = append(out, e.finding("D6j", ReasonSignalJump, SeverityLow, 0.5, scope,
			fmt.Sprintf("cell %s jumped %.0f dB in %s", k, rsrp-d.lastRSRP, e.now.Sub(d.lastAt.t).Round(time.Second)),
			ev("rsrp", rsrp), ev("previous", d.lastRSRP)))
	}
	d.lastCell, d.lastRSRP = k, rsrp
	d.lastAt.set(e.now)
	return out
}
