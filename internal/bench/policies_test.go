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

// TestPhases splits a synthetic failover whose events fall as they do in
// the engine: data lost at 100 s; the manager logs a hold at 104.3 s and
// the switch at 110.2 s (the ticks began a fraction earlier); the SIM goes
// busy at 111.5 s and is ready with roam at 114.5 s; registered at 134.5
// s; the manager notices, checks and asks for PDP at 136.5 s; data flows
// at 137.5 s; it logs roam verified at 138.4 s, in a tick that began at
// 136.9 s. The samples, one a second, carry the simulator's stamps of
// each change, so the phases fall on the instants, not on the samples.
// Half an hour later it switches home and verifies that too: that must
// not be taken for this failover's verification (it once was, and the
// verify column read 32.5 min for ours and 0 for every baseline).
func TestPhases(t *testing.T) {
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	var ss []sample
	for s := 90; s <= 140; s++ {
		x := sample{t: sec(float64(s)), profile: "home", simReady: true, reg: true, dataUp: true}
		if s >= 100 {
			x.reg, x.dataUp, x.regAt, x.dataAt = false, false, sec(100), sec(100)
		}
		switch {
		case s >= 112 && s < 115:
			x.simReady, x.simAt = false, sec(111.5)
		case s >= 115:
			x.profile, x.simAt = "roam", sec(114.5)
		}
		if s >= 135 {
			x.reg, x.regAt = true, sec(134.5)
		}
		if s >= 138 {
			x.dataUp, x.dataAt = true, sec(137.5)
		}
		ss = append(ss, x)
	}
	decs := []decision{{sec(95), switcher.KindStay}, {sec(101), switcher.KindStay}, {sec(104.3), switcher.KindHold},
		{sec(110.2), switcher.KindSwitch}, {sec(138.4), switcher.KindVerified},
		{sec(1900), switcher.KindSwitch}, {sec(1930), switcher.KindVerified}}
	loss, back := sec(100), sec(137.5)
	p, ok := phases(ss, decs, loss, back, time.Second)
	if !ok {
		t.Fatal("no phases")
	}
	want := Phases{Detect: sec(4.3), Decide: sec(5.9), Refresh: sec(4.3), RefreshModem: sec(3), Attach: sec(20),
		Verify: sec(2), PDP: sec(1), Confirmed: sec(0.9)}
	want.Own = want.Detect + want.Decide + (want.Refresh - want.RefreshModem) + want.Verify
	want.Modem = want.RefreshModem + want.Attach + want.PDP
	if p != want {
		t.Fatalf("phases\n got %+v\nwant %+v", p, want)
	}
	if p.Failover() != back-loss || p.Own+p.Modem != back-loss {
		t.Errorf("phases add up to %v, own + modem to %v; the failover is %v", p.Failover(), p.Own+p.Modem, back-loss)
	}
	if p.Own != sec(13.5) || p.Modem != sec(24) {
		t.Errorf("own %v modem %v, want 13.5 s and 24 s", p.Own, p.Modem)
	}

	// The applet: no decision before the SIM changes; the manager adopts
	// the new identity 1.5 s after data flows. Detect runs to the SIM
	// change (111.5 s), decide and the manager's refresh share are 0.
	appletDecs := []decision{{sec(139), switcher.KindAdopt}}
	p, ok = phases(ss, appletDecs, loss, back, time.Second)
	if !ok || p.Detect != sec(11.5) || p.Decide != 0 || p.Refresh != p.RefreshModem || p.Confirmed != sec(1.5) ||
		p.Failover() != back-loss || p.Own+p.Modem != back-loss {
		t.Errorf("applet: %+v", p)
	}

	// A switch that was never verified (the next decision is another
	// switch): no confirmation.
	p, _ = phases(ss, []decision{{sec(110.2), switcher.KindSwitch}, {sec(400), switcher.KindRollback}, {sec(420), switcher.KindVerified}},
		loss, back, time.Second)
	if p.Confirmed != -1 {
		t.Errorf("an unverified switch confirmed after %v", p.Confirmed)
	}

	// Decisions logged out of order with the samples (a switch logged
	// after the SIM had started to change) never give a negative phase,
	// and the phases still add up.
	p, _ = phases(ss, []decision{{sec(113.5), switcher.KindSwitch}}, loss, back, time.Second)
	for _, d := range []time.Duration{p.Detect, p.Decide, p.Refresh, p.RefreshModem, p.Attach, p.Verify, p.PDP} {
		if d < 0 {
			t.Fatalf("negative phase: %+v", p)
		}
	}
	if p.Failover() != back-loss || p.Own+p.Modem != back-loss {
		t.Errorf("late switch: %+v", p)
	}

	// Back on the same profile: nothing to split.
	if _, ok := phases(ss[:20], nil, loss, sec(109), time.Second); ok {
		t.Error("split a failover without a switch")
	}
}

