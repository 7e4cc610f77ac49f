package threat

import (
	"fmt"
	"sort"
	"time"
)

// d4 looks for a known cell identity showing up with a new TAC or radio,
// or a radio showing a different cell identity: cloned or re-planned cells.
type d4 struct {
	pending   map[string]*pend
	radioLast map[Radio]radioSeen
}

type pend struct {
	first, last time.Time
	polls       int
	lastPoll    int
	accept      func()
}

type radioSeen struct {
	cell CellKey
	at   time.Time
}

const maxPending = 64

func newD4() *d4 { return &d4{pending: map[string]*pend{}, radioLast: map[Radio]radioSeen{}} }

func (*d4) info() DetectorInfo {
	return DetectorInfo{ID: D4, Version: 1, Name: "cell_identity",
		Description: "a known cell with a new TAC (D4a) or new EARFCN/PCI (D4b); a radio showing a different CI within minutes (D4c); a known CI under a new PLMN (D4p)"}
}

func (*d4) enabled(c *Config) bool { return c.D4.Enabled }

func (d *d4) observe(e *env, o *Observation) []Finding {
	k, ok := o.servingKey()
	if !ok || !e.stationary {
		return nil
	}
	poll := e.hist.servingPolls + 1
	cfg := &e.cfg.D4
	var out []Finding
	scope := e.scopeFor(o, ScopeCell)
	check := func(id string, accept func(), f func() Finding) {
		p := d.pending[id]
		if p == nil {
			if len(d.pending) >= maxPending {
				d.dropOldest()
			}
			p = &pend{first: e.now}
			d.pending[id] = p
		}
		if p.lastPoll == poll-1 {
			p.polls++
		} else {
			p.polls = 1
		}
		p.lastPoll, p.last, p.accept = poll, e.now, accept
		if e.now.Sub(p.first) >= cfg.AcceptAfter {
			// Persisted for days with nothing else firing: operator re-planning.
			accept()
			delete(d.pending, id)
			return
		}
		if p.polls >= cfg.Polls {
			out = append(out, f())
		}
	}
	rec := e.base.Cells[k]
	if e.warm && rec != nil && e.base.trusted(k, &e.cfg.Baseline) {
		if a, ok := o.area(); ok && len(rec.TACs) > 0 && !rec.hasTAC(a) {
			check(fmt.Sprintf("a|%s|%d", k, a), func() {
				rec.TACs = addSorted(rec.TACs, a, maxTACs)
				e.base.Site.TACs = addSorted(e.base.Site.TACs, a, maxSiteSet)
			}, func() Finding {
				return e.finding("D4a", ReasonCellNewTAC, SeverityMedium, 1.0, scope,
					fmt.Sprintf("known cell %s reported in TAC %#x, outside its baseline TACs", k, a),
					ev("cell", k), ev("tac", fmt.Sprintf("%#x", a)), ev("baseline_tacs", hexList(rec.TACs)))
			})
		}
		if r, ok := o.radio(); ok && len(rec.Radios) > 0 && !rec.hasRadio(r) {
			check(fmt.Sprintf("b|%s|%s", k, r), func() {
				rec.Radios = append(rec.Radios, r)
				if len(rec.Radios) > maxRadios {
					rec.Radios = rec.Radios[1:]
				}
				e.base.Site.EARFCNs = addSorted(e.base.Site.EARFCNs, r.EARFCN, maxSiteSet)
			}, func() Finding {
				return e.finding("D4b", ReasonCellNewRadio, SeverityMedium, 1.0, scope,
					fmt.Sprintf("known cell %s on EARFCN/PCI %s, never seen for it", k, r),
					ev("cell", k), ev("radio", r), ev("baseline_radios", fmt.Sprint(rec.Radios)))
			})
		}
	}
	if e.warm && !e.known(k) {
		if other, ok := d.samePLMNlessCI(e, k); ok {
			check(fmt.Sprintf("p|%s", k), func() {}, func() Finding {
				return e.finding("D4p", ReasonCellNewPLMN, SeverityMedium, 1.0, scope,
					fmt.Sprintf("cell identity %x, known here under PLMN %s, now broadcast as PLMN %s", k.CI, other.PLMN, k.PLMN),
					ev("cell", k), ev("known_as", other))
			})
		}
	}
	if r, ok := o.radio(); ok {
		last, seen := d.radioLast[r]
		reused := seen && last.cell != k && e.now.Sub(last.at) <= cfg.RadioReuseWindow && !d.bothKnownOn(e, r, last.cell, k)
		if reused && e.warm {
			check(fmt.Sprintf("c|%s|%s", r, k), func() {}, func() Finding {
				return e.finding("D4c", ReasonRadioNewCell, SeverityLow, 0.5, scope,
					fmt.Sprintf("EARFCN/PCI %s showed cell %s, then %s within %s", r, last.cell, k, cfg.RadioReuseWindow),
					ev("radio", r), ev("previous_cell", last.cell), ev("cell", k))
			})
		} else {
			// Keep the first cell seen on the radio as the reference while a
			// different one is showing, so the window is measured from it.
			d.radioLast[r] = radioSeen{cell: k, at: e.now}
		}
		if len(d.radioLast) > 4*maxPending {
			d.radioLast = map[Radio]radioSeen{r: {cell: k, at: e.now}}
		}
	}
	// Tuples not seen for a day are forgotten: they were not persistent.
	for id, p := range d.pending {
		if e.now.Sub(p.last) > 24*time.Hour {
			delete(d.pending, id)
		}
	}
	return out
}

// samePLMNlessCI finds a trusted cell with the same CI under another PLMN.
// Network sharing broadcasts one CI under several PLMNs; the baseline learns
// those, so only a PLMN never seen with this CI gets here.
func (d *d4) samePLMNlessCI(e *env, k CellKey) (CellKey, bool) {
	var best CellKey
	found := false
	for other := range e.base.Cells {
		if other.CI == k.CI && other.PLMN != k.PLMN && e.base.trusted(other, &e.cfg.Baseline) &&
			(!found || other.String() < best.String()) {
			best, found = other, true
		}
	}
	return best, found
}

// bothKnownOn: PCI reuse the baseline already knows at this site is normal.
func (d *d4) bothKnownOn(e *env, r Radio, a, b CellKey) bool {
	ra, rb := e.base.Cells[a], e.base.Cells[b]
	return ra != nil && rb != nil && ra.hasRadio(r) && rb.hasRadio(r) &&
		e.base.trusted(a, &e.cfg.Baseline) && e.base.trusted(b, &e.cfg.Baseline)
}

// noteOthers restarts the acceptance clock of every pending tuple when
// another detector fired: only an otherwise quiet change is accepted.
func (d *d4) noteOthers(fired bool, now time.Time) {
	if !fired {
		return
	}
	for _, p := range d.pending {
		p.first = now
	}
}

func (d *d4) dropOldest() {
	ids := make([]string, 0, len(d.pending))
	for id := range d.pending {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := d.pending[ids[i]], d.pending[ids[j]]
		return a.last.Before(b.last) || (a.last.Equal(b.last) && ids[i] < ids[j])
	})
	delete(d.pending, ids[0])
}

func hexList(ts []uint32) string {
	s := "["
	for i, t := range ts {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%#x", t)
	}
	return s + "]"
}
