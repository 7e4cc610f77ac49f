package bench

import (
	"fmt"
	"html"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is the whole benchmark: every scenario × variant summary, in the
// order run, for the tuning seeds and apart for the held-out seeds.
type Result struct {
	Scenarios []Scenario
	Variants  []string
	Baselines []string
	Summaries map[string]map[string]Summary // scenario → variant → summary
	HeldOut   map[string]map[string]Summary // the same over the held-out seeds
	Elapsed   time.Duration                 // wall time of the policy benchmark
	// MakeElapsed is make bench's wall time until the docs were written
	// (micro-benchmarks and compilation included); 0 outside make bench.
	MakeElapsed time.Duration
	// Load is the machine's load average when the run ended ("" unknown);
	// CPUs the machine's cores (0 unknown: a record from before it was kept).
	Load string
	CPUs int
}

// NewResult starts an empty result for the given scenarios and variants.
func NewResult(scs []Scenario, vs []Variant) *Result {
	r := &Result{Scenarios: scs, Summaries: map[string]map[string]Summary{}, HeldOut: map[string]map[string]Summary{}}
	for _, v := range vs {
		r.Variants = append(r.Variants, v.Name)
		if v.Baseline {
			r.Baselines = append(r.Baselines, v.Name)
		}
	}
	return r
}

// Add records a summary of the tuning seeds.
func (r *Result) Add(s Summary) { add(r.Summaries, s) }

// AddHeldOut records a summary of the held-out seeds.
func (r *Result) AddHeldOut(s Summary) { add(r.HeldOut, s) }

func add(m map[string]map[string]Summary, s Summary) {
	if m[s.Scenario] == nil {
		m[s.Scenario] = map[string]Summary{}
	}
	m[s.Scenario][s.Variant] = s
}

func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Minute:
		// Tenths: failovers and phases are measured to the instant, and
		// a figure rounded to whole seconds could read "5s (≤ 5s: NOT
		// met)" or "29s vs 29s". A whole second (a limit, a sampled
		// downtime) shows none.
		if d.Round(100*time.Millisecond)%time.Second == 0 {
			return fmt.Sprintf("%.0fs", d.Seconds())
		}
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%.1fmin", d.Minutes())
	}
	return fmt.Sprintf("%.2fh", d.Hours())
}

func (s Summary) failover() (med, p95 string) {
	if s.Losses == 0 {
		return "no loss", "no loss"
	}
	med, p95 = fmtDur(s.FailoverMedian), fmtDur(s.FailoverP95)
	if s.Censored > 0 {
		// At least one run never got data back: the figure is a lower bound.
		p95 = "≥" + p95
		if s.Censored*2 >= s.Losses {
			med = "≥" + med
		}
	}
	return med, p95
}

func (s Summary) costVsOracle() string {
	if s.OracleCost <= 0 {
		return "–"
	}
	return fmt.Sprintf("%+.1f%%", 100*s.CostVsOracle)
}

func (s Summary) money() string { return fmt.Sprintf("%.4f", s.Cost/float64(max(1, s.Runs))) }

func (s Summary) split() (own, modem string) {
	if s.PhaseRuns == 0 {
		return "–", "–"
	}
	return fmtDur(s.OwnP50), fmtDur(s.ModemP50)
}

// columns of the per-scenario table.
var header = []string{"policy", "failover p50", "failover p95", "downtime/run", "flaps/run", "switches/run",
	"on a threat/run", "money/run (USD)", "money vs oracle", "own time p50", "modem time p50"}

func (s Summary) row() []string {
	med, p95 := s.failover()
	own, modem := s.split()
	return []string{s.Variant, med, p95, fmtDur(s.Downtime), fmt.Sprintf("%.1f", s.Flaps), fmt.Sprintf("%.1f", s.Switches),
		fmtDur(s.Suspicious), s.money(), s.costVsOracle(), own, modem}
}

func (s Summary) oracleRow() []string {
	return []string{"*oracle*", "–", "–", fmtDur(s.OracleDowntime), "–", "–", "0",
		fmt.Sprintf("%.4f", s.OracleCost/float64(max(1, s.Runs))), "0", "–", "–"}
}

