package threat

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"
)

// BaselineVersion is the persisted format version.
const BaselineVersion = 1

// Per-record bounds keep the baseline's size independent of how long it runs.
const (
	maxDays       = 8
	maxTACs       = 8
	maxRadios     = 8
	maxNeighbours = 32
	maxPriorities = 4
	maxSiteSet    = 64
)

// Baseline is what is normal at this site: the cells seen with their
// identities, radios, neighbours and signal statistics, and site-wide
// distributions. It is learned from observations, trusted after warm-up,
// bounded in size, and serialisable to JSON for persistence.
//
// The fields are exported for encoding/json only; use the Engine to change
// a baseline.
type Baseline struct {
	Version      int                     `json:"version"`
	Started      time.Time               `json:"started"`
	Observations int                     `json:"observations"`
	IMEI         string                  `json:"imei,omitempty"` // last accepted modem IMEI (D10b)
	Cells        map[CellKey]*CellRecord `json:"cells"`
	Site         SiteStats               `json:"site"`
}

// CellRecord is one cell's baseline.
type CellRecord struct {
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Days are the distinct UTC days ("2006-01-02") the cell served on,
	// the most recent maxDays of them.
	Days   []string  `json:"days"`
	N      int       `json:"n"`
	TACs   []uint32  `json:"tacs,omitempty"`
	Radios []Radio   `json:"radios,omitempty"`
	RSRP   Histogram `json:"rsrp"`
	SINR   Histogram `json:"sinr"`
	// Neighbours counts how often each neighbour radio was listed while
	// this cell served, out of NeighbourPolls polls.
	Neighbours     []NeighbourSeen `json:"neighbours,omitempty"`
	NeighbourPolls int             `json:"neighbour_polls"`
	// Priorities are the serving-frequency reselection priorities seen.
	Priorities []int `json:"priorities,omitempty"`
	// Reported is set once the cell has been reported as transient (D5b).
	Reported bool `json:"reported,omitempty"`
	// Implicated is the last time a High-or-above finding named this
	// not-yet-trusted cell. It wipes the cell's trust days: trust must be earned again on
	// TrustDays fresh days, so a catcher that keeps returning never
	// becomes "normal".
	Implicated time.Time `json:"implicated,omitzero"`
}

// NeighbourSeen is one neighbour radio and how often it was listed.
type NeighbourSeen struct {
	Radio Radio `json:"radio"`
	Count int   `json:"count"`
}

// SiteStats are site-wide sets and distributions.
type SiteStats struct {
	PLMNs          []string  `json:"plmns,omitempty"`
	TACs           []uint32  `json:"tacs,omitempty"`
	EARFCNs        []int     `json:"earfcns,omitempty"`
	Bands          []string  `json:"bands,omitempty"`
	ServingRSRP    Histogram `json:"serving_rsrp"`
	RSSI           Histogram `json:"rssi"`
	NoiseRise      Histogram `json:"noise_rise"` // RSSI − RSRP
	NeighbourCount Histogram `json:"neighbour_count"`
}

// Histogram counts integer-rounded values in 1-unit bins from Lo. Values
// outside the range land in the end bins. It gives exact quantiles at that
// resolution with a fixed size.
type Histogram struct {
	Lo     int      `json:"lo"`
	Counts []uint32 `json:"counts"`
}

func newHist(lo, hi int) Histogram { return Histogram{Lo: lo, Counts: make([]uint32, hi-lo+1)} }

// Total is the number of samples.
func (h *Histogram) Total() int {
	t := 0
	for _, c := range h.Counts {
		t += int(c)
	}
	return t
}

func (h *Histogram) add(v float64, capTotal int) {
	if len(h.Counts) == 0 {
		return
	}
	i := int(roundHalfUp(v)) - h.Lo
	i = max(0, min(i, len(h.Counts)-1))
	h.Counts[i]++
	if capTotal > 0 && h.Total() > capTotal {
		for j := range h.Counts {
			h.Counts[j] /= 2
		}
	}
}

// Quantile returns the q-quantile (0..1); ok is false with no samples.
func (h *Histogram) Quantile(q float64) (float64, bool) {
	t := h.Total()
	if t == 0 {
		return 0, false
	}
	need := q * float64(t)
	acc := 0
	for i, c := range h.Counts {
		acc += int(c)
		if float64(acc) >= need && acc > 0 {
			return float64(h.Lo + i), true
		}
	}
	return float64(h.Lo + len(h.Counts) - 1), true
}

func roundHalfUp(v float64) float64 {
	if v < 0 {
		return -roundHalfUp(-v)
	}
	return float64(int64(v + 0.5))
}

// NewBaseline returns an empty baseline whose learning starts at start.
func NewBaseline(start time.Time) *Baseline {
	return &Baseline{
		Version: BaselineVersion,
		Started: start,
		Cells:   map[CellKey]*CellRecord{},
		Site: SiteStats{
			ServingRSRP:    newHist(-140, -30),
			RSSI:           newHist(-120, -20),
			NoiseRise:      newHist(0, 60),
			NeighbourCount: newHist(0, 32),
		},
	}
}

