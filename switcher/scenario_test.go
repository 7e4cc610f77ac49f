package switcher_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/threat"
)

// driverModem adapts the real driver to switcher.Modem, as the daemon will.
// It is test code: the daemon owns the production adapter.
type driverModem struct {
	d      *modem.Modem
	events chan switcher.ModemEvent
	done   chan struct{}
}

func newDriverModem(d *modem.Modem) *driverModem {
	a := &driverModem{d: d, events: make(chan switcher.ModemEvent, 64), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for e := range d.Events() {
			var k switcher.ModemEventKind
			switch e.Kind {
			case modem.EventRegistration:
				k = switcher.ModemEventRegistration
			case modem.EventSIM:
				k = switcher.ModemEventSIM
			case modem.EventReset:
				k = switcher.ModemEventReset
			case modem.EventPacket:
				k = switcher.ModemEventPDNDeact
			case modem.EventSTK:
				k = switcher.ModemEventRefresh
			default:
				continue
			}
			select {
			case a.events <- switcher.ModemEvent{At: e.Time, Kind: k}:
			default: // the switcher re-reads anyway; never block the driver
			}
		}
	}()
	return a
}

func (a *driverModem) SIMState(ctx context.Context) (modem.SIMState, error) { return a.d.SIMState(ctx) }
func (a *driverModem) IMSI(ctx context.Context) (modem.IMSI, error)         { return a.d.IMSI(ctx) }
func (a *driverModem) ICCID(ctx context.Context) (modem.ICCID, error)       { return a.d.ICCID(ctx) }
func (a *driverModem) Registrations(ctx context.Context) ([]modem.Registration, error) {
	return a.d.Registrations(ctx)
}
func (a *driverModem) Operator(ctx context.Context) (modem.Operator, error) { return a.d.Operator(ctx) }
func (a *driverModem) Signal(ctx context.Context) (modem.Signal, error)     { return a.d.Signal(ctx) }
func (a *driverModem) ServingCell(ctx context.Context) (modem.ServingCell, []modem.Neighbour, error) {
	return a.d.ServingCell(ctx)
}
func (a *driverModem) Scan(ctx context.Context) ([]modem.NetworkEntry, error) {
	return a.d.ScanNetworks(ctx)
}
func (a *driverModem) DefinePDP(ctx context.Context, p switcher.PDPSpec) error {
	return a.d.DefinePDP(ctx, modem.PDPContext{CID: p.CID, Type: p.Type, APN: p.APN})
}
func (a *driverModem) ActivatePDP(ctx context.Context, cid int) error {
	return a.d.SetPDPActive(ctx, cid, true)
}
func (a *driverModem) PDPAddress(ctx context.Context, cid int) (modem.PDPAddress, error) {
	return a.d.PDPAddress(ctx, cid)
}
func (a *driverModem) SetFunctionality(ctx context.Context, fun int) error {
	return a.d.SetFunctionality(ctx, fun)
}
func (a *driverModem) Resync(ctx context.Context) error {
	_, err := a.d.SIMState(ctx)
	return err
}
func (a *driverModem) Reset(ctx context.Context) error { return a.d.Reset(ctx) }
func (a *driverModem) SelectProfile(ctx context.Context, sel switcher.Selector) error {
	switch sel.Method {
	case profiles.MethodApplet:
		tmpl := modem.AppletTemplate{AID: strings.ToUpper(hexOf(sel.Applet.AID)),
			APDUs: []modem.APDUTemplate{{APDU: sel.Applet.ActivateAPDU, Expect: sel.Applet.ExpectSW}}}
		_, err := a.d.SwitchAppletProfile(ctx, tmpl, sel.Index)
		return err
	case profiles.MethodSlot:
		_, err := a.d.SwitchSlot(ctx, sel.Slot)
		return err
	case profiles.MethodEUICC:
		_, err := a.d.SwitchEUICCProfile(ctx, modem.ProfileRef{ICCID: modem.ICCID(sel.ICCID.Reveal())}, sel.Refresh)
		return err
	}
	return modem.ErrNotSupported
}
func (a *driverModem) LockRAT(ctx context.Context, techs []modem.Tech) error {
	mode := modem.RATLTEOnly
	for _, t := range techs {
		if t == modem.TechUMTS {
			mode = modem.RATNo2G
		}
	}
	return a.d.SetRATLock(ctx, mode)
}
func (a *driverModem) RATLock(ctx context.Context) ([]modem.Tech, error) {
	mode, err := a.d.RATLock(ctx)
	if err != nil {
		return nil, err
	}
	switch mode {
	case modem.RATLTEOnly:
		return []modem.Tech{modem.TechLTE}, nil
	case modem.RATNo2G:
		return []modem.Tech{modem.TechUMTS, modem.TechLTE}, nil
	case modem.RATUMTSOnly:
		return []modem.Tech{modem.TechUMTS}, nil
	case modem.RATGSMOnly:
		return []modem.Tech{modem.TechGSM}, nil
	}
	return []modem.Tech{modem.TechGSM, modem.TechUMTS, modem.TechLTE}, nil
}
func (a *driverModem) Events() <-chan switcher.ModemEvent { return a.events }

