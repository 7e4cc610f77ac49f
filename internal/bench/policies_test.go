package bench

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/switcher"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// feed calls p once per tick (every step, from t0) with ok(i) as the
// check outcome; it returns the tick index and target of the first switch.
func feed(p switcher.Policy, active string, step time.Duration, n int, ok func(i int) bool) (int, string) {
	for i := range n {
		good := ok(i)
		in := switcher.PolicyInput{Now: t0.Add(time.Duration(i) * step), Active: active,
			Profiles: []string{"home", "roam", "last"}, Registered: good, DataUp: good, Probed: true, ProbeOK: good}
		if !good {
			in.ProbeFails = 1
		}
		if c := p.Decide(in); c.To != "" {
			return i, c.To
		}
	}
	return -1, ""
}

func TestRouterDefaults(t *testing.T) {
	// Fails from tick 2 on, ticks every 10 s: the third failed check switches.
	i, to := feed(NewRouterDefaults(nil), "home", 10*time.Second, 20, func(i int) bool { return i < 2 })
	if i != 4 || to != "roam" {
		t.Fatalf("switch at tick %d to %q, want tick 4 to roam", i, to)
	}
	// Event-driven ticks every 2 s do not count as extra checks.
	i, _ = feed(NewRouterDefaults(nil), "home", 2*time.Second, 40, func(int) bool { return false })
	if i != 10 {
		t.Fatalf("switch at tick %d (2 s ticks), want 10 (20 s)", i)
	}
	// On a secondary, the primary is retried after RouterReturnAfter.
	i, to = feed(NewRouterDefaults(nil), "roam", 10*time.Second, 1000, func(int) bool { return true })
	if got := time.Duration(i) * 10 * time.Second; to != "home" || got != RouterReturnAfter {
		t.Fatalf("return to %q after %v", to, got)
	}
	// From the last profile, failures wrap around to the first.
	if _, to := feed(NewRouterDefaults(nil), "last", 10*time.Second, 10, func(int) bool { return false }); to != "home" {
		t.Fatalf("wrapped to %q", to)
	}
}

func TestRouterFastAndWeakSignal(t *testing.T) {
	// At 3 s the third failed check comes 6 s after the first.
	i, _ := feed(NewRouterFast(nil), "home", time.Second, 40, func(int) bool { return false })
	if i != 6 {
		t.Fatalf("router-fast switched at tick %d (1 s ticks), want 6", i)
	}
	// Weak signal: every check passes, but RSRP is below -110 dBm from tick 3.
	rsrp := -100.0
	r := NewRouterDefaults(func() (float64, bool) { return rsrp, true })
	for k := range 20 {
		if k == 3 {
			rsrp = -112
		}
		in := switcher.PolicyInput{Now: t0.Add(time.Duration(k) * 10 * time.Second), Active: "home",
			Profiles: []string{"home", "roam", "last"}, Registered: true, DataUp: true, Probed: true, ProbeOK: true}
		if c := r.Decide(in); c.To != "" {
			if k != 5 || c.To != "roam" {
				t.Fatalf("weak signal: switch at tick %d to %q, want tick 5 to roam", k, c.To)
			}
			return
		}
	}
	t.Fatal("the weak-signal rule never switched")
}

func TestMWAN3Tuned(t *testing.T) {
	// Interval 5 s until the first failure, then 2 s: failures at 10 s
	// (tick 10 of 1 s ticks), 12 s, 14 s: down 3 switches at 14 s.
	i, to := feed(NewMWAN3Tuned(), "home", time.Second, 40, func(i int) bool { return i < 8 })
	if i != 14 || to != "roam" {
		t.Fatalf("mwan3-tuned switched at tick %d to %q, want 14 to roam", i, to)
	}
}

func TestMWAN3Defaults(t *testing.T) {
	i, to := feed(NewMWAN3Defaults(), "home", 10*time.Second, 20, func(int) bool { return false })
	if i != 4 || to != "roam" {
		t.Fatalf("switch at tick %d to %q, want tick 4 (5th failure)", i, to)
	}
	// A good check resets the count; no fail-back ever.
	i, _ = feed(NewMWAN3Defaults(), "roam", 10*time.Second, 1000, func(i int) bool { return i%4 == 0 })
	if i != -1 {
		t.Fatalf("switched at tick %d", i)
	}
	if i, _ := feed(AppletAutonomous{Label: "applet-3min"}, "home", time.Second, 100, func(int) bool { return false }); i != -1 {
		t.Fatal("the applet baseline switched")
	}
}

func TestMeterFlapsAndFailover(t *testing.T) {
	sc := Scenario{Name: "x", Duration: time.Hour, Sample: time.Second, Failover: true}
	cfg, err := Variants()[0].config()
	if err != nil {
		t.Fatal(err)
	}
	m := newMeter(sc, Episode{Onset: 10 * time.Minute}, cfg)
	imsi := map[string]string{"home": "310260123456789", "roam": "204041234567890", "last": "901281234567890"}
	// home until 10m, down 10m–11m, roam 11m–14m, last 14m–16m, home again
	// (a flap: home was left 6 min before), roam at 40m (not a flap).
	for s := 1; s <= 3600; s++ {
		t := time.Duration(s) * time.Second
		st := stateAt(t, imsi)
		m.add(t, st)
	}
	r := m.result()
	if r.Switches != 4 || r.Flaps != 1 {
		t.Fatalf("switches %d flaps %d, want 4 and 1", r.Switches, r.Flaps)
	}
	if !r.HasLoss || r.Failover != time.Minute || r.Downtime != time.Minute {
		t.Fatalf("failover %v downtime %v", r.Failover, r.Downtime)
	}
	if r.Bytes == 0 || r.Cost <= 0 {
		t.Fatalf("bytes %d cost %v", r.Bytes, r.Cost)
	}
}