var phaseHeader = []string{"policy", "failovers split", "median failover", "detect", "decide (modem part)", "SIM refresh (modem part)", "attach",
	"verify", "PDP", "own", "modem", "verified after data"}

func (s Summary) phaseRow() []string {
	p := s.Phases
	confirmed := "never"
	if p.Confirmed >= 0 {
		confirmed = fmtPhase(p.Confirmed)
	}
	return []string{s.Variant, fmt.Sprintf("%d/%d", s.PhaseRuns, s.Losses), fmtPhase(s.PhaseFailover), fmtPhase(p.Detect),
		fmt.Sprintf("%s (%s)", fmtPhase(p.Decide), fmtPhase(p.DecideModem)),
		fmt.Sprintf("%s (%s)", fmtPhase(p.Refresh), fmtPhase(p.RefreshModem)), fmtPhase(p.Attach), fmtPhase(p.Verify), fmtPhase(p.PDP),
		fmtPhase(p.Own), fmtPhase(p.Modem), confirmed}
}

// fmtPhase is a phase to a tenth of a second (under a minute), so that a
// row's phases visibly add up to its failover.
func fmtPhase(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return fmtDur(d)
}

// Table is the plain-text table make bench prints.
func (r *Result) Table() string {
	var b strings.Builder
	for _, sc := range r.Scenarios {
		fmt.Fprintf(&b, "\n%s — %s (%d run(s) of %s)\n", sc.Name, sc.Title, sc.Reps, fmtDur(sc.Duration))
		w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, strings.Join(header, "\t"))
		for _, v := range r.Variants {
			if s, ok := r.Summaries[sc.Name][v]; ok {
				fmt.Fprintln(w, strings.Join(s.row(), "\t"))
			}
		}
		if s, ok := r.anySummary(sc.Name); ok {
			fmt.Fprintln(w, strings.Join(s.oracleRow(), "\t"))
		}
		w.Flush()
	}
	return b.String()
}

func (r *Result) anySummary(sc string) (Summary, bool) {
	for _, v := range r.Variants {
		if s, ok := r.Summaries[sc][v]; ok {
			return s, true
		}
	}
	return Summary{}, false
}

// Loss is one place where ours does worse than a baseline.
type Loss struct {
	Scenario, Against, Metric, Ours, Theirs, Reason string
}

// Losses lists every scenario, baseline and metric (failover p95,
// downtime, flaps, time on a threat) where ours does worse, with a reason
// derived from the same runs.
func (r *Result) Losses(ours string) []Loss {
	var out []Loss
	for _, sc := range r.Scenarios {
		o, ok := r.Summaries[sc.Name][ours]
		if !ok {
			continue
		}
		for _, bn := range r.Baselines {
			b, ok := r.Summaries[sc.Name][bn]
			if !ok {
				continue
			}
			if sc.Failover && o.Losses > 0 && (b.Losses == 0 || (o.FailoverP95 > b.FailoverP95 && b.Censored == 0) || (o.Censored > 0 && b.Censored == 0)) {
				_, op := o.failover()
				_, bp := b.failover()
				out = append(out, Loss{sc.Name, bn, "failover p95", op, bp, reason(o, b, o.FailoverP95, b.FailoverP95)})
			}
			if o.Downtime > b.Downtime+time.Second {
				out = append(out, Loss{sc.Name, bn, "downtime/run", fmtDur(o.Downtime), fmtDur(b.Downtime), reason(o, b, o.Downtime, b.Downtime)})
			}
			if o.Flaps > b.Flaps {
				out = append(out, Loss{sc.Name, bn, "flaps/run", fmt.Sprintf("%.1f", o.Flaps), fmt.Sprintf("%.1f", b.Flaps),
					fmt.Sprintf("ours switched %.1f times per run (%s %.1f)", o.Switches, bn, b.Switches) + bought(o, b)})
			}
			if o.Suspicious > b.Suspicious+time.Second {
				out = append(out, Loss{sc.Name, bn, "on a threat/run", fmtDur(o.Suspicious), fmtDur(b.Suspicious),
					"ours stayed registered on the 2G/unknown cell longer"})
			}
		}
	}
	return out
}

