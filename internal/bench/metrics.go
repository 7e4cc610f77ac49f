package bench

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/simulator"
)

// meter turns the simulator's state, sampled every sc.Sample, into a Run.
// It measures the world, not the switcher's own account: the SIM's IMSI,
// whether traffic passes, the serving cell, the byte counters.
type meter struct {
	sc    Scenario
	ep    Episode
	cfg   *profiles.Config
	price map[string]float64 // USD per byte

	r        Run
	profile  string // last identified profile on the SIM
	switches []sw
	lossAt   time.Duration // -1: no loss since the onset yet
	restored bool
	lastB    int64
	haveB    bool
	gapFrom  time.Duration // -1: data flowing
	// samples and decs feed the failover's phases (failover scenarios).
	samples []sample
	decs    []decision
}

type sw struct {
	at       time.Duration
	from, to string
}

func newMeter(sc Scenario, ep Episode, cfg *profiles.Config) *meter {
	m := &meter{sc: sc, ep: ep, cfg: cfg, price: prices(cfg), lossAt: -1, gapFrom: -1}
	return m
}

// prices is each profile's marginal price per byte: per MB plus the
// roaming surcharge (as the switcher's cost score).
func prices(cfg *profiles.Config) map[string]float64 {
	out := map[string]float64{}
	for _, p := range cfg.Profiles {
		micros := p.Cost.PerMB.Micros
		if p.Roaming {
			micros += p.Cost.RoamingPerMB.Micros
		}
		out[p.Name] = float64(micros) / 1e6 / 1e6
	}
	return out
}

func (m *meter) identify(imsi string) string {
	best, n := "", 0
	for _, p := range m.cfg.Profiles {
		if pre := string(p.IMSIPrefix); pre != "" && strings.HasPrefix(imsi, pre) && len(pre) > n {
			best, n = p.Name, len(pre)
		}
	}
	return best
}

func (m *meter) add(t time.Duration, st simulator.State) {
	if p := m.identify(st.IMSI); p != "" && st.SIM == "ready" {
		if m.profile != "" && p != m.profile && t >= MeasureFrom {
			m.switches = append(m.switches, sw{at: t, from: m.profile, to: p})
		}
		m.profile = p
	}
	bytes := st.TxBytes + st.RxBytes
	delta := int64(0)
	if m.haveB && bytes >= m.lastB {
		delta = bytes - m.lastB
	}
	m.lastB, m.haveB = bytes, true
	if m.sc.Failover && t >= m.ep.Onset-time.Minute && !m.restored {
		m.samples = append(m.samples, toSample(t, m.profile, st))
	}
	if t < MeasureFrom {
		return
	}
	m.r.Bytes += delta
	price := m.price[m.profile]
	if m.ep.Price != nil {
		if p, ok := m.ep.Price(m.profile, t); ok {
			price = p
		}
	}
	m.r.Cost += float64(delta) * price
	if !st.DataUp {
		m.r.Downtime += m.sc.Sample
		if m.gapFrom < 0 {
			m.gapFrom = t - m.sc.Sample
		}
	} else if m.gapFrom >= 0 {
		m.endGap(t)
	}
	registered := st.RegStat == 1 || st.RegStat == 5
	if registered && (st.RAT == simulator.RATGSM || st.CI == rogueCI) {
		m.r.Suspicious += m.sc.Sample
	}
	if m.sc.Failover && t >= m.ep.Onset && !m.restored {
		// The simulator stamps when data stopped and came back, to the
		// instant; a sample only says in which step.
		at := max(instant(t, st, st.DataSince), t-m.sc.Sample)
		switch {
		case m.lossAt < 0 && !st.DataUp:
			m.lossAt = max(at, m.ep.Onset)
		case m.lossAt >= 0 && st.DataUp:
			m.r.Failover, m.r.HasLoss, m.restored = max(at, m.lossAt)-m.lossAt, true, true
		}
	}
}

func (m *meter) endGap(t time.Duration) {
	if g := t - m.gapFrom; g > m.r.LongestGap {
		m.r.LongestGap, m.r.LongestGapAt = g, m.gapFrom
	}
	m.gapFrom = -1
}

func (m *meter) result() Run {
	if m.gapFrom >= 0 {
		m.endGap(m.sc.Duration)
	}
	r := m.r
	if m.sc.Failover && m.lossAt >= 0 && !m.restored {
		r.Failover, r.HasLoss, r.Censored = m.sc.Duration-m.lossAt, true, true
	}
	if r.HasLoss && !r.Censored {
		if p, ok := phases(m.samples, m.decs, m.lossAt, m.lossAt+r.Failover, m.sc.Sample); ok {
			r.Phases = &p
		}
	}
	r.Switches = len(m.switches)
	// A flap is a switch back to a profile left less than FlapWindow ago
	// (A→B→A, and also A→B→C→A).
	left := map[string]time.Duration{}
	for _, s := range m.switches {
		if at, ok := left[s.to]; ok && s.at-at <= FlapWindow {
			r.Flaps++
		}
		left[s.from] = s.at
	}
	return r
}