func hexOf(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

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
	synctest.Test(t, func(t *testing.T) {
		base, err := os.ReadFile("testdata/scenarios/base.yaml")
		if err != nil {
			t.Fatal(err)
		}
		sc, err := simulator.ParseScenario(t.Name(), append(base, []byte("timeline:\n"+timeline)...))
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
			t.Fatalf("driver: %v", err)
		}
		dm := newDriverModem(d)
		cfg := loadCfg(t, "sim.yaml")
		s, err := switcher.New(cfg, dm, append([]switcher.Option{switcher.WithProber(simProber{sim})}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		// Deferred so a t.Fatal inside f still stops every goroutine of the bubble.
		defer func() {
			s.Close()
			d.Close()
			<-dm.done
			cancel()
			a.Close()
			b.Close()
			<-served
		}()
		f(&world{t: t, sim: sim, s: s, cfg: cfg})
	})
}

// run ticks the switcher every signal poll for d of virtual time.
func (w *world) run(d time.Duration) switcher.Status {
	w.t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if err := w.s.Tick(context.Background()); err != nil && !errors.Is(err, switcher.ErrClosed) {
			w.t.Fatal(err)
		}
		time.Sleep(w.cfg.Policy.SignalPoll.Std())
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
			t.Fatalf("still on 2G/home: %+v\n%s", st, dump(w.s.Decisions(0, 0)))
		}
		d, ok := w.last(switcher.KindSwitch)
		if !ok || !d.Has(switcher.CodeThreatCritical) || d.Trigger != switcher.TriggerThreat {
			t.Fatalf("switch %+v", d)
		}
		found := false
		for _, q := range st.Quarantines {
			found = found || strings.HasPrefix(q.Key, "cell:310260/")
		}
		if !found {
			t.Fatalf("2G cell not quarantined: %+v", st.Quarantines)
		}
	}, switcher.WithThreat(eng))
}

// Jamming: the simulator jams every network and home loses service. D8's
// verdict (suspend switching) is scripted here, since the real D8 needs a
// warm site baseline (days); the switcher must not thrash between profiles.
func TestScenarioJammingNoSwitching(t *testing.T) {
	d8 := &scriptedThreat{}
	withWorld(t, `
  - {at: 3m, event: jamming}
  - {at: 3m, event: outage, network: "310260"}
`, func(w *world) {
		w.run(150 * time.Second)
		w.wantOn("home")
		d8.jam.Store(true)
		w.run(10 * time.Minute)
		st := w.s.Status()
		if st.Active != "home" || !st.Suspended {
			t.Fatalf("switched under jamming: %+v\n%s", st, dump(w.s.Decisions(0, 0)))
		}
		if _, ok := w.last(switcher.KindSwitch); ok {
			t.Fatalf("a switch under jamming:\n%s", dump(w.s.Decisions(0, 0)))
		}
		if d, ok := w.last(switcher.KindSuspend); !ok || !d.Has(switcher.CodeNoService) {
			t.Fatalf("no suspend decision:\n%s", dump(w.s.Decisions(0, 0)))
		}
	}, switcher.WithThreat(d8))
}

