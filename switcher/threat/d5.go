package threat

import (
	"fmt"
	"sort"
)

// d5 flags cells the site baseline does not know, and unknown cells that
// appeared briefly and never came back (SeaGlass's "temporary towers").
type d5 struct{}

func (*d5) info() DetectorInfo {
	return DetectorInfo{ID: D5, Version: 1, Name: "unknown_cell",
		Description: "serving cell absent from the site baseline and fleet DB (D5a, +0.5 new band/EARFCN, +0.5 new TAC); transient unknown cell (D5b)"}
}

func (*d5) enabled(c *Config) bool { return c.D5.Enabled }

func (d *d5) observe(e *env, o *Observation) []Finding {
	// During warm-up everything is new; the baseline says nothing yet.
	if !e.warm || !e.stationary {
		return nil
	}
	var out []Finding
	if k, ok := o.servingKey(); ok && !e.known(k) {
		score := 0.5
		evidence := []Evidence{ev("cell", k)}
		r, haveR := o.radio()
		band := ""
		if o.Serving != nil {
			band = o.Serving.Band
		}
		if (haveR && !e.base.hasEARFCN(r.EARFCN)) || !e.base.hasBand(band) {
			score += 0.5
			evidence = append(evidence, ev("new_frequency", true))
			if haveR {
				evidence = append(evidence, ev("earfcn", r.EARFCN))
			}
		}
		if a, ok := o.area(); ok && !e.base.hasTAC(a) {
			score += 0.5
			evidence = append(evidence, ev("new_tac", fmt.Sprintf("%#x", a)))
		}
		out = append(out, e.finding("D5a", ReasonUnknownCell, severityForScore(score), score, e.scopeFor(o, ScopeCell),
			fmt.Sprintf("serving cell %s is not in the site baseline or fleet DB", k), evidence...))
	}
	// Transients are judged retroactively, once they have stayed away.
	keys := make([]CellKey, 0)
	cfg := &e.cfg.D5
	warmFrom := e.base.Started.Add(e.cfg.Baseline.WarmUp)
	for k, c := range e.base.Cells {
		if c.Reported || e.known(k) || c.FirstSeen.Before(warmFrom) {
			continue
		}
		if c.LastSeen.Sub(c.FirstSeen) < cfg.TransientMax && e.now.Sub(c.LastSeen) >= cfg.TransientGone {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		c := e.base.Cells[k]
		c.Reported = true
		var area uint32
		if len(c.TACs) > 0 {
			area = c.TACs[0]
		}
		out = append(out, e.finding("D5b", ReasonTransientCell, SeverityMedium, 1.0,
			Scope{Kind: ScopeCell, PLMN: k.PLMN, Cell: k, Area: area},
			fmt.Sprintf("unknown cell %s served for %s and has not been seen for %s", k, c.LastSeen.Sub(c.FirstSeen), e.now.Sub(c.LastSeen)),
			ev("cell", k), ev("first_seen", c.FirstSeen), ev("last_seen", c.LastSeen)))
	}
	return out
}