// bought says what ours' extra switches bought, when they bought money:
// its return to the cheaper profile is the switch the baseline did not
// make (in the run's window).
func bought(o, b Summary) string {
	if o.OracleCost <= 0 || b.OracleCost <= 0 || o.CostVsOracle >= b.CostVsOracle-0.005 {
		return ""
	}
	return fmt.Sprintf("; the extra switches return to the cheaper profile: money %s against the oracle, %s's %s",
		o.costVsOracle(), b.Variant, b.costVsOracle())
}

// reason explains a failover or downtime loss of o against b from their
// switches and phases; ours and theirs are the compared figures.
func reason(o, b Summary, ours, theirs time.Duration) string {
	if d := ours - theirs; d > 0 && d < 30*time.Second && float64(d) < 0.05*float64(theirs) {
		return fmt.Sprintf("a difference of %s (under 5 %%): the spread of the drawn modem delays, not a different behaviour", fmtDur(d))
	}
	var parts []string
	if b.Suspicious > o.Suspicious+time.Minute {
		parts = append(parts, fmt.Sprintf("%s stayed on the 2G/unknown cell %s per run (ours %s): ours' extra downtime is the switch that left it",
			b.Variant, fmtDur(b.Suspicious), fmtDur(o.Suspicious)))
	}
	if b.Losses == 0 && o.Losses > 0 {
		parts = append(parts, fmt.Sprintf("%s lost no data in any run (it switched %.1f times per run, ours %.1f)", b.Variant, b.Switches, o.Switches))
	} else if b.Losses < o.Losses {
		parts = append(parts, fmt.Sprintf("%s lost data at the scenario's event in %d of %d runs, ours in %d (in the others it was not on the profile that failed when it failed), so its failover figures cover %d failover(s)",
			b.Variant, b.Losses, b.Runs, o.Losses, b.Losses))
	}
	if o.Switches > b.Switches+0.4 {
		p := fmt.Sprintf("ours switched %.1f times per run where %s switched %.1f; each switch costs the modem's refresh and attach",
			o.Switches, b.Variant, b.Switches)
		if o.PhaseRuns > 0 {
			p += fmt.Sprintf(" (ours' modem time p50 %s)", fmtDur(o.ModemP50))
		}
		parts = append(parts, p+bought(o, b))
	}
	if o.Censored > b.Censored {
		parts = append(parts, fmt.Sprintf("ours never got data back in %d of %d runs", o.Censored, o.Losses))
	}
	if o.PhaseRuns > 0 && b.PhaseRuns > 0 && o.OwnP50 > b.OwnP50 {
		parts = append(parts, fmt.Sprintf("ours' own time p50 %s (median failover: detect %s, decide %s) against %s (detect %s, decide %s)",
			fmtDur(o.OwnP50), fmtDur(o.Phases.Detect), fmtDur(o.Phases.Decide), fmtDur(b.OwnP50), fmtDur(b.Phases.Detect), fmtDur(b.Phases.Decide)))
	}
	if o.PhaseRuns > 0 && b.PhaseRuns > 0 && o.ModemP50 > b.ModemP50+5*time.Second {
		parts = append(parts, fmt.Sprintf("the modem's part was longer (p50 %s against %s: attach delays and PLMN searches are drawn per attach)",
			fmtDur(o.ModemP50), fmtDur(b.ModemP50)))
	}
	if o.PhaseRuns > 0 && o.Phases.Decide > 30*time.Second && (b.PhaseRuns == 0 || o.Phases.Decide > b.Phases.Decide+30*time.Second) {
		parts = append(parts, fmt.Sprintf("ours' median failover spent %s deciding (failed candidates, and the back-off once every profile had failed)",
			fmtDur(o.Phases.Decide)))
	}
	if len(parts) == 0 {
		return "no switch count or phase of ours explains it; see the scenario's tables"
	}
	return strings.Join(parts, "; ")
}

