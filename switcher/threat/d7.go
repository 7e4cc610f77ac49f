package threat

import (
	"fmt"
	"slices"

	"github.com/imsid/imsid/modem"
)

// d7 looks at the neighbour list: empty where the site normally has
// neighbours, missing the cell's usual neighbours, legacy RATs ranked above
// LTE for reselection, and serving-frequency priority drift.
type d7 struct {
	empty   int
	missing int
}

func (*d7) info() DetectorInfo {
	return DetectorInfo{ID: D7, Version: 1, Name: "neighbour_anomaly",
		Description: "empty neighbour list (D7a), legacy reselection priority above LTE (D7b), priority drift (D7c), baseline neighbours missing (D7m)"}
}

func (*d7) enabled(c *Config) bool { return c.D7.Enabled }

// minNeighbourPolls before a cell's regular neighbours mean anything.
const minNeighbourPolls = 10

func (d *d7) observe(e *env, o *Observation) []Finding {
	nl := o.Neighbours
	if nl == nil {
		return nil
	}
	cfg := &e.cfg.D7
	scope := e.scopeFor(o, ScopeCell)
	var out []Finding
	if f, ok := d.priority(e, nl, scope); ok {
		out = append(out, f)
	}
	if !e.stationary {
		return out
	}
	k, haveK := o.servingKey()
	rsrp, haveR := o.rsrp()
	p10, haveP := e.base.Site.NeighbourCount.Quantile(0.1)
	if len(nl.Cells) == 0 && e.warm && haveP && int(p10) >= cfg.EmptyMinP10 && haveR && rsrp >= cfg.EmptyMinRSRP {
		d.empty++
		if d.empty >= cfg.EmptyPolls {
			out = append(out, e.finding("D7a", ReasonNeighboursEmpty, SeverityMedium, 1.0, scope,
				fmt.Sprintf("no neighbour cells for %d polls at %.0f dBm where the site normally lists ≥ %.0f", d.empty, rsrp, p10),
				ev("polls", d.empty), ev("rsrp", rsrp), ev("site_p10", p10)))
		}
	} else {
		d.empty = 0
	}
	var rec *CellRecord
	if haveK && e.known(k) {
		rec = e.base.Cells[k]
	}
	if rec != nil && e.warm && len(nl.Cells) > 0 {
		if regular := rec.regularNeighbours(minNeighbourPolls); len(regular) > 0 {
			anyRegular := slices.ContainsFunc(nl.Cells, func(n NeighbourCell) bool {
				return n.EARFCN != nil && n.PCI != nil && slices.Contains(regular, Radio{*n.EARFCN, *n.PCI})
			})
			if anyRegular {
				d.missing = 0
			} else {
				d.missing++
				if d.missing >= cfg.MissingPolls {
					out = append(out, e.finding("D7m", ReasonNeighboursMissing, SeverityLow, 0.5, scope,
						fmt.Sprintf("cell %s lists none of its %d usual neighbours", k, len(regular)),
						ev("regular", fmt.Sprint(regular)), ev("listed", len(nl.Cells))))
				}
			}
		}
		if p, ok := servingPriority(nl); ok && len(rec.Priorities) > 0 && !slices.Contains(rec.Priorities, p) {
			out = append(out, e.finding("D7c", ReasonPriorityDrift, SeverityLow, 0.5, scope,
				fmt.Sprintf("cell %s advertises serving priority %d, baseline %v", k, p, rec.Priorities),
				ev("priority", p), ev("baseline", fmt.Sprint(rec.Priorities))))
		}
	} else {
		d.missing = 0
	}
	return out
}

// priority is D7b, the AT proxy for Rayhunter's SIB6/7 downgrade check.
// It does not depend on the baseline, so it runs on mobile sites too.
func (d *d7) priority(e *env, nl *NeighbourList, scope Scope) (Finding, bool) {
	lte, gsm, umts := -1, -1, -1
	for _, n := range nl.Cells {
		if n.Priority == nil {
			continue
		}
		p := *n.Priority
		switch n.Tech {
		case modem.TechLTE, modem.TechLTEM, modem.TechNBIoT, modem.TechNR5G, modem.TechNR5GNSA:
			lte = max(lte, p)
		case modem.TechGSM:
			gsm = max(gsm, p)
		case modem.TechUMTS:
			umts = max(umts, p)
		}
	}
	legacy, tech, live := gsm, modem.TechGSM, e.cfg.Site.Legacy2GLive
	if umts > gsm {
		legacy, tech, live = umts, modem.TechUMTS, e.cfg.Site.Legacy3GLive
	}
	if legacy < 0 {
		return Finding{}, false
	}
	if lte < 0 || legacy <= lte || live {
		// A lone legacy row, or a legacy RAT that really runs here: informational.
		if lte >= 0 && legacy <= lte {
			return Finding{}, false
		}
		return e.finding("D7b", ReasonLegacyPriority, SeverityNone, 0, scope,
			fmt.Sprintf("%s neighbour priority %d, LTE %d (informational)", tech, legacy, lte),
			ev("legacy_tech", tech), ev("legacy_priority", legacy), ev("lte_priority", lte), ev("legacy_live", live)), true
	}
	f := e.finding("D7b", ReasonLegacyPriority, SeverityHigh, 2.0, scope,
		fmt.Sprintf("%s reselection priority %d above LTE %d where %s is switched off", tech, legacy, lte, tech),
		ev("legacy_tech", tech), ev("legacy_priority", legacy), ev("lte_priority", lte))
	f.Response = Response{Level: SeverityHigh, Actions: ActCheckRATLock | ActAlert}
	return f, true
}
