package bench

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Every episode runs in a bubble: the meter may wait for it to settle.
func init() { settle = synctest.Wait }

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

// TestHarness is the CI-sized subset (CIScenarios) under every policy. It
// checks that the harness runs every policy to the end and measures
// something, not the numbers.
func TestHarness(t *testing.T) {
	for _, sc := range CIScenarios() {
		for _, v := range Variants() {
			t.Run(sc.Name+"/"+v.Name, func(t *testing.T) {
				t.Parallel()
				start := time.Now()
				r := runIn(t, sc, v, 1)
				t.Logf("%+v (%.1fs)", r, time.Since(start).Seconds())
				if r.Bytes == 0 {
					t.Fatal("no data carried at all")
				}
				if !r.HasLoss || r.Downtime == 0 {
					t.Fatalf("the outage was not seen: %+v", r)
				}
				if r.OracleDowntime <= 0 {
					t.Fatalf("oracle: downtime %v", r.OracleDowntime)
				}
				// The failover's phases add up to it, and the manager's
				// verification of the switch was found, within a few
				// seconds of data flowing.
				if p := r.Phases; p != nil {
					if p.Failover() != r.Failover || p.Own+p.Modem != r.Failover {
						t.Errorf("phases %+v add up to %v (own + modem %v), the failover is %v", *p, p.Failover(), p.Own+p.Modem, r.Failover)
					}
					if p.Confirmed < 0 || p.Confirmed > 10*time.Second {
						t.Errorf("verified %v after data flowed: %+v", p.Confirmed, *p)
					}
				}
			})
		}
	}
}

// TestDeterministic: the same seed gives the same run.
func TestDeterministic(t *testing.T) {
	sc, v := CIScenarios()[0], Variants()[0]
	a, b := runIn(t, sc, v, 3), runIn(t, sc, v, 3)
	a.Phases, b.Phases = nil, nil
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("two runs of seed 3 differ:\n%+v\n%+v", a, b)
	}
}

var (
	full  = flag.Bool("bench.full", false, "run the full policy benchmark (make bench)")
	write = flag.String("bench.docs", "", "repository root: write docs/benchmarks.md, docs/img/bench-*.svg and README.md's generated block there")
	micro = flag.String("bench.micro", "", "file with the Go micro-benchmarks' output to include in the docs")
	since = flag.Int64("bench.start", 0, "unix time make bench started (its wall time in the docs then covers the whole target)")
	only  = flag.String("bench.only", "", "comma-separated scenario names: run only these (no files written)")
)

// job is one scenario × variant: its tuning and held-out runs.
type job struct {
	sc              Scenario
	v               Variant
	tuning, heldOut []Run
}

