package switcher_test

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/threat"
)

// simProber asks the simulator whether traffic would pass: the daemon's
// HTTP 204 probe, without a network stack.
type simProber struct{ sim *simulator.Modem }

func (p simProber) Probe(context.Context, string) (switcher.ProbeResult, error) {
	if p.sim.Snapshot().DataUp {
		return switcher.ProbeResult{OK: true}, nil
	}
	return switcher.ProbeResult{OK: false, Detail: "no traffic"}, nil
}

// world is the simulator, the driver and the switcher joined by net.Pipe,
// all on the synctest bubble's virtual clock.
type world struct {
	t   *testing.T
	sim *simulator.Modem
	s   *switcher.Switcher
	cfg *profiles.Config
}

// withWorld runs f against a world built from base.yaml plus timeline
// (YAML list items, scenario time).
func withWorld(t *testing.T, timeline string, f func(w *world), opts ...switcher.Option) {
	withWorldEdit(t, worldEdit{}, timeline, f, opts...)
}

// worldEdit changes the shared world for one test: the simulator's
// scenario text and the switcher's configuration text.
type worldEdit struct {
	scenario func(string) string
	cfg      func(string) string
}

func withWorldEdit(t *testing.T, edit worldEdit, timeline string, f func(w *world), opts ...switcher.Option) {
	synctest.Test(t, func(t *testing.T) {
		base, err := os.ReadFile("testdata/scenarios/base.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if edit.scenario != nil {
			base = []byte(edit.scenario(string(base)))
		}
		var cfgEdits []func(string) string
		if edit.cfg != nil {
			cfgEdits = append(cfgEdits, edit.cfg)
		}
		cfg := loadCfg(t, "sim.yaml", cfgEdits...)
		sim, s, stop := boot(t, t.Name(), append(base, []byte("timeline:\n"+timeline)...), cfg, opts...)
		// Deferred so a t.Fatal inside f still stops every goroutine of the bubble.
		defer stop()
		f(&world{t: t, sim: sim, s: s, cfg: cfg})
	})
}

