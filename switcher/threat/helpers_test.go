package threat

import (
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// cellSpec is a test cell: PLMN, CI, TAC and radio.
type cellSpec struct {
	plmn        string
	ci          uint64
	tac         uint32
	earfcn, pci int
}

var (
	cellA = cellSpec{"310260", 0x12BEEF, 0x2F, 5230, 17}
	cellB = cellSpec{"310260", 0x12BEF0, 0x2F, 5230, 18}
	cellC = cellSpec{"310260", 0x12BEF1, 0x2F, 2300, 40}
	// cellX is the stranger: unknown CI, unknown TAC, same channel.
	cellX = cellSpec{"310260", 0xABCDEF0, 0x9999, 5230, 301}
	// cellForeign is on a network outside home's allowlist.
	cellForeign = cellSpec{"310410", 0x0A1B2C3, 0x1B00, 2175, 88}
	// cellOther1 and cellOther2 are two more networks.
	cellOther1 = cellSpec{"310410", 0x0A1B2C4, 0x1B01, 2175, 89}
	cellOther2 = cellSpec{"311480", 0x0B0C0D1, 0x2C01, 5110, 201}
)

func (c cellSpec) key() CellKey { return CellKey{PLMN: plmn(c.plmn), CI: c.ci} }

func plmn(s string) modem.PLMN {
	if len(s) != 5 && len(s) != 6 {
		panic("bad test PLMN " + s)
	}
	return modem.PLMN{MCC: s[:3], MNC: s[3:]}
}

func ptr[T any](v T) *T { return &v }

func dbm(v float64) *modem.DBm { return ptr(modem.DBm(v)) }
func db(v float64) *modem.DB   { return ptr(modem.DB(v)) }

// testConfig is DefaultConfig with a warm-up short enough for tests.
func testConfig() Config {
	c := DefaultConfig()
	c.Site.CountryMCC = "310"
	c.Baseline.WarmUp = 24 * time.Hour
	c.Baseline.WarmUpObservations = 50
	c.Baseline.TrustDays = 2
	c.Baseline.MinSignalSamples = 10
	c.Profiles = map[string]ProfilePolicy{
		"home": {AllowedPLMNs: []modem.PLMN{plmn("310260")}},
		"roam": {AllowedMCCs: []string{"310"}, RoamingExpected: true},
	}
	return c
}

// serving builds an LTE serving-cell report.
func serving(c cellSpec, rsrp, sinr float64) *modem.ServingCell {
	return &modem.ServingCell{
		Tech: modem.TechLTE, State: "NOCONN", PLMN: plmn(c.plmn),
		Area: ptr(c.tac), CellID: ptr(c.ci), PCI: ptr(c.pci), EARFCN: ptr(c.earfcn), Band: "B4",
		Signal: modem.Signal{Tech: modem.TechLTE, RSRP: dbm(rsrp), SINR: db(sinr), RSRQ: db(-9), Source: "+QENG"},
	}
}

func registered(act modem.AcT) *modem.Registration {
	return &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegHome, AcT: ptr(act)}
}

func neighbours(prio int, cs ...cellSpec) *NeighbourList {
	nl := &NeighbourList{Cells: []NeighbourCell{}}
	for _, c := range cs {
		nl.Cells = append(nl.Cells, NeighbourCell{
			Neighbour: modem.Neighbour{Tech: modem.TechLTE, EARFCN: ptr(c.earfcn), PCI: ptr(c.pci),
				Signal: modem.Signal{RSRP: dbm(-100)}},
			Intra: c.earfcn == 5230, Priority: ptr(prio),
		})
	}
	return nl
}

// poll is a full periodic observation on cell c for profile "home".
func poll(c cellSpec, rsrp, sinr float64) Observation {
	return Observation{
		Profile:      "home",
		Registration: registered(modem.ActEUTRAN),
		Operator:     &modem.Operator{PLMN: plmn(c.plmn), AcT: ptr(modem.ActEUTRAN)},
		Serving:      serving(c, rsrp, sinr),
	}
}