func TestOracle(t *testing.T) {
	cfg, err := Variants()[0].config()
	if err != nil {
		t.Fatal(err)
	}
	sc := Scenario{Duration: 2*time.Hour + MeasureFrom}
	// Nothing happens: all on home.
	c, d := oracle(sc, Episode{}, cfg)
	want := 2 * 3600 * bytesPerSec * 0.002 / 1e6
	if d != 0 || c < want*0.999 || c > want*1.001 {
		t.Fatalf("quiet: cost %v (want %v) down %v", c, want, d)
	}
	// Home down for an hour: two switches (16 s without data), an hour on roam.
	ep := Episode{Down: map[string][]Span{homePLMN: {{MeasureFrom + 30*time.Minute, MeasureFrom + 90*time.Minute}}}}
	c, d = oracle(sc, ep, cfg)
	if d != 2*modelled {
		t.Fatalf("outage: down %v, want %v", d, 2*modelled)
	}
	if c <= want || c > want+3600*bytesPerSec*0.012/1e6 {
		t.Fatalf("outage: cost %v", c)
	}
}

func TestScenariosBuild(t *testing.T) {
	for _, sc := range append(Scenarios(), CIScenarios()...) {
		ep := sc.Build(rand.New(rand.NewPCG(1, 2)))
		if ep.Timeline == "" || sc.Reps < 1 || sc.Sample <= 0 || sc.Duration <= MeasureFrom {
			t.Errorf("%s: %+v", sc.Name, sc)
		}
		if sc.Failover && ep.Onset < MeasureFrom {
			t.Errorf("%s: onset %v before measuring starts", sc.Name, ep.Onset)
		}
	}
}

func stateAt(t time.Duration, imsi map[string]string) simulator.State {
	st := simulator.State{SIM: "ready", RegStat: 1, DataUp: true, TxBytes: int64(t / time.Second * 1000)}
	switch {
	case t < 10*time.Minute:
		st.IMSI = imsi["home"]
	case t < 11*time.Minute:
		st.IMSI, st.DataUp, st.RegStat = imsi["home"], false, 2
	case t < 14*time.Minute:
		st.IMSI = imsi["roam"]
	case t < 16*time.Minute:
		st.IMSI = imsi["last"]
	case t < 40*time.Minute:
		st.IMSI = imsi["home"]
	default:
		st.IMSI = imsi["roam"]
	}
	return st
}

// TestPhases splits a synthetic failover: data lost at 100 s, the manager's
// first decision at 110 s, the switch at 120 s, the SIM busy 122–125 s,
// ready at 125 s, registered at 140 s, data at 142 s, verified at 150 s.
func TestPhases(t *testing.T) {
	var ss []sample
	for s := 90; s <= 160; s++ {
		tt := time.Duration(s) * time.Second
		x := sample{t: tt, profile: "home", simReady: true, reg: true, dataUp: true}
		switch {
		case s >= 100 && s <= 122:
			x.dataUp, x.reg = false, s < 103
		case s > 122 && s < 126:
			x = sample{t: tt, profile: "home"}
		case s >= 126 && s < 141:
			x = sample{t: tt, profile: "roam", simReady: true}
		case s >= 141 && s < 143:
			x = sample{t: tt, profile: "roam", simReady: true, reg: true}
		case s >= 143:
			x.profile = "roam"
		}
		ss = append(ss, x)
	}
	decs := []decision{{110 * time.Second, switcher.KindHold}, {120 * time.Second, switcher.KindSwitch}, {150 * time.Second, switcher.KindVerified}}
	p, ok := phases(ss, decs, 99*time.Second, 143*time.Second, time.Second)
	if !ok {
		t.Fatal("no phases")
	}
	want := Phases{Detect: 11 * time.Second, Decide: 10 * time.Second, Refresh: 6 * time.Second, RefreshModem: 3 * time.Second,
		Attach: 15 * time.Second, PDP: 2 * time.Second, Verify: 7 * time.Second}
	want.Modem = want.RefreshModem + want.Attach + time.Second
	want.Own = want.Detect + want.Decide + 3*time.Second + time.Second
	if p != want {
		t.Fatalf("phases\n got %+v\nwant %+v", p, want)
	}
	if p.Own+p.Modem != 44*time.Second {
		t.Errorf("own + modem = %v, want the failover's 44 s", p.Own+p.Modem)
	}
	// Back on the same profile: nothing to split.
	if _, ok := phases(ss[:30], nil, 99*time.Second, 115*time.Second, time.Second); ok {
		t.Error("split a failover without a switch")
	}
}

// TestScenariosParse: every scenario's world, for every policy, is a valid
// simulator scenario (the full run is too long for CI).
func TestScenariosParse(t *testing.T) {
	for _, sc := range append(Scenarios(), CIScenarios()...) {
		ep := sc.Build(rand.New(rand.NewPCG(1, 0x1b5d)))
		for _, v := range Variants() {
			if !sc.Runs(v.Name) {
				continue
			}
			if _, err := World(sc, v, 1, ep); err != nil {
				t.Errorf("%s/%s: %v", sc.Name, v.Name, err)
			}
		}
	}
}