// TestSummaryPhases: the phase table shows the median failover's own
// breakdown (its phases add up to the failover shown beside them), and
// own and modem p50 are medians over every run that switched.
func TestSummaryPhases(t *testing.T) {
	var runs []Run
	for i, f := range []int{40, 20, 30, 25, 90} {
		fo := time.Duration(f) * time.Second
		own := time.Duration(5+i) * time.Second
		p := Phases{Detect: own, Attach: fo - own - time.Second, PDP: time.Second, Own: own, Modem: fo - own}
		runs = append(runs, Run{Scenario: "s", Variant: "v", Seed: uint64(i + 1), HasLoss: true, Failover: fo, Phases: &p})
	}
	runs = append(runs, Run{Scenario: "s", Variant: "v", Seed: 9, HasLoss: true, Failover: 5 * time.Second}) // back without a switch
	s := Summarise(runs)
	if s.PhaseRuns != 5 || s.PhaseFailover != 30*time.Second || s.Phases.Failover() != s.PhaseFailover {
		t.Fatalf("median run: %d runs, failover %v, phases add up to %v", s.PhaseRuns, s.PhaseFailover, s.Phases.Failover())
	}
	if s.OwnP50 != 7*time.Second || s.ModemP50 != 23*time.Second {
		t.Errorf("own p50 %v modem p50 %v, want 7 s and 23 s", s.OwnP50, s.ModemP50)
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

// A first candidate the network refuses: the decide phase (the first
// decision to the switch that brought data back) holds the modem's refresh
// and attach of that candidate, until its reject, and those are the
// modem's time, not the manager's: the manager's part is the time before
// the SIM went busy and from the reject to the next switch. It counted the
// whole phase as the manager's (refused-cause7: own time p50 32.5 s, of
// which some 25 s was the modem attaching the refused candidate).
//
// Home lost at 100 s; switch to roam logged at 105 s; the SIM busy from
// 105.1 s, ready with roam at 107.1 s; roam rejected at 112.1 s; the
// manager's switch to last at 113.2 s; the SIM busy from 113.3 s and
// ready with last at 115.3 s; registered at 120.3 s; data at 121.6 s.
func TestPhasesSplitTheDecidePhase(t *testing.T) {
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	var ss []sample
	for s := 90; s <= 130; s++ {
		x := sample{t: sec(float64(s)), profile: "home", simReady: true, reg: true, dataUp: true, stat: 1}
		if s >= 100 {
			x.reg, x.dataUp, x.regAt, x.dataAt, x.stat, x.statAt = false, false, sec(100), sec(100), 2, sec(100)
		}
		switch {
		case s >= 106 && s < 108:
			x.simReady, x.simAt = false, sec(105.1)
		case s >= 108 && s < 114:
			x.profile, x.simAt = "roam", sec(107.1)
			if s >= 113 {
				x.stat, x.statAt = 3, sec(112.1)
			}
		case s >= 114 && s < 116:
			x.profile, x.simReady, x.simAt, x.stat, x.statAt = "roam", false, sec(113.3), 2, sec(113.3)
		case s >= 116:
			x.profile, x.simAt, x.stat, x.statAt = "last", sec(115.3), 2, sec(113.3)
		}
		if s >= 121 {
			x.reg, x.regAt, x.stat, x.statAt = true, sec(120.3), 1, sec(120.3)
		}
		if s >= 122 {
			x.dataUp, x.dataAt = true, sec(121.6)
		}
		ss = append(ss, x)
	}
	decs := []decision{{sec(105), switcher.KindSwitch}, {sec(113.2), switcher.KindSwitch}, {sec(122), switcher.KindVerified}}
	loss, back := sec(100), sec(121.6)
	p, ok := phases(ss, decs, loss, back, time.Second)
	if !ok {
		t.Fatal("no phases")
	}
	near := func(a, b time.Duration) bool { return a-b < time.Millisecond && b-a < time.Millisecond }
	if !near(p.Decide, sec(8.2)) || !near(p.DecideModem, sec(7)) {
		t.Fatalf("decide %v (modem part %v), want 8.2 s (7 s: the SIM busy at 105.1 s to the reject at 112.1 s)\n%+v", p.Decide, p.DecideModem, p)
	}
	if !near(p.Own, sec(6.6)) || p.Own+p.Modem != back-loss {
		t.Fatalf("own %v modem %v, want own 6.6 s (detect 5, decide 1.2, refresh 0.1, verify 0.3) and own + modem = %v\n%+v",
			p.Own, p.Modem, back-loss, p)
	}
}