// UnmarshalJSON checks the format version and restores the invariants a
// hand-edited or truncated file may have broken, so a bad file gives an
// error naming the field instead of a panic later.
func (b *Baseline) UnmarshalJSON(data []byte) error {
	type wire Baseline
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("threat: baseline: %w", err)
	}
	if w.Version != BaselineVersion {
		return fmt.Errorf("threat: baseline: version %d, want %d", w.Version, BaselineVersion)
	}
	fresh := NewBaseline(w.Started)
	fix := func(h *Histogram, want Histogram) {
		if h.Lo != want.Lo || len(h.Counts) != len(want.Counts) {
			*h = want
		}
	}
	fix(&w.Site.ServingRSRP, fresh.Site.ServingRSRP)
	fix(&w.Site.RSSI, fresh.Site.RSSI)
	fix(&w.Site.NoiseRise, fresh.Site.NoiseRise)
	fix(&w.Site.NeighbourCount, fresh.Site.NeighbourCount)
	if w.Cells == nil {
		w.Cells = map[CellKey]*CellRecord{}
	}
	for k, c := range w.Cells {
		if c == nil {
			delete(w.Cells, k)
			continue
		}
		fix(&c.RSRP, newHist(-140, -30))
		fix(&c.SINR, newHist(-20, 40))
	}
	*b = Baseline(w)
	return nil
}

// Clone returns a deep copy, for persisting while the engine runs on.
func (b *Baseline) Clone() *Baseline {
	data, err := json.Marshal(b)
	if err != nil {
		panic(err) // only plain data inside: cannot fail
	}
	var c Baseline
	if err := json.Unmarshal(data, &c); err != nil {
		panic(err)
	}
	return &c
}

func (b *Baseline) warm(now time.Time, cfg *BaselineConfig) bool {
	return now.Sub(b.Started) >= cfg.WarmUp && b.Observations >= cfg.WarmUpObservations
}

// trusted reports whether the cell has been seen on enough distinct days.
func (b *Baseline) trusted(k CellKey, cfg *BaselineConfig) bool {
	c := b.Cells[k]
	return c != nil && len(c.Days) >= cfg.TrustDays
}

func (b *Baseline) hasTAC(t uint32) bool   { return slices.Contains(b.Site.TACs, t) }
func (b *Baseline) hasEARFCN(e int) bool   { return slices.Contains(b.Site.EARFCNs, e) }
func (b *Baseline) hasBand(s string) bool  { return s == "" || slices.Contains(b.Site.Bands, s) }
func (c *CellRecord) hasTAC(t uint32) bool { return slices.Contains(c.TACs, t) }
func (c *CellRecord) hasRadio(r Radio) bool {
	return slices.Contains(c.Radios, r)
}

// addBounded appends v to a set kept sorted, dropping the smallest element
// when full so the record stays bounded.
func addSorted[T int | uint32 | string](s []T, v T, limit int) []T {
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	s = slices.Insert(s, i, v)
	if len(s) > limit {
		s = s[1:]
	}
	return s
}

// learnOpts says which parts of an observation may be learned.
type learnOpts struct {
	identity bool // cells, TACs, radios, neighbours (paused during suppression)
	signal   bool // signal statistics (paused while an anomaly is present)
	// locked: for trusted cells, do not add new TACs/radios (D4 decides).
	locked bool
	// implicated: the serving cell is suspect; only its sighting times
	// are kept (D5b needs them), nothing that would build trust.
	implicated bool
}

func (b *Baseline) learn(o *Observation, cfg *Config, opt learnOpts) {
	b.Observations++
	key, ok := o.servingKey()
	if !ok {
		return
	}
	c := b.Cells[key]
	if c == nil {
		if !opt.identity {
			return
		}
		c = &CellRecord{FirstSeen: o.At, RSRP: newHist(-140, -30), SINR: newHist(-20, 40)}
		b.Cells[key] = c
		b.evict(cfg.Baseline.MaxCells, key, &cfg.Baseline)
	}
	capT := cfg.Baseline.HistogramCap
	if opt.implicated {
		if opt.identity && o.At.After(c.LastSeen) {
			c.LastSeen = o.At
		}
		return
	}
	if opt.identity {
		if o.At.After(c.LastSeen) {
			c.LastSeen = o.At
		}
		c.N++
		day := o.At.UTC().Format("2006-01-02")
		if !slices.Contains(c.Days, day) {
			c.Days = append(c.Days, day)
			sort.Strings(c.Days)
			if len(c.Days) > maxDays {
				c.Days = c.Days[len(c.Days)-maxDays:]
			}
		}
		trustedCell := len(c.Days) >= cfg.Baseline.TrustDays
		learnIdent := !(opt.locked && trustedCell)
		b.Site.PLMNs = addSorted(b.Site.PLMNs, key.PLMN.String(), maxSiteSet)
		if t, ok := o.area(); ok && (learnIdent || len(c.TACs) == 0) {
			c.TACs = addSorted(c.TACs, t, maxTACs)
			b.Site.TACs = addSorted(b.Site.TACs, t, maxSiteSet)
		}
		if r, ok := o.radio(); ok && (learnIdent || len(c.Radios) == 0) {
			if !c.hasRadio(r) {
				c.Radios = append(c.Radios, r)
				if len(c.Radios) > maxRadios {
					c.Radios = c.Radios[1:]
				}
			}
			b.Site.EARFCNs = addSorted(b.Site.EARFCNs, r.EARFCN, maxSiteSet)
		}
		if o.Serving != nil && o.Serving.Band != "" {
			b.Site.Bands = addSorted(b.Site.Bands, o.Serving.Band, maxSiteSet)
		}
		if o.Neighbours != nil {
			b.learnNeighbours(c, o.Neighbours, capT, learnIdent)
		}
	}
	if opt.signal {
		if v, ok := o.rsrp(); ok {
			c.RSRP.add(v, capT)
			b.Site.ServingRSRP.add(v, capT)
		}
		if v, ok := o.sinr(); ok {
			c.SINR.add(v, capT)
		}
		if v, ok := o.rssi(); ok {
			b.Site.RSSI.add(v, capT)
			if r, ok := o.rsrp(); ok {
				b.Site.NoiseRise.add(v-r, capT)
			}
		}
	}
}