// normal is a poll on c with the usual neighbours of the test site.
func normal(c cellSpec) Observation {
	o := poll(c, -92, 12)
	switch c {
	case cellB:
		o.Neighbours = neighbours(5, cellA, cellC)
	default:
		o.Neighbours = neighbours(5, cellB, cellC)
	}
	return o
}

// step is one observation at an offset from the scenario's start.
type step struct {
	off time.Duration
	o   Observation
}

// warmEngine learns a baseline of cells A (mostly) and B over two and a
// half days and returns the engine and the first instant after it.
func warmEngine(t testing.TB, cfg Config) (*Engine, time.Time) {
	t.Helper()
	e, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := t0
	for i := 0; i < 120; i++ {
		c := cellA
		if i%5 == 4 {
			c = cellB
		}
		o := normal(c)
		o.Serving.Signal.RSRP = dbm(-92 + float64(i%3-1))
		o.At = at
		if _, err := e.Observe(o); err != nil {
			t.Fatal(err)
		}
		at = at.Add(30 * time.Minute)
	}
	// Quiet time after warm-up: nothing should be in the window.
	at = at.Add(time.Hour)
	r, err := e.Observe(Observation{At: at})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Warm {
		t.Fatal("baseline not warm after warm-up")
	}
	if r.Overall.Level != SeverityNone || len(r.Findings) != 0 {
		t.Fatalf("warm-up left findings: %+v", r)
	}
	return e, at.Add(time.Minute)
}

// run feeds steps from start and returns every result.
func run(t testing.TB, e *Engine, start time.Time, steps []step) []Result {
	t.Helper()
	var out []Result
	for i, s := range steps {
		s.o.At = start.Add(s.off)
		r, err := e.Observe(s.o)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		out = append(out, r)
	}
	return out
}

func findings(rs []Result) []Finding {
	var out []Finding
	for _, r := range rs {
		out = append(out, r.Findings...)
	}
	return out
}

func byRule(fs []Finding, rule string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// every returns steps of o repeated n times, interval apart, from off.
func every(off, interval time.Duration, n int, mk func(i int) Observation) []step {
	var out []step
	for i := 0; i < n; i++ {
		out = append(out, step{off + time.Duration(i)*interval, mk(i)})
	}
	return out
}

func seq(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func one(off time.Duration, o Observation) []step { return []step{{off, o}} }

// detectorCase is the shape of every per-detector table.
type detectorCase struct {
	name  string
	cfg   func(*Config)
	cold  bool // skip warm-up
	steps []step
	rule  string
	// want is the severity of the rule's last finding; -1 means the rule
	// must not fire at all.
	want  Severity
	score float64 // checked when > 0
	check func(t *testing.T, rs []Result)
}

const never Severity = -1

func runCases(t *testing.T, cases []detectorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			var e *Engine
			start := t0
			if tc.cold {
				var err error
				if e, err = New(cfg, nil); err != nil {
					t.Fatal(err)
				}
			} else {
				e, start = warmEngine(t, cfg)
			}
			rs := run(t, e, start, tc.steps)
			got := byRule(findings(rs), tc.rule)
			if tc.want == never {
				if len(got) > 0 {
					t.Fatalf("%s fired: %+v", tc.rule, got[0])
				}
			} else {
				if len(got) == 0 {
					t.Fatalf("%s did not fire; findings: %+v", tc.rule, findings(rs))
				}
				last := got[len(got)-1]
				if last.Severity != tc.want {
					t.Errorf("%s severity = %v, want %v (%s)", tc.rule, last.Severity, tc.want, last.Message)
				}
				if tc.score > 0 && last.Score != tc.score {
					t.Errorf("%s score = %v, want %v", tc.rule, last.Score, tc.score)
				}
				if last.Reason == "" || last.Message == "" || last.Detector == "" || last.Version == 0 {
					t.Errorf("%s finding incomplete: %+v", tc.rule, last)
				}
			}
			if tc.check != nil {
				tc.check(t, rs)
			}
		})
	}
}