// TestBench is the policy benchmark: every scenario × policy × seed, each
// run in its own synctest bubble, the scenario × policy jobs in parallel
// (-parallel, GOMAXPROCS by default). Only with -bench.full (make bench).
func TestBench(t *testing.T) {
	if !*full {
		t.Skip("the full benchmark runs with -bench.full (make bench)")
	}
	start := time.Now()
	scs, vs := Scenarios(), Variants()
	if *only != "" {
		names := strings.Split(*only, ",")
		scs = slices.DeleteFunc(scs, func(sc Scenario) bool { return !slices.Contains(names, sc.Name) })
		*write = ""
	}
	var jobs []*job
	for _, sc := range scs {
		for _, v := range vs {
			if sc.Runs(v.Name) {
				jobs = append(jobs, &job{sc: sc, v: v})
			}
		}
	}
	// Longest first, on -parallel workers (GOMAXPROCS by default) that
	// take the jobs in that order: a month's job takes minutes, and started
	// last it would run on alone while the other cores idle. (Parallel
	// subtests would start in no particular order.)
	cost := func(j *job) time.Duration {
		return j.sc.Duration / j.sc.Sample * time.Duration(j.sc.Reps+j.sc.HeldOut)
	}
	slices.SortStableFunc(jobs, func(a, b *job) int { return cmp.Compare(cost(b), cost(a)) })
	workers := runtime.GOMAXPROCS(0)
	if f := flag.Lookup("test.parallel"); f != nil {
		if n, ok := f.Value.(flag.Getter).Get().(int); ok && n > 0 {
			workers = n
		}
	}
	var mu sync.Mutex
	done := 0
	t.Run("jobs", func(t *testing.T) {
		queue := make(chan *job)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range queue {
					t.Run(j.sc.Name+"/"+j.v.Name, func(t *testing.T) {
						tun, ho := j.sc.Seeds()
						for _, seed := range tun {
							j.tuning = append(j.tuning, runIn(t, j.sc, j.v, seed))
						}
						for _, seed := range ho {
							j.heldOut = append(j.heldOut, runIn(t, j.sc, j.v, seed))
						}
						mu.Lock()
						done++
						fmt.Printf("[%d/%d %s] %s/%s done\n", done, len(jobs), time.Since(start).Round(time.Second), j.sc.Name, j.v.Name)
						mu.Unlock()
					})
				}
			}()
		}
		for _, j := range jobs {
			queue <- j
		}
		close(queue)
		wg.Wait()
	})
	if t.Failed() {
		return
	}
	res := NewResult(scs, vs)
	for _, j := range jobs {
		res.Add(Summarise(j.tuning))
		if len(j.heldOut) > 0 {
			res.AddHeldOut(Summarise(j.heldOut))
		}
	}
	res.Elapsed = time.Since(start)
	if *since > 0 {
		res.MakeElapsed = time.Since(time.Unix(*since, 0))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			res.Load = strings.Join(f[:3], " ")
		}
	}
	res.CPUs = runtime.NumCPU()
	fmt.Println(res.Table())
	for _, l := range append(res.Verdicts("ours"), res.TargetLines("ours")...) {
		fmt.Println(l)
	}
	fmt.Printf("policy benchmark wall time: %s (load average %s)\n", res.Elapsed.Round(time.Second), res.Load)
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
	readme, err := os.ReadFile(filepath.Join(*write, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{Result: res, Micro: microOut}
	files, err := rec.Files(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if files[RecordFile], err = recordJSON(rec); err != nil {
		t.Fatal(err)
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

func recordJSON(rec Record) (string, error) {
	b, err := rec.Marshal()
	return string(b), err
}

// TestDocsFromOneRun: docs/benchmarks.md, its plots and the README's
// generated block are exactly what the run record (docs/benchmarks.json,
// written by the same make bench) renders to with the current code, and
// that record's scenarios and policies are the current ones. It fails on a
// hand edit of any of them, on a README block from another run, and on a
// change to the scenarios, the policies or the report's renderer that was
// not followed by make bench.
func TestDocsFromOneRun(t *testing.T) {
	if *render {
		if err := renderDocs("../.."); err != nil {
			t.Fatal(err)
		}
	}
	for _, err := range checkDocs("../..", Scenarios(), Variants()) {
		t.Error(err)
	}
}

var render = flag.Bool("bench.render", false, "TestDocsFromOneRun: render docs/benchmarks.md, the plots and README.md's generated block again from the run record docs/benchmarks.json (after a change to the report's text, not to the benchmark)")

// renderDocs writes what the run record at root renders to.
func renderDocs(root string) error {
	raw, err := os.ReadFile(filepath.Join(root, RecordFile))
	if err != nil {
		return err
	}
	rec, err := ParseRecord(raw)
	if err != nil {
		return err
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		return err
	}
	files, err := rec.Files(string(readme))
	if err != nil {
		return err
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// checkDocs is TestDocsFromOneRun's check of the repository at root.
func checkDocs(root string, scs []Scenario, vs []Variant) []error {
	raw, err := os.ReadFile(filepath.Join(root, RecordFile))
	if err != nil {
		return []error{fmt.Errorf("%v (make bench writes it with the docs)", err)}
	}
	rec, err := ParseRecord(raw)
	if err != nil {
		return []error{err}
	}
	var errs []error
	if why := rec.Stale(scs, vs); why != "" {
		errs = append(errs, fmt.Errorf("docs/benchmarks.md is from a run of another benchmark (rerun make bench):\n%s", why))
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		return append(errs, err)
	}
	files, err := rec.Files(string(readme))
	if err != nil {
		return append(errs, fmt.Errorf("README.md: %w", err))
	}
	names := slices.Sorted(maps.Keys(files))
	for _, name := range names {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if d := firstDiff(string(got), files[name]); d != "" {
			errs = append(errs, fmt.Errorf("%s is not what the run record renders to (rerun make bench, never edit it by hand): %s", name, d))
		}
	}
	return errs
}

// TestCheckDocs: the check passes on what make bench writes and catches a
// figure edited in the report, a README block from another run, and a
// benchmark changed since the run.
func TestCheckDocs(t *testing.T) {
	r := sampleResult()
	root := t.TempDir()
	readme := "# x\n" + ReadmeBegin + "\n" + ReadmeEnd + "\n"
	rec := Record{Result: r, Micro: "BenchmarkX 1 ns/op"}
	files, err := rec.Files(readme)
	if err != nil {
		t.Fatal(err)
	}
	if files[RecordFile], err = recordJSON(rec); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range files {
		write(name, body)
	}
	if errs := checkDocs(root, r.Scenarios, Variants()); len(errs) != 0 {
		t.Fatalf("what make bench wrote fails the check: %v", errs)
	}
	// A figure of the report edited by hand.
	md := files["docs/benchmarks.md"]
	write("docs/benchmarks.md", strings.Replace(md, "| ours | 10s |", "| ours | 9s |", 1))
	if errs := checkDocs(root, r.Scenarios, Variants()); len(errs) != 1 || !strings.Contains(errs[0].Error(), "docs/benchmarks.md is not what") {
		t.Errorf("an edited figure: %v", errs)
	}
	write("docs/benchmarks.md", md)
	// The README's block from another run.
	other := sampleResult()
	other.Elapsed = time.Hour
	old := files["README.md"]
	write("README.md", strings.Replace(old, r.ReadmeBlock(), other.ReadmeBlock(), 1))
	if errs := checkDocs(root, r.Scenarios, Variants()); len(errs) != 1 || !strings.Contains(errs[0].Error(), "README.md is not what") {
		t.Errorf("a README from another run: %v", errs)
	}
	write("README.md", old)
	// A scenario added since the run.
	if errs := checkDocs(root, append(r.Scenarios, Scenario{Name: "new"}), Variants()); len(errs) != 1 || !strings.Contains(errs[0].Error(), "another benchmark") {
		t.Errorf("a new scenario: %v", errs)
	}
}

// firstDiff describes the first line where got and want differ ("" when
// they are equal).
func firstDiff(got, want string) string {
	if got == want {
		return ""
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d is\n\t%.300s\nthe record renders\n\t%.300s", i+1, gl, wl)
		}
	}
	return "they differ in their line endings"
}

var repeat = flag.String("bench.repeat", "", "comma-separated scenario names, or \"all\" (every scenario but the 24 h and month ones): run each job twice and compare")

// TestRepeatable runs every seed of the named scenarios twice under every
// policy and compares the two: the episodes (logged where they differ) and
// the rows of the report's tables they give (a failure where those differ).
// Only with -bench.repeat; see "How to rerun" in docs/benchmarks.md for
// what it measured.
func TestRepeatable(t *testing.T) {
	if *repeat == "" {
		t.Skip("run with -bench.repeat scenario,... or all")
	}
	var scs []Scenario
	for _, sc := range Scenarios() {
		if (*repeat == "all" && sc.Sample == time.Second) || slices.Contains(strings.Split(*repeat, ","), sc.Name) {
			scs = append(scs, sc)
		}
	}
	if len(scs) == 0 {
		t.Fatalf("no scenario in %q", *repeat)
	}
	var mu sync.Mutex
	episodes, differ := 0, 0
	t.Run("jobs", func(t *testing.T) {
		for _, sc := range scs {
			for _, v := range Variants() {
				if !sc.Runs(v.Name) {
					continue
				}
				t.Run(sc.Name+"/"+v.Name, func(t *testing.T) {
					t.Parallel()
					tun, ho := sc.Seeds()
					var a, b []Run
					for _, seed := range append(tun, ho...) {
						x, y := runIn(t, sc, v, seed), runIn(t, sc, v, seed)
						a, b = append(a, x), append(b, y)
						px, py := x.Phases, y.Phases
						x.Phases, y.Phases = nil, nil
						same := fmt.Sprint(x) == fmt.Sprint(y) && fmt.Sprint(px) == fmt.Sprint(py)
						if px != nil && py != nil {
							same = same && *px == *py
						}
						mu.Lock()
						episodes++
						if !same {
							differ++
							t.Logf("seed %d differs:\n%+v %+v\n%+v %+v", seed, x, px, y, py)
						}
						mu.Unlock()
					}
					rows := func(runs []Run) string {
						n := len(tun)
						s, h := Summarise(runs[:n]), Summarise(runs[n:])
						out := mdRow(s.row()) + mdRow(s.phaseRow())
						if len(ho) > 0 {
							out += mdRow(h.row())
						}
						return out
					}
					if ra, rb := rows(a), rows(b); ra != rb {
						t.Errorf("the report's rows differ between two runs:\n%s%s", ra, rb)
					}
				})
			}
		}
	})
	t.Logf("%d of %d episodes differed between two runs", differ, episodes)
}