func (b *Baseline) learnNeighbours(c *CellRecord, nl *NeighbourList, capT int, learnIdent bool) {
	b.Site.NeighbourCount.add(float64(len(nl.Cells)), capT)
	c.NeighbourPolls++
	seen := map[Radio]bool{}
	for _, n := range nl.Cells {
		if n.EARFCN == nil || n.PCI == nil {
			continue
		}
		r := Radio{*n.EARFCN, *n.PCI}
		if seen[r] {
			continue
		}
		seen[r] = true
		i := slices.IndexFunc(c.Neighbours, func(s NeighbourSeen) bool { return s.Radio == r })
		if i >= 0 {
			c.Neighbours[i].Count++
			continue
		}
		if len(c.Neighbours) >= maxNeighbours {
			// Replace the rarest so a slowly changing neighbourhood can still enter.
			j := 0
			for k := range c.Neighbours {
				if c.Neighbours[k].Count < c.Neighbours[j].Count {
					j = k
				}
			}
			c.Neighbours[j] = NeighbourSeen{Radio: r, Count: 1}
			continue
		}
		c.Neighbours = append(c.Neighbours, NeighbourSeen{Radio: r, Count: 1})
	}
	sort.Slice(c.Neighbours, func(i, j int) bool {
		a, b := c.Neighbours[i].Radio, c.Neighbours[j].Radio
		return a.EARFCN < b.EARFCN || (a.EARFCN == b.EARFCN && a.PCI < b.PCI)
	})
	if p, ok := servingPriority(nl); ok && (learnIdent || len(c.Priorities) == 0) {
		c.Priorities = addSorted(c.Priorities, p, maxPriorities)
	}
	if capT > 0 && c.NeighbourPolls > capT {
		c.NeighbourPolls /= 2
		for i := range c.Neighbours {
			c.Neighbours[i].Count /= 2
		}
	}
}

// implicate records suspicion against a cell that is still earning trust.
// A trusted cell is not demoted: a finding on the site's own cell (a
// reject, a cloned identity) is about whoever used its identity, and D4
// watches that.
func (b *Baseline) implicate(k CellKey, now time.Time, cfg *BaselineConfig) {
	if c := b.Cells[k]; c != nil && len(c.Days) < cfg.TrustDays {
		c.Implicated, c.Days = now, nil
	}
}

// regularNeighbours are the radios listed in at least half the polls.
func (c *CellRecord) regularNeighbours(minPolls int) []Radio {
	if c.NeighbourPolls < minPolls {
		return nil
	}
	var out []Radio
	for _, n := range c.Neighbours {
		if 2*n.Count >= c.NeighbourPolls {
			out = append(out, n.Radio)
		}
	}
	return out
}

// evict drops cells until the baseline fits: untrusted cells before
// trusted ones, least recently seen first, never the cell just added.
func (b *Baseline) evict(limit int, keep CellKey, cfg *BaselineConfig) {
	for len(b.Cells) > limit {
		var victim CellKey
		found := false
		var vt bool
		var vs time.Time
		for k, c := range b.Cells {
			if k == keep {
				continue
			}
			t := len(c.Days) >= cfg.TrustDays
			better := !found ||
				(!t && vt) ||
				(t == vt && (c.LastSeen.Before(vs) || (c.LastSeen.Equal(vs) && k.String() < victim.String())))
			if better {
				victim, vt, vs, found = k, t, c.LastSeen, true
			}
		}
		if !found {
			return
		}
		delete(b.Cells, victim)
	}
}

// servingPriority is the LTE intra-frequency reselection priority.
func servingPriority(nl *NeighbourList) (int, bool) {
	for _, n := range nl.Cells {
		if n.Intra && n.Priority != nil {
			return *n.Priority, true
		}
	}
	return 0, false
}