// Verdicts checks the issue's claims for ours against every baseline:
// failover p95 and downtime lower, flaps no more, money within 3 % of the
// oracle.
func (r *Result) Verdicts(ours string) []string {
	losses := r.Losses(ours)
	var out []string
	for _, sc := range r.Scenarios {
		o, ok := r.Summaries[sc.Name][ours]
		if !ok {
			continue
		}
		var bad []string
		for _, l := range losses {
			if l.Scenario == sc.Name {
				bad = append(bad, fmt.Sprintf("%s vs %s (%s vs %s)", l.Metric, l.Against, l.Ours, l.Theirs))
			}
		}
		var parts []string
		if len(bad) == 0 {
			parts = append(parts, "ahead of or level with every baseline on failover p95, downtime, flaps and time on a threat")
		} else {
			parts = append(parts, "behind on "+strings.Join(bad, ", "))
		}
		if o.OracleCost > 0 {
			verdict := "within 3 %"
			switch {
			case o.CostVsOracle > 0.03:
				verdict = "NOT within 3 %"
			case o.CostVsOracle < -0.03:
				verdict = "below the oracle: less data carried, see downtime"
			}
			parts = append(parts, fmt.Sprintf("money %s against the oracle (%s)", o.costVsOracle(), verdict))
		}
		if o.PhaseRuns > 0 {
			verdict := "met"
			if o.OwnP50 > OwnTarget {
				verdict = "NOT met"
			}
			parts = append(parts, fmt.Sprintf("own time in failover p50 %s (≤ %s: %s)", fmtDur(o.OwnP50), fmtDur(OwnTarget), verdict))
		}
		out = append(out, "- **"+sc.Name+"**: "+strings.Join(parts, "; "))
	}
	return out
}

// OwnTarget is the issue's bound on imsid's own median time in a failover.
const OwnTarget = 5 * time.Second

// Target is one of issue 11's failover targets: a quantile of a scenario's
// failover under ours, at most Max.
type Target struct {
	Scenario string
	P95      bool // else the median
	Max      time.Duration
}

// Issue11Targets are issue 11's failover targets, judged in the "-i11"
// scenarios at the modem timing they were set for.
var Issue11Targets = []Target{
	{"outage" + I11Suffix, false, 15 * time.Second},
	{"outage" + I11Suffix, true, 20 * time.Second},
	{"refused-cause7" + I11Suffix, true, time.Minute},
	{"core-outage" + I11Suffix, true, 20 * time.Second},
	{"core-idle" + I11Suffix, true, 40 * time.Second},
}

// TargetLines checks Issue11Targets for ours, with the same figure at the
// world's drawn timing beside it.
func (r *Result) TargetLines(ours string) []string {
	var out []string
	for _, tg := range Issue11Targets {
		o, ok := r.Summaries[tg.Scenario][ours]
		if !ok || o.Losses == 0 {
			continue
		}
		q, got := "median", o.FailoverMedian
		if tg.P95 {
			q, got = "p95", o.FailoverP95
		}
		verdict := "met"
		if got > tg.Max || o.Censored > 0 {
			verdict = "NOT met"
		}
		line := fmt.Sprintf("- **%s**: failover %s %s (≤ %s: %s)", tg.Scenario, q, fmtDur(got), fmtDur(tg.Max), verdict)
		if d, ok := r.Summaries[strings.TrimSuffix(tg.Scenario, I11Suffix)][ours]; ok && d.Losses > 0 {
			dq := d.FailoverMedian
			if tg.P95 {
				dq = d.FailoverP95
			}
			line += fmt.Sprintf("; at the drawn 5–30 s attaches %s", fmtDur(dq))
		}
		out = append(out, line)
	}
	return out
}

// BarChart is a grouped bar chart: one group per label, one bar per
// series. Marked bars (lower bounds) are hatched with a "≥" label.
type BarChart struct {
	Title, Unit string
	Groups      []string
	Series      []string
	Values      [][]float64 // [group][series]; NaN = not applicable
	Marked      [][]bool
	// Log draws the axis in decades from 1 (values below 1 sit on it).
	Log bool
}

var palette = []string{"#1b9e77", "#66c2a5", "#d95f02", "#7570b3", "#e7298a", "#e6ab02"}