// boot starts, inside a synctest bubble, the simulator on scenario text,
// the real driver over a net.Pipe and a switcher for cfg (probing through
// the simulator, plus opts). stop ends every goroutine it started.
func boot(t *testing.T, name string, scenario []byte, cfg *profiles.Config, opts ...switcher.Option) (*simulator.Modem, *switcher.Switcher, func()) {
	t.Helper()
	sc, err := simulator.ParseScenario(name, scenario)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := simulator.New(sc, simulator.WithClock(simulator.NewRealClock(1)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, b := net.Pipe()
	served := make(chan struct{})
	go func() { defer close(served); _ = sim.Serve(ctx, b) }()
	d, err := modem.New(ctx, a)
	if err != nil {
		cancel()
		t.Fatalf("driver: %v", err)
	}
	dm := switcher.NewDriverModem(d, nil)
	s, err := switcher.New(cfg, dm, append([]switcher.Option{switcher.WithProber(simProber{sim})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return sim, s, func() {
		s.Close()
		d.Close()
		dm.Wait()
		cancel()
		a.Close()
		b.Close()
		<-served
	}
}

// run drives the switcher exactly as the daemon does — Run, which ticks on
// the signal poll and on every modem event — for d of virtual time.
func (w *world) run(d time.Duration) switcher.Status {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := w.s.Run(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		w.t.Fatal(err)
	}
	return w.s.Status()
}

func (w *world) last(kind switcher.Kind) (switcher.Decision, bool) {
	ds := w.s.Decisions(0, 0)
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Kind == kind {
			return ds[i], true
		}
	}
	return switcher.Decision{}, false
}

func (w *world) wantOn(profile string) {
	w.t.Helper()
	st := w.s.Status()
	if st.Active != profile || st.State != switcher.StateConnected {
		w.t.Fatalf("want connected on %q, got %s on %q; decisions:\n%s", profile, st.State, st.Active, dump(w.s.Decisions(0, 0)))
	}
	if snap := w.sim.Snapshot(); !strings.HasPrefix(snap.IMSI, string(w.cfg.Profile(profile).IMSIPrefix)) {
		w.t.Fatalf("simulator SIM carries another IMSI than %q", profile)
	}
}

func dump(ds []switcher.Decision) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Time.Format("15:04:05") + " " + string(d.Kind) + " " + d.From + ">" + d.To + " " + string(d.Trigger))
		for _, r := range d.Reasons {
			b.WriteString(" [" + r.String() + "]")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestScenarioCarrierOutage(t *testing.T) {
	withWorld(t, `
  - {at: 2m, event: outage, network: "310260"}
`, func(w *world) {
		w.run(90 * time.Second)
		w.wantOn("home")
		w.run(4 * time.Minute)
		w.wantOn("roam")
		d, ok := w.last(switcher.KindSwitch)
		if !ok || !d.Has(switcher.CodeNoService) || d.Trigger != switcher.TriggerHard {
			t.Fatalf("switch %+v", d)
		}
	})
}

func TestScenarioCoreOutage(t *testing.T) {
	withWorld(t, `
  - {at: 2m, event: core_outage, network: "310260"}
`, func(w *world) {
		w.run(90 * time.Second)
		w.wantOn("home")
		w.run(4 * time.Minute)
		w.wantOn("roam")
		if d, ok := w.last(switcher.KindSwitch); !ok || !d.Has(switcher.CodeDataPathDead) || !d.Inputs.Registered {
			t.Fatalf("switch %+v", d)
		}
	})
}

func TestScenarioSlowFade(t *testing.T) {
	withWorld(t, `
  - {at: 1m, event: signal, network: "310260", signal: {rsrp: -122, sinr: -6}, over: 10m}
`, func(w *world) {
		w.run(5 * time.Minute)
		w.wantOn("home")
		w.run(15 * time.Minute)
		w.wantOn("roam")
		if d, ok := w.last(switcher.KindSwitch); !ok || !d.Has(switcher.CodeBetterProfile) || d.Trigger != switcher.TriggerSoft {
			t.Fatalf("switch %+v", d)
		}
	})
}

func TestScenarioRejectStorm(t *testing.T) {
	withWorld(t, `
  - {at: 2m, event: reject, network: "310260", imsi: "310260123456789", cause: 15}
`, func(w *world) {
		w.run(90 * time.Second)
		w.wantOn("home")
		w.run(5 * time.Minute)
		w.wantOn("roam")
		if d, ok := w.last(switcher.KindSwitch); !ok || !d.Has(switcher.CodeNoService) {
			t.Fatalf("switch %+v", d)
		}
	})
}

func TestScenarioDataCapReached(t *testing.T) {
	u := &capUsage{}
	withWorld(t, "  []\n", func(w *world) {
		w.run(3 * time.Minute)
		w.wantOn("home")
		u.over.Store(true)
		st := w.run(3 * time.Minute)
		// Which profile takes over is the scores' call (here "last": it may
		// use the serving network, whose signal is known); home is left.
		if st.Active == "home" || st.State != switcher.StateConnected {
			t.Fatalf("still on home: %+v\n%s", st, dump(w.s.Decisions(0, 0)))
		}
		if d, ok := w.last(switcher.KindSwitch); !ok || !d.Has(switcher.CodeCapReached) || d.Trigger != switcher.TriggerSoft {
			t.Fatalf("switch %+v", d)
		}
	}, switcher.WithUsage(u))
}

func TestScenarioCheaperBackInCoverage(t *testing.T) {
	withWorld(t, `
  - {at: 2m, event: outage, network: "310260", duration: 15m}
`, func(w *world) {
		w.run(6 * time.Minute)
		w.wantOn("roam")
		w.run(80 * time.Minute)
		w.wantOn("home")
		if d, ok := w.last(switcher.KindSwitch); !ok || d.To != "home" || !d.Has(switcher.CodeBetterProfile) {
			t.Fatalf("switch %+v", d)
		}
	})
}

// The real threat engine: D1a fires on 2G under an LTE-only policy in a
// country without 2G (Critical): the RAT lock is applied and the switcher
// leaves the profile.
func TestScenario2GDowngrade(t *testing.T) {
	cfg := loadCfg(t, "sim.yaml")
	eng, err := threat.New(switcher.ThreatConfig(cfg), nil)
	if err != nil {
		t.Fatal(err)
	}
	withWorld(t, `
  - {at: 3m, event: cell, network: "310260", cell: {rat: GSM, tac: "3AFD", ci: "1452808", earfcn: 50, pci: 5}}
`, func(w *world) {
		w.run(150 * time.Second)
		w.wantOn("home")
		w.run(3 * time.Minute)
		st := w.s.Status()
		if st.Active == "home" || st.Tech == string(modem.TechGSM) || st.State != switcher.StateConnected {
			w.t.Fatalf("still on 2G/home: %+v\n%s", st, dump(w.s.Decisions(0, 0)))
		}
		d, ok := w.last(switcher.KindSwitch)
		if !ok || !d.Has(switcher.CodeThreatCritical) || d.Trigger != switcher.TriggerThreat {
			w.t.Fatalf("switch %+v", d)
		}
		found := false
		for _, q := range st.Quarantines {
			found = found || q.Key.Kind() == switcher.QuarantineCell && strings.HasPrefix(q.Key.Name(), "310260/")
		}
		if !found {
			w.t.Fatalf("2G cell not quarantined: %+v", st.Quarantines)
		}
	}, switcher.WithThreat(eng))
}

// Jamming with the real engine, as the reference's wideband_jammer: the
// serving power stays while SINR/RSRQ collapse on every network (the
// modem still holds on), then the jammer deepens and registration is lost
// everywhere. D8b needs no warm baseline: it compares with the polls before
// the collapse, so it fires within 90 s even minutes after boot. Switching
// is suspended before service goes, so losing it switches nothing.
func TestScenarioJammingNoSwitching(t *testing.T) {
	cfg := loadCfg(t, "sim.yaml")
	eng, err := threat.New(switcher.ThreatConfig(cfg), nil)
	if err != nil {
		t.Fatal(err)
	}
	var d8At time.Time
	var alerted bool
	withWorld(t, `
  - {at: 3m, event: jamming, sinr: -8}
  - {at: 6m, event: jamming, sinr: -15}
`, func(w *world) {
		w.run(150 * time.Second)
		w.wantOn("home")
		start := time.Now()
		w.run(12 * time.Minute)
		onset := start.Add(30 * time.Second)
		if d8At.IsZero() || d8At.Sub(onset) > 90*time.Second {
			w.t.Fatalf("D8 at %v, want within 90 s of the onset %v:\n%s", d8At, onset, dump(w.s.Decisions(0, 0)))
		}
		if !alerted {
			w.t.Error("no D8 alert upstream")
		}
		st := w.s.Status()
		if st.Active != "home" || !st.Suspended {
			w.t.Fatalf("switched under jamming: %+v\n%s", st, dump(w.s.Decisions(0, 0)))
		}
		if _, ok := w.last(switcher.KindSwitch); ok {
			w.t.Fatalf("a switch under jamming:\n%s", dump(w.s.Decisions(0, 0)))
		}
		if d, ok := w.last(switcher.KindSuspend); !ok || !d.Has(switcher.CodeSuspended) || !d.Has(switcher.CodeNoService) {
			w.t.Fatalf("no suspend decision:\n%s", dump(w.s.Decisions(0, 0)))
		}
	}, switcher.WithThreat(eng), switcher.WithOnThreat(func(r threat.Result) {
		for _, f := range r.Findings {
			if f.Detector == threat.D8 && d8At.IsZero() {
				d8At = r.At
			}
		}
		for _, a := range r.Alerts {
			alerted = alerted || a.Finding.Detector == threat.D8
		}
	}))
}

// The MCC-311 fallback: home is pushed onto 2G (D1a, Critical where 2G is
// off) and left for "last", whose only network here is a border-MCC one
// (311480): D2b scores it 1.0. The episode's response holds leave_now
// because of home's downgrade, but the fallback's own evidence is low, so
// it is neither quarantined nor left for it. Later the D1 episode decays.
func TestScenarioBorderFallbackKept(t *testing.T) {
	noRoam := func(s string) string {
		i := strings.Index(s, "  - name: roam")
		j := strings.Index(s, "  - name: last")
		return s[:i] + s[j:]
	}
	cfg := loadCfg(t, "sim.yaml", noRoam)
	eng, err := threat.New(switcher.ThreatConfig(cfg), nil)
	if err != nil {
		t.Fatal(err)
	}
	border := func(s string) string {
		return strings.Replace(s, "timing:", `  - plmn: "311480"
    name: "Border"
    short: "BRD"
    signal: {rsrp: -97, rsrq: -10, sinr: 10, rssi: -68}
    access:
      - {imsi: "901281*", result: roaming}
    cells:
      - {rat: LTE, tac: "2C01", ci: "0B0C0D1", earfcn: 5110, pci: 201, band: 12}
timing:`, 1)
	}
	var levels []string
	withWorldEdit(t, worldEdit{scenario: border, cfg: noRoam}, `
  - {at: 1s, event: outage, network: "310410"}
  - {at: 3m, event: cell, network: "310260", cell: {rat: GSM, tac: "3AFD", ci: "1452808", earfcn: 50, pci: 5}}
`, func(w *world) {
		w.cfg = cfg
		w.run(150 * time.Second)
		w.wantOn("home")
		w.run(5 * time.Minute)
		w.wantOn("last")
		if st := w.s.Status(); st.PLMN != "311480" {
			w.t.Fatalf("fallback on %q, want the border network 311480", st.PLMN)
		}
		w.run(20 * time.Minute)
		st := w.s.Status()
		w.wantOn("last")
		for _, q := range st.Quarantines {
			if q.Key == "plmn:311480" || q.Key == "profile:last" {
				w.t.Fatalf("fallback quarantined: %+v", st.Quarantines)
			}
		}
		// The one threat switch is home→last. Trying home again once the
		// dwell is over (it is cheaper) is scoring, not the threat side; it
		// fails on the 2G-only network and rolls back. What must not happen
		// is a threat switch away from the fallback.
		var threatSwitches []switcher.Decision
		for _, d := range w.s.Decisions(0, 0) {
			if d.Kind == switcher.KindSwitch && d.Trigger == switcher.TriggerThreat {
				threatSwitches = append(threatSwitches, d)
			}
		}
		if len(threatSwitches) != 1 || threatSwitches[0].From != "home" || threatSwitches[0].To != "last" {
			w.t.Fatalf("want one threat switch, home to last:\n%s", dump(w.s.Decisions(0, 0)))
		}
		if !slices.Contains(levels, "high") && !slices.Contains(levels, "critical") {
			w.t.Fatalf("the episode never reached a high tier: %v", levels)
		}
		// The 2G episode is not tamper: once home is left and the device
		// stays clean, it decays and ends instead of latching.
		w.run(30 * time.Minute)
		if st := w.s.Status(); st.ThreatLevel == "critical" || st.ThreatLevel == "high" {
			w.t.Fatalf("threat level still %s 55 min after the downgrade", st.ThreatLevel)
		}
	}, switcher.WithThreat(eng), switcher.WithOnThreat(func(r threat.Result) {
		levels = append(levels, r.Overall.Level.String())
	}))
}

// Capture-and-release with the real engine: an unknown cell captures the
// gateway, a reject releases it back to the known cell within two minutes.
// D9b quarantines the rogue cell.
func TestScenarioCaptureAndRelease(t *testing.T) {
	cfg := loadCfg(t, "sim.yaml", func(s string) string {
		return strings.Replace(s, "  site:", "  threats: {baseline_learning: 10m, baseline_min_observations: 30}\n  site:", 1)
	})
	tc := switcher.ThreatConfig(cfg)
	// Seed the baseline from the "fleet" so the real cells are known now
	// rather than after three distinct days.
	tc.FleetCells = []threat.CellKey{{PLMN: plmnOf("310260"), CI: 0x1452808}, {PLMN: plmnOf("310410"), CI: 0x0A1B2C3}}
	eng, err := threat.New(tc, nil)
	if err != nil {
		t.Fatal(err)
	}
	var d9b bool
	withWorld(t, `
  - {at: 15m, event: cell, network: "310260", duration: 35s, cell: {rat: LTE, tac: "0666", ci: "BADCE11", earfcn: 5035, pci: 400, band: 12}}
  - {at: 15m5s, event: reject, network: "310260", imsi: "310260123456789", cause: 15}
  - {at: 15m25s, event: accept, network: "310260", imsi: "310260123456789", result: home}
`, func(w *world) {
		w.cfg = cfg
		w.run(14 * time.Minute)
		w.wantOn("home")
		w.run(6 * time.Minute)
		// Two outcomes are right, and which one happens depends on whether
		// the switcher's poll or the release comes first: it leaves the
		// rogue cell on the capture itself (unknown cell, reject: a threat
		// switch, or a failover on the reject's evidence, before 15:25), or
		// it sees the release and D9b names the pattern. Either way the
		// rogue cell ends up quarantined.
		leftEarly := false
		for _, d := range w.s.Decisions(0, 0) {
			leftEarly = leftEarly || (d.Kind == switcher.KindSwitch && (d.Trigger == switcher.TriggerThreat || d.Has(switcher.CodeNoService)))
		}
		if !d9b && !leftEarly {
			w.t.Fatalf("neither D9b nor a threat switch:\n%s", dump(w.s.Decisions(0, 0)))
		}
		st := w.s.Status()
		found := false
		for _, q := range st.Quarantines {
			found = found || q.Key == "cell:310260/badce11"
		}
		if !found {
			w.t.Fatalf("rogue cell not quarantined: %+v", st.Quarantines)
		}
		// One capture-and-release is D5a+D3+D9b: the rogue cell is
		// quarantined and alerted on, and the gateway is back on its known
		// cell. Churn (D9a: three detaches in ten minutes) is what would
		// escalate to leaving the network; a single episode does not. So
		// the switcher either stays on home or leaves once, on the threat,
		// and never thrashes.
		var switches []switcher.Decision
		for _, d := range w.s.Decisions(0, 0) {
			if d.Kind == switcher.KindSwitch {
				switches = append(switches, d)
			}
		}
		if len(switches) > 1 || (len(switches) == 1 && switches[0].Trigger != switcher.TriggerThreat && !switches[0].Has(switcher.CodeNoService)) {
			w.t.Fatalf("want at most one switch, on the threat or the capture's reject:\n%s", dump(w.s.Decisions(0, 0)))
		}
		if st := w.s.Status(); st.Active != "home" && st.Active != "roam" {
			w.t.Fatalf("active profile %q after the episode", st.Active)
		}
	}, switcher.WithThreat(eng), switcher.WithOnThreat(func(r threat.Result) {
		for _, f := range r.Findings {
			d9b = d9b || f.Rule == "D9b"
		}
	}))
}

func plmnOf(s string) modem.PLMN {
	p, err := modem.ParsePLMN(s)
	if err != nil {
		panic(err)
	}
	return p
}
