package bench

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

func sampleResult() *Result {
	scs := append(CIScenarios(), Scenario{Name: "quiet", Title: "nothing", Duration: time.Hour, Reps: 1})
	r := NewResult(scs, Variants())
	for i, v := range r.Variants {
		r.Add(Summary{Scenario: "outage-short", Variant: v, Runs: 2, Losses: 2, Censored: i % 2,
			FailoverMedian: time.Duration(i+1) * 10 * time.Second, FailoverP95: time.Duration(i+1) * 100 * time.Second,
			Flaps: float64(i), Cost: 1, OracleCost: 1.01, CostVsOracle: -0.01})
		r.Add(Summary{Scenario: "quiet", Variant: v, Runs: 1})
	}
	return r
}

func wellFormed(t *testing.T, svg string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("SVG not well-formed: %v", err)
		}
	}
}

func TestReport(t *testing.T) {
	r := sampleResult()
	for _, c := range []BarChart{r.FailoverChart(), r.FlapsChart()} {
		svg := c.SVG()
		wellFormed(t, svg)
		for _, v := range r.Variants {
			if !strings.Contains(svg, v) {
				t.Errorf("%q: no legend for %s", c.Title, v)
			}
		}
	}
	md := r.Markdown("BenchmarkX 1 ns/op")
	for _, want := range []string{"### `outage-short`", "| ours |", "≥", "BenchmarkX", "img/bench-failover.svg", "## How to rerun"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if tab := r.Table(); !strings.Contains(tab, "router-defaults") || !strings.Contains(tab, "no loss") {
		t.Errorf("table:\n%s", tab)
	}
	if v := r.Verdicts("ours", []string{"router-defaults"}); len(v) != 2 || !strings.Contains(v[0], "failover p95 beats") {
		t.Errorf("verdicts %q", v)
	}
}
