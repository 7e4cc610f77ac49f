package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

// runIn runs one episode in its own synctest bubble (virtual time).
func runIn(t *testing.T, sc Scenario, v Variant, seed uint64) Run {
	t.Helper()
	var r Run
	var err error
	synctest.Test(t, func(t *testing.T) {
		r, err = RunEpisode(context.Background(), sc, v, seed)
	})
	if err != nil {
		t.Fatalf("%s/%s seed %d: %v", sc.Name, v.Name, seed, err)
	}
	return r
}

// TestHarness is the CI-sized subset: one short outage per policy. It checks
// that the harness runs every policy to the end and measures something, not
// the numbers.
func TestHarness(t *testing.T) {
	sc := CIScenarios()[0]
	for _, v := range Variants() {
		t.Run(v.Name, func(t *testing.T) {
			start := time.Now()
			r := runIn(t, sc, v, 1)
			t.Logf("%+v (%.1fs)", r, time.Since(start).Seconds())
			if r.Bytes == 0 {
				t.Fatal("no data carried at all")
			}
			if !r.HasLoss || r.Downtime == 0 {
				t.Fatalf("the outage was not seen: %+v", r)
			}
			if r.OracleCost <= 0 || r.OracleDowntime <= 0 {
				t.Fatalf("oracle: cost %v downtime %v", r.OracleCost, r.OracleDowntime)
			}
		})
	}
}

var (
	full  = flag.Bool("bench.full", false, "run the full policy benchmark (make bench)")
	write = flag.String("bench.docs", "", "repository root: write docs/benchmarks.md and docs/img/bench-*.svg there")
	micro = flag.String("bench.micro", "", "file with the Go micro-benchmarks' output to include in the docs")
)

// TestBench is the policy benchmark: every scenario × policy × seed, each
// run in its own synctest bubble. Only with -bench.full (make bench).
func TestBench(t *testing.T) {
	if !*full {
		t.Skip("the full benchmark runs with -bench.full (make bench)")
	}
	start := time.Now()
	scs, vs := Scenarios(), Variants()
	res := NewResult(scs, vs)
	for _, sc := range scs {
		for _, v := range vs {
			var runs []Run
			for rep := range sc.Reps {
				runs = append(runs, runIn(t, sc, v, uint64(rep+1)))
			}
			s := Summarise(runs)
			res.Add(s)
			t.Logf("%-12s %-18s done", sc.Name, v.Name)
		}
	}
	res.Elapsed = time.Since(start)
	fmt.Println(res.Table())
	for _, l := range res.Verdicts("ours", []string{"router-defaults", "mwan3-defaults", "applet-autonomous"}) {
		fmt.Println(l)
	}
	if *write == "" {
		return
	}
	var microOut string
	if *micro != "" {
		b, err := os.ReadFile(*micro)
		if err != nil {
			t.Fatal(err)
		}
		microOut = string(b)
	}
	files := map[string]string{
		"docs/benchmarks.md":          res.Markdown(microOut),
		"docs/img/bench-failover.svg": res.FailoverChart().SVG(),
		"docs/img/bench-flaps.svg":    res.FlapsChart().SVG(),
	}
	for name, body := range files {
		p := filepath.Join(*write, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Println("wrote", p)
	}
}
