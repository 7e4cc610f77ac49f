package bench

import (
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
	if t < MeasureFrom {
		return
	}
	m.r.Bytes += delta
	m.r.Cost += float64(delta) * m.price[m.profile]
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
		switch {
		case m.lossAt < 0 && !st.DataUp:
			m.lossAt = t - m.sc.Sample // lost somewhere in the last step
			if m.lossAt < m.ep.Onset {
				m.lossAt = m.ep.Onset
			}
		case m.lossAt >= 0 && st.DataUp:
			m.r.Failover, m.r.HasLoss, m.restored = t-m.lossAt, true, true
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
// is up; a switch costs the modem's modelled delay (refresh + attach + PDP)
// without data. Downtime is minimised first, then cost.
func oracle(sc Scenario, ep Episode, cfg *profiles.Config) (cost float64, downtime time.Duration) {
	const slot = 10 * time.Second
	price := prices(cfg)
	names := make([]string, 0, len(cfg.Profiles))
	for _, p := range cfg.Profiles {
		names = append(names, p.Name)
	}
	up := func(p string, t time.Duration) bool {
		for _, plmn := range accepts[p] {
			down := false
			for _, s := range ep.Down[plmn] {
				if t >= s.From && t < s.To {
					down = true
				}
			}
			if !down {
				return true
			}
		}
		return false
	}
	// A second without data is worth ten seconds of the dearest profile's
	// traffic: any coverage beats none, and a switch's few seconds without
	// data are worth it when the cheaper profile stays up for minutes.
	perDownSec := 0.0
	for _, p := range price {
		perDownSec = max(perDownSec, 10*bytesPerSec*p)
	}
	type st struct {
		obj, cost float64
		down      time.Duration
	}
	inf := st{obj: math.Inf(1)}
	cur := make([]st, len(names))
	for i := range cur {
		cur[i] = inf
	}
	cur[slices.Index(names, "home")] = st{}
	for t := MeasureFrom; t < sc.Duration; t += slot {
		nxt := make([]st, len(names))
		mid := t + slot/2
		for j, p := range names {
			best := inf
			for i := range names {
				if math.IsInf(cur[i].obj, 1) {
					continue
				}
				served := slot
				if i != j {
					served -= modelled
				}
				if !up(p, mid) {
					served = 0
				}
				c := float64(served/time.Second) * bytesPerSec * price[p]
				dn := slot - served
				o := cur[i].obj + c + perDownSec*float64(dn/time.Second)
				if o < best.obj {
					best = st{obj: o, cost: cur[i].cost + c, down: cur[i].down + dn}
				}
			}
			nxt[j] = best
		}
		cur = nxt
	}
	best := inf
	for _, s := range cur {
		if s.obj < best.obj {
			best = s
		}
	}
	return best.cost, best.down
}

// Summary aggregates one variant's runs of one scenario.
type Summary struct {
	Scenario, Variant string
	Runs              int
	// FailoverMedian/P95 over the runs that lost data (nearest rank);
	// Losses counts those runs, Censored those that never got data back.
	FailoverMedian, FailoverP95 time.Duration
	OverheadMedian, OverheadP95 time.Duration
	Losses, Censored            int
	// Per-run means.
	Switches, Flaps float64
	Downtime        time.Duration
	Suspicious      time.Duration
	// Cost totals over the runs and the oracle's; CostVsOracle is
	// Cost/OracleCost - 1.
	Cost, OracleCost float64
	CostVsOracle     float64
	OracleDowntime   time.Duration
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
	var fo, oh []time.Duration
	var down, susp, odown time.Duration
	for _, r := range runs {
		if r.HasLoss {
			s.Losses++
			fo = append(fo, r.Failover)
			oh = append(oh, max(0, r.Failover-modelled))
			if r.Censored {
				s.Censored++
			}
		}
		s.Switches += float64(r.Switches)
		s.Flaps += float64(r.Flaps)
		down += r.Downtime
		susp += r.Suspicious
		odown += r.OracleDowntime
		s.Cost += r.Cost
		s.OracleCost += r.OracleCost
	}
	n := len(runs)
	s.Switches /= float64(n)
	s.Flaps /= float64(n)
	s.Downtime = down / time.Duration(n)
	s.Suspicious = susp / time.Duration(n)
	s.OracleDowntime = odown / time.Duration(n)
	s.FailoverMedian, s.FailoverP95 = nearestRank(fo, 0.5), nearestRank(fo, 0.95)
	s.OverheadMedian, s.OverheadP95 = nearestRank(oh, 0.5), nearestRank(oh, 0.95)
	if s.OracleCost > 0 {
		s.CostVsOracle = s.Cost/s.OracleCost - 1
	}
	return s
}