type scriptedThreat struct{ jam atomic.Bool }

func (s *scriptedThreat) Observe(o threat.Observation) (threat.Result, error) {
	r := threat.Result{At: o.At}
	if s.jam.Load() {
		r.Episode = threat.Episode{ID: 1, Active: true}
		r.Response = threat.Response{Level: threat.SeverityHigh, Actions: threat.ActSuspendSwitching | threat.ActAlert}
	}
	return r, nil
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
		if !d9b {
			t.Fatalf("D9b did not fire:\n%s", dump(w.s.Decisions(0, 0)))
		}
		st := w.s.Status()
		found := false
		for _, q := range st.Quarantines {
			found = found || q.Key == "cell:310260/badce11"
		}
		if !found {
			t.Fatalf("rogue cell not quarantined: %+v", st.Quarantines)
		}
		// The episode reaches the Threat tier (D5a+D3+D9b+D9a): the switcher
		// leaves the attacked network once, for a profile on another one,
		// and stays there.
		var switches []switcher.Decision
		for _, d := range w.s.Decisions(0, 0) {
			if d.Kind == switcher.KindSwitch {
				switches = append(switches, d)
			}
		}
		if len(switches) != 1 || switches[0].Trigger != switcher.TriggerThreat {
			t.Fatalf("want one threat switch:\n%s", dump(w.s.Decisions(0, 0)))
		}
		w.wantOn("roam")
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

type logThreat struct {
	t   *testing.T
	eng *threat.Engine
}

func (l *logThreat) Observe(o threat.Observation) (threat.Result, error) {
	r, err := l.eng.Observe(o)
	var rsrp, sinr, rsrq string
	if o.Serving != nil {
		if v := o.Serving.Signal.RSRP; v != nil {
			rsrp = fmt.Sprint(*v)
		}
		if v := o.Serving.Signal.SINR; v != nil {
			sinr = fmt.Sprint(*v)
		}
		if v := o.Serving.Signal.RSRQ; v != nil {
			rsrq = fmt.Sprint(*v)
		}
	}
	var sig string
	if o.Signal != nil {
		sig = fmt.Sprintf("%+v", *o.Signal)
		if o.Signal.RSRP != nil { sig += fmt.Sprint(" rsrp=", *o.Signal.RSRP) }
		if o.Signal.SINR != nil { sig += fmt.Sprint(" sinr=", *o.Signal.SINR) }
	}
	reg := ""
	if o.Registration != nil {
		reg = fmt.Sprint(o.Registration.Status)
	}
	st := ""
	if o.Serving != nil { st = o.Serving.State }
	var fs []string
	for _, f := range r.Findings {
		fs = append(fs, f.Rule+fmt.Sprint(f.Score))
	}
	l.t.Logf("%s %s reg=%s st=%s rsrp=%s sinr=%s rsrq=%s sig=%s lvl=%s act=%s %v", o.At.Format("15:04:05"), o.Profile, reg, st, rsrp, sinr, rsrq, sig, r.Overall.Level, r.Response.Actions, fs)
	return r, err
}

func TestJamExperiment(t *testing.T) {
	cfg := loadCfg(t, "sim.yaml")
	eng, err := threat.New(switcher.ThreatConfig(cfg), nil)
	if err != nil {
		t.Fatal(err)
	}
	withWorld(t, `
  - {at: 3m, event: jamming, sinr: -8}
`, func(w *world) {
		w.run(150 * time.Second)
		w.run(10 * time.Minute)
		t.Logf("%+v\n%s", w.s.Status(), dump(w.s.Decisions(0, 0)))
	}, switcher.WithThreat(&logThreat{t: t, eng: eng}))
}