// SVG renders the chart in pure SVG 1.1.
func (c BarChart) SVG() string {
	const (
		h                = 380
		left, right, top = 70, 20, 40
		bottom           = 90
	)
	// At least 9 px per bar, so that nine policies over twenty scenarios
	// stay readable.
	w := max(860, left+right+int(float64(len(c.Groups)*max(1, len(c.Series)))*9/0.8)+40)
	maxV := 0.0
	for _, g := range c.Values {
		for _, v := range g {
			if !math.IsNaN(v) {
				maxV = max(maxV, v)
			}
		}
	}
	if maxV <= 0 {
		maxV = 1
	}
	step := niceStep(maxV / 5)
	maxV = math.Ceil(maxV/step) * step
	plotW, plotH := float64(w-left-right), float64(h-top-bottom)
	y := func(v float64) float64 { return float64(top) + plotH*(1-v/maxV) }
	ticks := []float64{}
	for v := 0.0; v <= maxV+step/2; v += step {
		ticks = append(ticks, v)
	}
	if c.Log {
		decades := math.Max(1, math.Ceil(math.Log10(maxV)))
		y = func(v float64) float64 {
			return float64(top) + plotH*(1-math.Log10(math.Max(1, v))/decades)
		}
		ticks = ticks[:0]
		for d := 0.0; d <= decades; d++ {
			ticks = append(ticks, math.Pow(10, d))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	b.WriteString(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#000" stroke-opacity="0.35" stroke-width="2"/></pattern></defs>` + "\n")
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(c.Title))
	for _, v := range ticks {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`, left, y(v), w-right, y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y(v)+4, trimFloat(v))
	}
	fmt.Fprintf(&b, `<text x="16" y="%.1f" transform="rotate(-90 16 %.1f)" text-anchor="middle">%s</text>`+"\n",
		float64(top)+plotH/2, float64(top)+plotH/2, html.EscapeString(c.Unit))
	gw := plotW / float64(max(1, len(c.Groups)))
	bw := gw * 0.8 / float64(max(1, len(c.Series)))
	for gi, g := range c.Groups {
		x0 := float64(left) + gw*float64(gi) + gw*0.1
		for si := range c.Series {
			v := c.Values[gi][si]
			x := x0 + bw*float64(si)
			if math.IsNaN(v) {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10" fill="#888">n/a</text>`, x+bw/2, y(0)-3)
				continue
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, y(v), bw-2, y(0)-y(v), palette[si%len(palette)])
			label := trimFloat(v)
			if c.Marked != nil && c.Marked[gi][si] {
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="url(#hatch)"/>`, x, y(v), bw-2, y(0)-y(v))
				label = "≥" + label
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="9">%s</text>`+"\n", x+bw/2-1, y(v)-3, label)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x0+gw*0.4, h-bottom+18, html.EscapeString(g))
	}
	lx := float64(left)
	for si, s := range c.Series {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="12" height="12" fill="%s"/><text x="%.1f" y="%d">%s</text>`+"\n",
			lx, h-bottom+40, palette[si%len(palette)], lx+16, h-bottom+50, html.EscapeString(s))
		lx += 24 + 7.5*float64(len(s))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// FailoverChart is failover p95 (seconds) per scenario with a failover.
func (r *Result) FailoverChart() BarChart {
	c := BarChart{Title: "Failover time, p95 (log scale; hatched: a run never recovered)", Unit: "seconds (log)",
		Series: r.Variants, Log: true}
	for _, sc := range r.Scenarios {
		if !sc.Failover {
			continue
		}
		c.Groups = append(c.Groups, sc.Name)
		vals, marks := make([]float64, len(r.Variants)), make([]bool, len(r.Variants))
		for i, v := range r.Variants {
			s, ok := r.Summaries[sc.Name][v]
			switch {
			case !ok:
				vals[i] = math.NaN()
			case s.Losses == 0:
				vals[i] = 0
			default:
				vals[i], marks[i] = s.FailoverP95.Seconds(), s.Censored > 0
			}
		}
		c.Values, c.Marked = append(c.Values, vals), append(c.Marked, marks)
	}
	return c
}

// FlapsChart is switches and flaps per run for every scenario.
func (r *Result) FlapsChart() BarChart {
	c := BarChart{Title: fmt.Sprintf("Flaps per run (a switch back to a profile left less than %s before)", fmtDur(FlapWindow)), Unit: "flaps per run", Series: r.Variants}
	for _, sc := range r.Scenarios {
		c.Groups = append(c.Groups, sc.Name)
		vals := make([]float64, len(r.Variants))
		for i, v := range r.Variants {
			if s, ok := r.Summaries[sc.Name][v]; ok {
				vals[i] = s.Flaps
			} else {
				vals[i] = math.NaN()
			}
		}
		c.Values = append(c.Values, vals)
	}
	return c
}
