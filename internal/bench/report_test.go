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
			Flaps: float64(i), Cost: 1, OracleCost: 1.01, CostVsOracle: -0.01, PhaseRuns: 1,
			Phases: Phases{Detect: 5 * time.Second, Own: 6 * time.Second, Modem: 20 * time.Second}, OwnP50: 6 * time.Second, ModemP50: 20 * time.Second})
		r.AddHeldOut(Summary{Scenario: "outage-short", Variant: v, Runs: 1, Losses: 1, FailoverP95: time.Minute})
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
	for _, want := range []string{"### `outage-short`", "| ours |", "≥", "BenchmarkX", "img/bench-failover.svg", "## How to rerun",
		"## Where ours loses", "## Assumptions", "*oracle*", "Failover by phase", "## Held-out seeds", ReadmeBegin, ReadmeEnd} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if tab := r.Table(); !strings.Contains(tab, "router-defaults") || !strings.Contains(tab, "no loss") {
		t.Errorf("table:\n%s", tab)
	}
	if v := r.Verdicts("ours"); len(v) != 2 || !strings.Contains(v[0], "ahead of or level with every baseline") {
		t.Errorf("verdicts %q", v)
	}
	if i, j := strings.Index(md, "## Where ours loses"), strings.Index(md, "## Policies"); i < 0 || i > j {
		t.Error("where ours loses is not the first table")
	}
	// Make ours the slowest: every baseline that recovered beats it, and
	// the first table says so with a reason.
	s := r.Summaries["outage-short"]["ours"]
	s.FailoverP95, s.Phases.Own, s.OwnP50 = time.Hour, time.Minute, time.Minute
	r.Add(s)
	ls := r.Losses("ours")
	if len(ls) == 0 || ls[0].Metric != "failover p95" || !strings.Contains(ls[0].Reason, "own time") {
		t.Fatalf("losses %+v", ls)
	}
	md = r.Markdown("")
	if !strings.Contains(md, "| `outage-short` | "+ls[0].Against+" | failover p95 |") {
		t.Error("the loss is not in the first table")
	}
	if v := r.Verdicts("ours"); !strings.Contains(v[0], "behind on failover p95 vs") {
		t.Errorf("verdicts %q", v)
	}
	if why := reason(Summary{}, Summary{}, 1224*time.Second, 1218*time.Second); !strings.Contains(why, "under 5 %") {
		t.Errorf("a 6 s difference in 20 min: %q", why)
	}
	if why := reason(Summary{Switches: 1}, Summary{Variant: "x"}, 24*time.Second, 0); !strings.Contains(why, "ours switched 1.0 times") || strings.Contains(why, "p50 0") {
		t.Errorf("a switch without phases: %q", why)
	}
	r.Add(Summary{Scenario: "outage" + I11Suffix, Variant: "ours", Runs: 1, Losses: 1, FailoverMedian: 14 * time.Second, FailoverP95: 25 * time.Second})
	if tl := r.TargetLines("ours"); len(tl) != 2 || !strings.Contains(tl[0], "median 14s (≤ 15s: met)") || !strings.Contains(tl[1], "p95 25s (≤ 20s: NOT met)") {
		t.Errorf("issue 11's targets: %q", tl)
	}
	if v := r.Verdicts("ours"); !strings.Contains(v[0], "own time in failover p50 1.0min (≤ 5s: NOT met)") {
		t.Errorf("own time verdict: %q", v[0])
	}
	// The run record renders to the same documents after a round trip
	// through its file, and knows when the code's scenarios moved on.
	rec := Record{Result: r, Micro: "BenchmarkX 1 ns/op"}
	raw, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseRecord(raw)
	if err != nil {
		t.Fatal(err)
	}
	doc := "intro\n" + ReadmeBegin + "\nold\n" + ReadmeEnd + "\ntail\n"
	f1, err1 := rec.Files(doc)
	f2, err2 := back.Files(doc)
	if err1 != nil || err2 != nil || len(f1) != 4 {
		t.Fatalf("files: %v %v %d", err1, err2, len(f1))
	}
	for name, body := range f1 {
		if d := firstDiff(f2[name], body); d != "" {
			t.Errorf("%s after a round trip: %s", name, d)
		}
	}
	if why := back.Stale(r.Scenarios, Variants()); why != "" {
		t.Errorf("stale against its own scenarios: %s", why)
	}
	if why := back.Stale(r.Scenarios[1:], Variants()); !strings.Contains(why, "scenarios") {
		t.Errorf("a scenario removed: %q", why)
	}
	if _, err := ParseRecord([]byte("{}")); err == nil {
		t.Error("an empty record was accepted")
	}
	if _, err := ReplaceBlock("no markers", r.ReadmeBlock()); err == nil {
		t.Error("a README without markers was accepted")
	}
	got, err := ReplaceBlock(doc, r.ReadmeBlock())
	if err != nil || !strings.HasSuffix(got, "\ntail\n") || strings.Contains(got, "old") {
		t.Errorf("ReplaceBlock: %v\n%s", err, got)
	}
}
