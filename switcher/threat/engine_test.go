package threat

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imsid/imsid/modem"
)

func TestLevelTiers(t *testing.T) {
	sc := DefaultConfig().Scoring
	for _, tc := range []struct {
		score float64
		want  Severity
	}{{0, SeverityNone}, {0.99, SeverityNone}, {1.0, SeverityLow}, {2.49, SeverityLow}, {2.5, SeverityMedium},
		{3.99, SeverityMedium}, {4.0, SeverityHigh}, {40, SeverityHigh}} {
		if got := sc.level(tc.score); got != tc.want {
			t.Errorf("level(%v) = %v, want %v", tc.score, got, tc.want)
		}
	}
}

func TestDecayWeight(t *testing.T) {
	sc := DefaultConfig().Scoring // hold 5 m, window 15 m
	for _, tc := range []struct {
		age  time.Duration
		want float64
	}{{0, 1}, {5 * time.Minute, 1}, {10 * time.Minute, 0.5}, {14 * time.Minute, 0.1}, {15 * time.Minute, 0}, {time.Hour, 0}} {
		if got := sc.weight(tc.age); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("weight(%v) = %v, want %v", tc.age, got, tc.want)
		}
	}
}

var lockFlip = Observation{RATLock: &RATLockReadback{Want: []modem.Tech{modem.TechLTE}, Got: []modem.Tech{modem.TechLTE, modem.TechGSM}}}

// TestDecayAndEpisode: one 3.0 finding decays out of the window; the
// episode's response holds until the quiet period, then clears, and the
// next finding opens a new episode.
func TestDecayAndEpisode(t *testing.T) {
	e, start := warmEngine(t, testConfig())
	rs := run(t, e, start, seq(
		one(0, lockFlip),
		one(5*time.Minute, Observation{}),
		one(10*time.Minute, Observation{}),
		one(15*time.Minute, Observation{}),
		one(20*time.Minute, lockFlip),
	))
	want := []struct {
		score  float64
		level  Severity
		active bool
		id     int
	}{{3, SeverityMedium, true, 1}, {3, SeverityMedium, true, 1}, {1.5, SeverityLow, true, 1}, {0, SeverityNone, false, 1}, {3, SeverityMedium, true, 2}}
	for i, w := range want {
		r := rs[i]
		if r.Overall.Score != w.score || r.Overall.Level != w.level || r.Episode.Active != w.active || r.Episode.ID != w.id {
			t.Errorf("step %d: score %v level %v episode %+v; want %v %v active=%v id=%d", i, r.Overall.Score, r.Overall.Level, r.Episode, w.score, w.level, w.active, w.id)
		}
	}
	// Still Medium-level actions at step 2 although the level fell to Low: the response only tightens.
	if !rs[2].Response.Actions.Has(ActRewriteRATLock | ActProbe) {
		t.Errorf("response loosened within the episode: %v", rs[2].Response.Actions)
	}
	if !rs[3].Response.IsZero() {
		t.Errorf("response after the episode ended: %+v", rs[3].Response)
	}
}

func TestPerScopeLevels(t *testing.T) {
	e, start := warmEngine(t, testConfig())
	// Two polls: D2a acts (and scores 3) on a sighting that persists.
	rs := run(t, e, start, seq(every(0, 30*time.Second, 2, func(int) Observation { return onPLMN("310410", "home", modem.RegHome) }),
		one(31*time.Second, onPLMN("310260", "roam", modem.RegRoaming))))
	r := rs[2]
	got := map[string]float64{}
	for _, a := range append(r.Profiles, r.PLMNs...) {
		got[a.Scope] = a.Score
	}
	want := map[string]float64{"profile:home": 3, "plmn:310410": 3}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if _, ok := got["profile:roam"]; ok {
		t.Errorf("roam profile scored without findings: %v", got)
	}
	if r.Overall.Score != 3 {
		t.Errorf("overall = %v, want 3 (the sum takes each detector's maximum once)", r.Overall.Score)
	}
}

