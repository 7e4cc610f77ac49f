package threat

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestBaselineLearning(t *testing.T) {
	cfg := testConfig()
	e, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	rs := run(t, e, t0, every(0, 30*time.Minute, 60, func(int) Observation { return normal(cellA) }))
	if rs[10].Warm {
		t.Error("warm after 5 hours")
	}
	if !rs[59].Warm {
		t.Error("not warm after 30 hours and 60 observations")
	}
	b := e.Baseline()
	c := b.Cells[cellA.key()]
	if c == nil || c.N != 60 || len(c.Days) != 2 || !c.hasTAC(cellA.tac) || !c.hasRadio(Radio{cellA.earfcn, cellA.pci}) {
		t.Fatalf("cell A record = %+v", c)
	}
	if med, _ := c.RSRP.Quantile(0.5); med != -92 {
		t.Errorf("RSRP median %v", med)
	}
	if got := c.regularNeighbours(minNeighbourPolls); len(got) != 2 {
		t.Errorf("regular neighbours = %v", got)
	}
	if !b.trusted(cellA.key(), &cfg.Baseline) {
		t.Error("A not trusted after two days")
	}
}

// TestBaselineLearningPausedBySuppression: cells seen during our own switch
// are not learned (a planned transition is not the site's normal).
func TestBaselineLearningPausedBySuppression(t *testing.T) {
	e, start := warmEngine(t, testConfig())
	o := normal(cellX)
	o.Events = []Event{{Kind: EventOwnCFUN}}
	run(t, e, start, one(0, o))
	if _, ok := e.Baseline().Cells[cellX.key()]; ok {
		t.Fatal("learned a cell inside the suppression window")
	}
}

func TestBaselineJSONRoundTrip(t *testing.T) {
	e, _ := warmEngine(t, testConfig())
	b := e.Baseline()
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var back Baseline
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(&back)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(again) {
		t.Fatal("baseline JSON does not round-trip")
	}
	if !strings.Contains(string(data), `"310260/12beef"`) {
		t.Errorf("cell keys not readable in JSON: %.200s", data)
	}
	// An engine started from the persisted baseline is warm and knows the site.
	e2, err := New(testConfig(), &back)
	if err != nil {
		t.Fatal(err)
	}
	r, err := e2.Observe(func() Observation { o := normal(cellX); o.At = t0.Add(100 * time.Hour); return o }())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Warm || len(byRule(r.Findings, "D5a")) != 1 {
		t.Fatalf("restored engine: warm=%v findings=%+v", r.Warm, r.Findings)
	}
}

func TestBaselineBadJSON(t *testing.T) {
	for name, in := range map[string]string{
		"garbage":       `{`,
		"version":       `{"version":99}`,
		"cell key":      `{"version":1,"cells":{"nonsense":{}}}`,
		"cell key plmn": `{"version":1,"cells":{"31/1":{}}}`,
	} {
		var b Baseline
		if err := json.Unmarshal([]byte(in), &b); err == nil {
			t.Errorf("%s: accepted %s", name, in)
		}
	}
	// Broken histograms and null cells are repaired, not trusted blindly.
	var b Baseline
	in := `{"version":1,"cells":{"310260/1":{"rsrp":{"lo":5,"counts":[1]}},"310260/2":null},"site":{"serving_rsrp":{"lo":0,"counts":[]}}}`
	if err := json.Unmarshal([]byte(in), &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Cells) != 1 || len(b.Cells[CellKey{plmn("310260"), 1}].RSRP.Counts) != 111 || len(b.Site.ServingRSRP.Counts) != 111 {
		t.Fatalf("not repaired: %+v", b)
	}
	if _, err := New(testConfig(), &b); err != nil {
		t.Fatal(err)
	}
}

func TestBaselineEviction(t *testing.T) {
	cfg := testConfig()
	cfg.Baseline.MaxCells = 3
	e, start := warmEngine(t, cfg) // A and B trusted
	var steps []step
	for i := range 5 {
		c := cellX
		c.ci += uint64(i)
		steps = append(steps, step{time.Duration(i) * time.Minute, normal(c)})
	}
	run(t, e, start, steps)
	b := e.Baseline()
	if len(b.Cells) != 3 {
		t.Fatalf("%d cells, want 3", len(b.Cells))
	}
	for _, k := range []CellKey{cellA.key(), cellB.key(), {PLMN: plmn("310260"), CI: cellX.ci + 4}} {
		if b.Cells[k] == nil {
			t.Errorf("evicted %s; want trusted cells and the newest kept", k)
		}
	}
}

func TestHistogram(t *testing.T) {
	h := newHist(-10, 10)
	for _, v := range []float64{-20, -1, 0, 0.4, 0.6, 1, 30} {
		h.add(v, 0)
	}
	if h.Total() != 7 || h.Counts[0] != 1 || h.Counts[20] != 1 {
		t.Fatalf("counts %v", h.Counts)
	}
	if q, _ := h.Quantile(0.5); q != 0 {
		t.Errorf("median %v", q)
	}
	capped := newHist(0, 3)
	for range 40 {
		capped.add(1, 16)
	}
	if capped.Total() > 16 {
		t.Errorf("cap not applied: %d", capped.Total())
	}
	var empty Histogram
	if _, ok := empty.Quantile(0.5); ok {
		t.Error("quantile of nothing")
	}
}

// TestCatcherNeverEarnsTrust: a capture-and-release cell returning on many
// days stays unknown, while an innocent new cell earns trust.
func TestCatcherNeverEarnsTrust(t *testing.T) {
	cfg := testConfig()
	e, start := warmEngine(t, cfg)
	var steps []step
	for day := range 4 {
		steps = append(steps, captureLoop(time.Duration(day)*25*time.Hour)...)
		steps = append(steps, step{time.Duration(day)*25*time.Hour + time.Hour, normal(cellC)})
	}
	rs := run(t, e, start, steps)
	if n := len(byRule(findings(rs), "D9b")); n != 4 {
		t.Errorf("D9b fired %d times over 4 days, want 4", n)
	}
	b := e.Baseline()
	if b.trusted(cellX.key(), &cfg.Baseline) {
		t.Error("the capturing cell became trusted")
	}
	if !b.trusted(cellC.key(), &cfg.Baseline) {
		t.Error("an innocent cell seen on 4 days did not become trusted")
	}
}