// oracle is the cheapest feasible schedule with full knowledge of the
// timeline: in 10 s slots from MeasureFrom, be on any profile whose network
// is up and that is not refused; a switch costs the modem's expected delay
// (modelled: refresh + attach + PLMN search + PDP) without data. It
// minimises money + OracleWeight × downtime (the weight is stated in the
// report) and returns money and downtime apart.
func oracle(sc Scenario, ep Episode, cfg *profiles.Config) (cost float64, downtime time.Duration) {
	const slot = 10 * time.Second
	price := prices(cfg)
	names := make([]string, 0, len(cfg.Profiles))
	for _, p := range cfg.Profiles {
		names = append(names, p.Name)
	}
	in := func(spans []Span, t time.Duration) bool {
		for _, s := range spans {
			if t >= s.From && t < s.To {
				return true
			}
		}
		return false
	}
	up := func(p string, t time.Duration) bool {
		if in(ep.Refused[p], t) {
			return false
		}
		for _, plmn := range accepts[p] {
			if !in(ep.Down[plmn], t) {
				return true
			}
		}
		return false
	}
	rate := float64(bytesPerSec)
	switch {
	case ep.Idle:
		rate = 0
	case ep.Rate > 0:
		rate = ep.Rate
	}
	priceAt := func(p string, t time.Duration) float64 {
		if ep.Price != nil {
			if v, ok := ep.Price(p, t); ok {
				return v
			}
		}
		return price[p]
	}
	// OracleWeight: a second without data is worth ten seconds of the
	// dearest profile's traffic at the world's full rate.
	perDownSec := 0.0
	for _, p := range price {
		perDownSec = max(perDownSec, OracleWeight*bytesPerSec*p)
	}
	type st struct {
		down      time.Duration
		cost      float64
		reachable bool
	}
	switchTime := modelled
	if ep.SwitchTime > 0 {
		switchTime = ep.SwitchTime
	}
	obj := func(a st) float64 { return a.cost + perDownSec*a.down.Seconds() }
	better := func(a, b st) bool {
		if a.reachable != b.reachable {
			return a.reachable
		}
		return obj(a) < obj(b)
	}
	cur := make([]st, len(names))
	cur[slices.Index(names, "home")] = st{reachable: true}
	for t := MeasureFrom; t < sc.Duration; t += slot {
		nxt := make([]st, len(names))
		mid := t + slot/2
		for j, p := range names {
			var best st
			for i := range names {
				if !cur[i].reachable {
					continue
				}
				served := slot
				if i != j {
					served -= switchTime // may run into the next slots' account
				}
				if !up(p, mid) {
					served = min(served, 0)
				}
				c := served.Seconds() * rate * priceAt(p, mid)
				cand := st{down: cur[i].down + slot - served, cost: cur[i].cost + c, reachable: true}
				if better(cand, best) {
					best = cand
				}
			}
			nxt[j] = best
		}
		cur = nxt
	}
	var best st
	for _, s := range cur {
		if better(s, best) {
			best = s
		}
	}
	return max(0, best.cost), best.down
}

// OracleWeight is the oracle's price of a second without data, in seconds
// of the dearest profile's traffic.
const OracleWeight = 10

// Summary aggregates one variant's runs of one scenario.
type Summary struct {
	Scenario, Variant string
	Runs              int
	// FailoverMedian/P95 over the runs that lost data (nearest rank);
	// Losses counts those runs, Censored those that never got data back.
	FailoverMedian, FailoverP95 time.Duration
	Losses, Censored            int
	// Per-run means.
	Switches, Flaps float64
	Downtime        time.Duration
	Suspicious      time.Duration
	// Cost totals over the runs (USD) and the oracle's; CostVsOracle is
	// Cost/OracleCost - 1.
	Cost, OracleCost float64
	CostVsOracle     float64
	OracleDowntime   time.Duration
	// Phases is the breakdown of the median failover among the PhaseRuns
	// failovers that switched (by failover time, ties to the earlier
	// seed): its phases add up to its failover, PhaseFailover. OwnP50 and
	// ModemP50 are the medians of own and modem time over those runs.
	Phases           Phases
	PhaseFailover    time.Duration
	PhaseRuns        int
	OwnP50, ModemP50 time.Duration
}

func nearestRank(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// Summarise aggregates runs of one scenario and variant.
func Summarise(runs []Run) Summary {
	var s Summary
	if len(runs) == 0 {
		return s
	}
	s.Scenario, s.Variant, s.Runs = runs[0].Scenario, runs[0].Variant, len(runs)
	var fo []time.Duration
	var down, susp, odown time.Duration
	var split []Run
	var own, modem []time.Duration
	for _, r := range runs {
		if r.HasLoss {
			s.Losses++
			fo = append(fo, r.Failover)
			if r.Censored {
				s.Censored++
			}
		}
		if p := r.Phases; p != nil {
			split = append(split, r)
			own, modem = append(own, p.Own), append(modem, p.Modem)
		}
		s.Switches += float64(r.Switches)
		s.Flaps += float64(r.Flaps)
		down += r.Downtime
		susp += r.Suspicious
		odown += r.OracleDowntime
		s.Cost += r.Cost
		s.OracleCost += r.OracleCost
	}
	if s.PhaseRuns = len(split); s.PhaseRuns > 0 {
		slices.SortStableFunc(split, func(a, b Run) int { return cmp.Compare(a.Failover, b.Failover) })
		med := split[int(math.Ceil(0.5*float64(len(split))))-1] // nearest rank, as the failover p50
		s.Phases, s.PhaseFailover = *med.Phases, med.Failover
		s.OwnP50, s.ModemP50 = nearestRank(own, 0.5), nearestRank(modem, 0.5)
	}
	n := len(runs)
	s.Switches /= float64(n)
	s.Flaps /= float64(n)
	s.Downtime = down / time.Duration(n)
	s.Suspicious = susp / time.Duration(n)
	s.OracleDowntime = odown / time.Duration(n)
	s.FailoverMedian, s.FailoverP95 = nearestRank(fo, 0.5), nearestRank(fo, 0.95)
	if s.OracleCost > 0 {
		s.CostVsOracle = s.Cost/s.OracleCost - 1
	}
	return s
}