func TestAlertRateLimit(t *testing.T) {
	e, start := warmEngine(t, testConfig())
	rs := run(t, e, start, every(0, 30*time.Second, 12, func(int) Observation { return onPLMN("310410", "home", modem.RegHome) }))
	var at []int
	folded := 0
	for i, r := range rs {
		for _, a := range r.Alerts {
			if a.Finding.Rule == "D2a" {
				at = append(at, i)
				folded = a.Folded
			}
		}
	}
	// Step 0 is an unconfirmed sighting (0.5, no alert); the
	// first alert comes with the confirmation at step 1.
	if len(at) != 2 || at[0] != 1 || at[1] != 11 || folded != 9 {
		t.Fatalf("D2a alerts at steps %v (last folded %d), want [1 11] with 9 folded", at, folded)
	}
}

func TestObserveRejectsBadTime(t *testing.T) {
	e, err := New(testConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Observe(Observation{})
	var oe *ObservationError
	if !errors.As(err, &oe) || oe.Field != "At" || !errors.Is(err, ErrNoTime) {
		t.Fatalf("zero time: %v", err)
	}
	if _, err := e.Observe(Observation{At: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Observe(Observation{At: t0}); !errors.Is(err, ErrTimeBackwards) {
		t.Fatalf("backwards: %v", err)
	}
	if _, err := e.Observe(Observation{At: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("same instant again: %v", err)
	}
	o := poll(cellA, math.NaN(), 3)
	o.At = t0.Add(2 * time.Hour)
	_, err = e.Observe(o)
	if !errors.As(err, &oe) || oe.Field != "Serving.Signal.RSRP" || !errors.Is(err, ErrNotFinite) {
		t.Fatalf("NaN RSRP: %v", err)
	}
	o = poll(cellA, -90, 3)
	o.At = t0.Add(2 * time.Hour)
	o.Neighbours = neighbours(1, cellB)
	o.Neighbours.Cells[0].Signal.SINR = db(math.Inf(1))
	if _, err = e.Observe(o); !errors.As(err, &oe) || oe.Field != "Neighbours.Cells[0].Signal.SINR" {
		t.Fatalf("Inf neighbour SINR: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		field string
		mod   func(*Config)
	}{
		{"Site.CountryMCC", func(c *Config) { c.Site.CountryMCC = "31" }},
		{"Scoring.Window", func(c *Config) { c.Scoring.Window = 0 }},
		{"Scoring.Hold", func(c *Config) { c.Scoring.Hold = time.Hour }},
		{"Scoring.Watch/Suspect/Threat", func(c *Config) { c.Scoring.Suspect = 5 }},
		{"Baseline.MaxCells", func(c *Config) { c.Baseline.MaxCells = 0 }},
		{"D2.ConfirmPolls", func(c *Config) { c.D2.ConfirmPolls = -1 }},
		{"D2.ConfirmWithin", func(c *Config) { c.D2.ConfirmWithin = -time.Second }},
		{`Profiles["home"].AllowedMCCs[0]`, func(c *Config) { c.Profiles["home"] = ProfilePolicy{AllowedMCCs: []string{"x"}} }},
	} {
		c := testConfig()
		tc.mod(&c)
		_, err := New(c, nil)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: err = %v", tc.field, err)
		}
	}
	if err := func() error { c := DefaultConfig(); return c.Validate() }(); err != nil {
		t.Errorf("DefaultConfig invalid: %v", err)
	}
}

// script is a fixed mixed scenario touching every detector.
func script() []step {
	return seq(
		redirect(),
		captureLoop(2*time.Minute),
		one(4*time.Minute, reject(7, &cellX)),
		every(5*time.Minute, 30*time.Second, 3, func(int) Observation { return jamPoll(-88, -8, -19) }),
		every(7*time.Minute, 30*time.Second, 2, func(int) Observation { return onPLMN("334020", "home", modem.RegRoaming) }),
		one(8*time.Minute, simObs(iccidA, "310260000000001", "356938035643809", modem.SIMReady)),
		one(9*time.Minute, simObs(iccidA, "310260000000002", "356938035643809", modem.SIMReady)),
		one(10*time.Minute, lockFlip),
		every(11*time.Minute, time.Minute, 3, func(int) Observation {
			o := poll(retagged(cellA, 0x77), -70, 12)
			o.Neighbours = legacyNeighbours(5, 7, modem.TechGSM)
			return o
		}),
		every(20*time.Minute, 5*time.Minute, 8, func(int) Observation { return normal(cellA) }),
	)
}

func TestDeterminism(t *testing.T) {
	runOnce := func() ([]Result, []byte) {
		e, start := warmEngine(t, testConfig())
		rs := run(t, e, start, script())
		b, err := json.Marshal(e.Baseline())
		if err != nil {
			t.Fatal(err)
		}
		return rs, b
	}
	a, ba := runOnce()
	b, bb := runOnce()
	if d := cmp.Diff(a, b); d != "" {
		t.Fatalf("same inputs, different results (-first +second):\n%s", d)
	}
	if string(ba) != string(bb) {
		t.Fatal("same inputs, different baselines")
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatal("same inputs, different JSON")
	}
	rules := map[string]bool{}
	for _, f := range findings(a) {
		rules[f.Rule] = true
	}
	for _, r := range []string{"D1a", "D1b", "D2b", "D3", "D4a", "D5a", "D6b", "D7b", "D8b", "D9b", "D10d"} {
		if !rules[r] {
			t.Errorf("script never exercised %s", r)
		}
	}
}

func TestCatalogue(t *testing.T) {
	c := Catalogue()
	if len(c) != 10 {
		t.Fatalf("%d detectors", len(c))
	}
	for i, d := range c {
		if string(d.ID) != "D"+string(rune('1'+i)) && !(i == 9 && d.ID == D10) {
			t.Errorf("detector %d is %s", i, d.ID)
		}
		if d.Version < 1 || d.Name == "" || d.Description == "" {
			t.Errorf("incomplete: %+v", d)
		}
	}
}

func TestResponseMerge(t *testing.T) {
	cell := Scope{Kind: ScopeCell, Cell: cellX.key(), PLMN: plmn("310260")}
	a := Response{Level: SeverityLow, Actions: ActAlert, Quarantine: []Quarantine{{Scope: cell, TTL: time.Minute}}}
	b := Response{Level: SeverityHigh, Actions: ActLeaveNow, Quarantine: []Quarantine{{Scope: cell, TTL: time.Hour}, {Scope: Scope{Kind: ScopePLMN, PLMN: plmn("310410")}, TTL: time.Minute}}}
	ab, ba := a.Merge(b), b.Merge(a)
	if d := cmp.Diff(ab, ba); d != "" {
		t.Errorf("merge not commutative: %s", d)
	}
	if !ab.Covers(a) || !ab.Covers(b) || a.Covers(ab) {
		t.Error("merge does not cover its inputs")
	}
	if d := cmp.Diff(ab, ab.Merge(ab)); d != "" {
		t.Errorf("merge not idempotent: %s", d)
	}
	if ab.Level != SeverityHigh || ab.Actions != ActAlert|ActLeaveNow || len(ab.Quarantine) != 2 {
		t.Errorf("merge = %+v", ab)
	}
}

// randomObservation draws an observation from a small world so the
// detectors meet each other's inputs often.
func randomObservation(r *rand.Rand) Observation {
	cells := []cellSpec{cellA, cellB, cellC, cellX, retagged(cellA, 0x9999)}
	profiles := []string{"home", "roam", "", "other"}
	o := Observation{Profile: profiles[r.IntN(len(profiles))]}
	switch r.IntN(10) {
	case 0:
		o.Registration = &modem.Registration{Status: modem.RegStatus(r.IntN(12)), RejectCauseType: ptr(r.IntN(2)), RejectCause: ptr(r.IntN(40)),
			AcT: ptr(modem.AcT(r.IntN(14))), CellID: ptr(uint64(r.IntN(3)))}
	case 1:
		o.Events = []Event{{Kind: EventKind(1 + r.IntN(11)), Jammed: r.IntN(2) == 0, Until: t0.Add(time.Duration(r.IntN(1e6)) * time.Second)}}
	case 2:
		o.SIM = &SIMIdentity{ICCID: []modem.ICCID{iccidA, iccidB, iccidZ, ""}[r.IntN(4)], IMSI: modem.IMSI([]string{"", "310260000000001", "310410000000002"}[r.IntN(3)]),
			IMEI: []string{"", "356938035643809", "1"}[r.IntN(3)], State: modem.SIMState(r.IntN(11))}
	case 3:
		o.RATLock = &RATLockReadback{Want: []modem.Tech{modem.TechLTE}, Got: []modem.Tech{[]modem.Tech{modem.TechLTE, modem.TechGSM}[r.IntN(2)]}}
	case 4:
		o = onPLMN([]string{"310260", "310410", "334020"}[r.IntN(3)], o.Profile, modem.RegStatus(r.IntN(12)))
		if r.IntN(2) == 0 {
			// A serving cell that may contradict the other reads (D2's consistency check).
			o.Registration.CellID = ptr(uint64(r.IntN(3)))
			o.Serving = &modem.ServingCell{Tech: modem.TechLTE, PLMN: plmn([]string{"310260", "310410", "334020"}[r.IntN(3)]),
				CellID: ptr(uint64(r.IntN(3))), State: []string{"NOCONN", "LIMSRV", "SEARCH"}[r.IntN(3)]}
		}
	case 5:
		o.Serving = &modem.ServingCell{Tech: []modem.Tech{modem.TechGSM, modem.TechUMTS, modem.TechLTE, ""}[r.IntN(4)], PLMN: plmn("310260"),
			CellID: ptr(uint64(r.IntN(4)))}
	default:
		c := cells[r.IntN(len(cells))]
		o2 := poll(c, -130+r.Float64()*90, -20+r.Float64()*50)
		o2.Profile = o.Profile
		if r.IntN(3) == 0 {
			o2.Serving.Signal.RSSI = dbm(-120 + r.Float64()*90)
		}
		if r.IntN(2) == 0 {
			n := r.IntN(4)
			o2.Neighbours = neighbours(r.IntN(8), cells[:n]...)
			if r.IntN(4) == 0 {
				o2.Neighbours = legacyNeighbours(r.IntN(8), r.IntN(8), modem.TechGSM)
			}
		}
		o = o2
	}
	return o
}

// checkInvariants is the property every result must have.
func checkInvariants(t testing.TB, prev, r Result) {
	t.Helper()
	for _, a := range append([]Assessment{r.Overall}, append(r.Profiles, r.PLMNs...)...) {
		if math.IsNaN(a.Score) || math.IsInf(a.Score, 0) || a.Score < 0 {
			t.Fatalf("bad score %v in %s", a.Score, a.Scope)
		}
		if a.Level < SeverityNone || a.Level > SeverityCritical {
			t.Fatalf("level %v out of range", a.Level)
		}
	}
	for _, f := range r.Findings {
		if f.Score < 0 || f.Severity < SeverityNone || f.Severity > SeverityCritical || f.Rule == "" || f.Reason == "" {
			t.Fatalf("bad finding %+v", f)
		}
	}
	if prev.Episode.Active && r.Episode.Active && prev.Episode.ID == r.Episode.ID && !r.Response.Covers(prev.Response) {
		t.Fatalf("response loosened within episode %d:\nprev %+v\nnow  %+v", r.Episode.ID, prev.Response, r.Response)
	}
	if !r.Episode.Active && !r.Response.IsZero() {
		t.Fatalf("response outside an episode: %+v", r.Response)
	}
	if r.Response.Level < r.Overall.Level && r.Episode.Active {
		t.Fatalf("response level %v below overall %v", r.Response.Level, r.Overall.Level)
	}
}

// TestPropertyRandomSequences: random observation streams never panic,
// keep scores and levels in bounds and only tighten within an episode;
// the same seed twice gives the same results.
func TestPropertyRandomSequences(t *testing.T) {
	n := 60
	if testing.Short() {
		n = 30
	}
	for seed := uint64(0); seed < uint64(n); seed++ {
		results := make([][]Result, 2)
		for pass := range 2 {
			cfg := testConfig()
			provisioned(&cfg)
			cfg.Site.Stationary = seed%7 != 0
			e, start := warmEngine(t, cfg)
			r := rand.New(rand.NewPCG(seed, 42))
			at := start
			var prev Result
			for range 150 {
				at = at.Add(time.Duration(r.IntN(120)) * time.Second)
				o := randomObservation(r)
				o.At = at
				res, err := e.Observe(o)
				if err != nil {
					t.Fatal(err)
				}
				checkInvariants(t, prev, res)
				prev = res
				results[pass] = append(results[pass], res)
			}
		}
		if !reflect.DeepEqual(results[0], results[1]) {
			t.Fatalf("seed %d not deterministic:\n%s", seed, cmp.Diff(results[0], results[1]))
		}
	}
}

// FuzzEngine feeds observation streams decoded from arbitrary bytes.
func FuzzEngine(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("capture and release, jamming, rejects"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 8 {
			return
		}
		cfg := testConfig()
		cfg.Baseline.WarmUp = time.Hour
		cfg.Baseline.WarmUpObservations = 5
		cfg.Baseline.MaxCells = 3
		e, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		var s1, s2 uint64
		for i := range 8 {
			s1 = s1<<8 | uint64(data[i])
		}
		for _, b := range data[8:] {
			s2 = s2*31 + uint64(b)
		}
		r := rand.New(rand.NewPCG(s1, s2))
		at := t0
		var prev Result
		for range 40 + len(data) {
			at = at.Add(time.Duration(r.IntN(600)) * time.Second)
			o := randomObservation(r)
			o.At = at
			res, err := e.Observe(o)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, prev, res)
			prev = res
		}
		if n := len(e.Baseline().Cells); n > cfg.Baseline.MaxCells {
			t.Fatalf("baseline grew to %d cells", n)
		}
	})
}

func TestResultJSONRoundTrip(t *testing.T) {
	e, start := warmEngine(t, testConfig())
	for _, r := range run(t, e, start, script()) {
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("%v\n%s", err, data)
		}
		if d := cmp.Diff(r, back); d != "" {
			t.Fatalf("round trip changed the result:\n%s", d)
		}
	}
	var a Action
	if err := a.UnmarshalText([]byte("alert|bogus")); err == nil {
		t.Error("unknown action accepted")
	}
}

// Every history is bounded by count as well as age (issue 13): a modem
// that reports an event at every poll cannot grow the engine's memory.
func TestHistoriesBoundedByCount(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ts []time.Time
	for i := range 10 * maxHistory {
		ts = append(ts, now.Add(time.Duration(i)*time.Millisecond))
		ts = pruneBefore(ts, now.Add(-time.Hour))
	}
	if len(ts) != maxHistory || !ts[len(ts)-1].Equal(now.Add(time.Duration(10*maxHistory-1)*time.Millisecond)) {
		t.Fatalf("kept %d times, newest %v", len(ts), ts[len(ts)-1])
	}
	e, start := warmEngine(t, testConfig())
	at := start
	for i := range 3 * maxWindow {
		o := detach()
		o.At = at.Add(time.Duration(i) * time.Second)
		if _, err := e.Observe(o); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.window) > maxWindow {
		t.Fatalf("scoring window holds %d findings, bound %d", len(e.window), maxWindow)
	}
}
