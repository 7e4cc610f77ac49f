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
// order run.
type Result struct {
	Scenarios []Scenario
	Variants  []string
	Summaries map[string]map[string]Summary // scenario → variant → summary
	Elapsed   time.Duration                 // wall time of the run
}

// NewResult starts an empty result for the given scenarios and variants.
func NewResult(scs []Scenario, vs []Variant) *Result {
	r := &Result{Scenarios: scs, Summaries: map[string]map[string]Summary{}}
	for _, v := range vs {
		r.Variants = append(r.Variants, v.Name)
	}
	return r
}

// Add records a summary.
func (r *Result) Add(s Summary) {
	if r.Summaries[s.Scenario] == nil {
		r.Summaries[s.Scenario] = map[string]Summary{}
	}
	r.Summaries[s.Scenario][s.Variant] = s
}

func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%.1fmin", d.Minutes())
	}
	return fmt.Sprintf("%.2fh", d.Hours())
}

func (s Summary) failover() (med, p95, ohMed, ohP95 string) {
	if s.Losses == 0 {
		return "no loss", "no loss", "–", "–"
	}
	med, p95 = fmtDur(s.FailoverMedian), fmtDur(s.FailoverP95)
	if s.Censored > 0 {
		// At least one run never got data back: the figure is a lower bound.
		p95 = "≥" + p95
		if s.Censored*2 >= s.Losses {
			med = "≥" + med
		}
	}
	return med, p95, fmtDur(s.OverheadMedian), fmtDur(s.OverheadP95)
}

func (s Summary) costVsOracle() string {
	if s.OracleCost <= 0 {
		return "–"
	}
	return fmt.Sprintf("%+.1f%%", 100*s.CostVsOracle)
}

// columns of the per-scenario table.
var header = []string{"policy", "failover median", "failover p95", "overhead median", "overhead p95",
	"switches/run", "flaps/run", "downtime/run", "cost vs oracle", "suspicious/run"}

func (s Summary) row() []string {
	med, p95, ohm, ohp := s.failover()
	return []string{s.Variant, med, p95, ohm, ohp, fmt.Sprintf("%.1f", s.Switches), fmt.Sprintf("%.1f", s.Flaps),
		fmtDur(s.Downtime), s.costVsOracle(), fmtDur(s.Suspicious)}
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
		w.Flush()
		if s, ok := r.anySummary(sc.Name); ok && s.OracleCost > 0 {
			fmt.Fprintf(&b, "oracle: cost %.4f USD, downtime %s per run\n", s.OracleCost/float64(s.Runs), fmtDur(s.OracleDowntime))
		}
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

// Verdicts checks the claims for "ours" as shipped against every
// baseline: failover p95 and flaps lower, cost within 3 % of the oracle.
func (r *Result) Verdicts(ours string, baselines []string) []string {
	var out []string
	for _, sc := range r.Scenarios {
		o, ok := r.Summaries[sc.Name][ours]
		if !ok {
			continue
		}
		var fo, fl []string
		for _, bn := range baselines {
			b, ok := r.Summaries[sc.Name][bn]
			if !ok {
				continue
			}
			if sc.Failover && o.Losses > 0 && b.Losses > 0 && o.FailoverP95 >= b.FailoverP95 && b.Censored == 0 {
				fo = append(fo, fmt.Sprintf("%s (%s vs %s)", bn, fmtDur(o.FailoverP95), fmtDur(b.FailoverP95)))
			}
			if o.Flaps > b.Flaps {
				fl = append(fl, fmt.Sprintf("%s (%.1f vs %.1f)", bn, o.Flaps, b.Flaps))
			}
		}
		line := "- **" + sc.Name + "**: "
		var parts []string
		if sc.Failover {
			if len(fo) == 0 {
				parts = append(parts, "failover p95 beats every baseline")
			} else {
				parts = append(parts, "failover p95 does NOT beat "+strings.Join(fo, ", "))
			}
		}
		if len(fl) == 0 {
			parts = append(parts, "no more flaps than any baseline")
		} else {
			parts = append(parts, "MORE flaps than "+strings.Join(fl, ", "))
		}
		if o.OracleCost > 0 {
			verdict := "within 3 %"
			switch {
			case o.CostVsOracle > 0.03:
				verdict = "NOT within 3 %"
			case o.CostVsOracle < -0.03:
				verdict = "below the oracle: less data carried, see downtime"
			}
			parts = append(parts, fmt.Sprintf("cost %s against the oracle (%s)", o.costVsOracle(), verdict))
		}
		out = append(out, line+strings.Join(parts, "; "))
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
		w, h             = 860, 380
		left, right, top = 70, 20, 40
		bottom           = 90
	)
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
