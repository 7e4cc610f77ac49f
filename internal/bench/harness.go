package bench

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/switchertest"
	"github.com/imsid/imsid/switcher/threat"
)

//go:embed testdata/world.yaml
var worldYAML string

//go:embed testdata/device.yaml
var deviceYAML string

// decisionHook, when set by a test, sees every decision of every run;
// traceLog, when set, gets the switcher's debug log.
var (
	decisionHook func(switcher.Decision)
	traceLog     *slog.Logger
)

// settle, when set, returns once every other goroutine of the run is
// blocked: the tests set it to synctest.Wait (every episode runs in its own
// bubble). The episode's clock (switchertest.SettledClock) calls it at each
// instant the meter samples or the switcher wakes, so that whatever the
// simulator does at that instant (a timeline event at a whole second, an AT
// reply, the SIM coming ready, the URC on its way) has always taken effect
// first. Without it the sample, or the switcher's tick, read the state
// before or after such an event depending on how the scheduler ordered the
// goroutines woken together, and a run of one seed could differ from the
// next.
var settle func()

// Variant is one decision policy and the configuration it ships with.
type Variant struct {
	Name string
	// Policy builds a fresh policy per run; nil is imsid's own rule. sig
	// reads the serving cell's RSRP (for the router's weak-signal rule).
	Policy func(sig SignalFunc) switcher.Policy
	// Threat wires imsid's threat engine (ours only: the baselines have
	// no threat awareness).
	Threat bool
	// Applet enables the SIM applet's own rotation (after RotateAfter
	// without registration, noticed at its EF_LOCI poll every appletPoll)
	// and method autonomous.
	Applet      bool
	RotateAfter time.Duration
	// Config edits the device YAML (the baselines' settings).
	Config func(string) string
	// Baseline marks the policies ours is compared against; Tuned those at
	// a tuned rather than default setting.
	Baseline, Tuned bool
}

// checks sets what a baseline's health check does: the engine polls the
// modem every interval and probes every interval (retry once failing) with
// the given ping timeout, with none of imsid's traffic-aware skipping; and
// no RAT restriction (a router's network mode "auto").
func checks(interval, retry, timeout time.Duration) func(string) string {
	return func(s string) string {
		s = strings.Replace(s, "policy:\n", fmt.Sprintf("policy:\n  signal_poll: %s\n  probes: {interval: %s, retry: %s, timeout: %s, traffic_aware: false}\n",
			interval, interval, retry, timeout), 1)
		s = strings.Replace(s, "  site: {", "  site: {legacy_2g_live: true, legacy_3g_live: true, ", 1)
		return strings.ReplaceAll(s, "    cost:", "    rats: [gsm, umts, lte]\n    cost:")
	}
}

// baselineConfig is the surveyed defaults' check: every 10 s, 5 s timeout.
var baselineConfig = checks(10*time.Second, 10*time.Second, 5*time.Second)

func appletVariant(name string, after time.Duration) Variant {
	return Variant{Name: name, Policy: func(SignalFunc) switcher.Policy { return AppletAutonomous{Label: name} },
		Applet: true, RotateAfter: after, Baseline: true,
		Config: func(s string) string {
			return strings.Replace(baselineConfig(s), "method: applet", "method: autonomous", 1)
		}}
}

// Variants returns the policies compared: ours as shipped, ours on a modem
// whose byte counters it cannot read (so without traffic-aware probing),
// and the baselines at their defaults and at tuned settings.
func Variants() []Variant {
	return []Variant{
		{Name: "ours", Threat: true},
		{Name: "ours-no-counters", Threat: true, Config: func(s string) string {
			return strings.Replace(s, "policy:\n", "policy:\n  probes: {traffic_aware: false}\n", 1)
		}},
		{Name: "router-defaults", Baseline: true, Policy: func(sig SignalFunc) switcher.Policy { return NewRouterDefaults(sig) },
			Config: baselineConfig},
		{Name: "router-fast", Baseline: true, Tuned: true, Policy: func(sig SignalFunc) switcher.Policy { return NewRouterFast(sig) },
			Config: checks(routerFastInterval, routerFastInterval, 2*time.Second)},
		{Name: "mwan3-defaults", Baseline: true, Policy: func(SignalFunc) switcher.Policy { return NewMWAN3Defaults() },
			Config: checks(mwan3Interval, mwan3Interval, mwan3Timeout)},
		{Name: "mwan3-tuned", Baseline: true, Tuned: true, Policy: func(SignalFunc) switcher.Policy { return NewMWAN3Tuned() },
			Config: checks(mwan3TunedInterval, mwan3TunedFailure, mwan3TunedTimeout)},
		appletVariant("applet-3min", 3*time.Minute),
		appletVariant("applet-6min", 6*time.Minute),
		appletVariant("applet-20min", 20*time.Minute),
	}
}

// BaselineNames are the variants ours is compared against.
func BaselineNames() []string {
	var out []string
	for _, v := range Variants() {
		if v.Baseline {
			out = append(out, v.Name)
		}
	}
	return out
}

// Config returns the device configuration of v.
func (v Variant) config() (*profiles.Config, error) {
	s := deviceYAML
	if v.Config != nil {
		s = v.Config(s)
	}
	return profiles.Parse("device.yaml ("+v.Name+")", []byte(s))
}

// Run is one repetition's measurements.
type Run struct {
	Scenario, Variant string
	Seed              uint64
	// Failover is the first loss of data at or after the onset until data
	// flows again; HasLoss is false when no data was lost at all, Censored
	// when it never came back before the end.
	Failover          time.Duration
	HasLoss, Censored bool
	Downtime          time.Duration
	// LongestGap is the longest time without data, starting at LongestGapAt.
	LongestGap, LongestGapAt time.Duration
	Switches, Flaps          int
	// Cost is what the data carried cost (USD); OracleCost the offline
	// oracle's for the same episode.
	Cost, OracleCost float64
	OracleDowntime   time.Duration
	Suspicious       time.Duration
	// Bytes delivered in the window.
	Bytes int64
	// Phases splits the failover (nil: no loss, never restored, or data
	// came back without a switch).
	Phases *Phases
}

// timedProber answers data-path probes from the simulator's ground truth,
// as simlink.Prober does, but a probe on a dead path costs what a real one
// costs: it waits out the configured probe timeout before it fails. It
// waits on the episode's settled clock, not on the context's deadline (a
// plain timer due at the same instant): the tick it returns to resumes
// after the world has done what it does at that instant, as every other
// switcher wake does. A probe that resumed on the deadline raced a
// timeline event at that instant, and a seed's detect phase moved by a
// probe interval between two runs.
type timedProber struct {
	m       *simulator.Modem
	timeout time.Duration
	clk     *switchertest.SettledClock
}

// Probe implements switcher.Prober.
func (p timedProber) Probe(ctx context.Context, _ string) (switcher.ProbeResult, error) {
	if p.m.Snapshot().DataUp {
		return switcher.ProbeResult{OK: true, Latency: 40 * time.Millisecond}, nil
	}
	wake := p.clk.After(p.timeout)
	select {
	case <-wake:
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			<-wake // due at the deadline's instant, once the world settled
		}
	}
	return switcher.ProbeResult{OK: false, Detail: "no answer before the probe timeout (simulated core)"}, nil
}

// World returns the simulator scenario of one run: the world, the run's
// seed (which draws the modem's attach and refresh delays, identical for
// every variant of a seed), the applet's rotation for the applet variants,
// and the episode's timeline.
func World(sc Scenario, v Variant, seed uint64, ep Episode) (*simulator.Scenario, error) {
	world := fmt.Sprintf("seed: %d\n", seed) + worldYAML
	if v.Applet {
		world = strings.Replace(world, "rotation: {enabled: false}",
			fmt.Sprintf("rotation: {enabled: true, rotate_after: %s, poll_every: %s}", v.RotateAfter, appletPoll), 1)
	}
	if ep.World != nil {
		world = ep.World(world)
	}
	simSc, err := simulator.ParseScenario(sc.Name, []byte(world+"timeline:\n"+ep.Timeline))
	if err != nil {
		return nil, &Error{Op: "scenario " + sc.Name, Err: err}
	}
	return simSc, nil
}

// Error is a harness failure: what it was doing and why.
type Error struct {
	Op  string
	Err error
}

func (e *Error) Error() string { return "bench: " + e.Op + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// RunEpisode runs scenario sc under variant v for one seed and measures it.
// Time is the caller's: inside a testing/synctest bubble a simulated week
// takes seconds. It returns once every goroutine it started has ended.
func RunEpisode(ctx context.Context, sc Scenario, v Variant, seed uint64) (Run, error) {
	rng := rand.New(rand.NewPCG(seed, 0x1b5d))
	ep := sc.Build(rng)
	simSc, err := World(sc, v, seed, ep)
	if err != nil {
		return Run{}, err
	}
	cfg, err := v.config()
	if err != nil {
		return Run{}, &Error{Op: "config", Err: err}
	}
	sim, err := simulator.New(simSc, simulator.WithClock(simulator.NewRealClock(1)))
	if err != nil {
		return Run{}, &Error{Op: "simulator", Err: err}
	}
	ctx, cancel := context.WithCancel(ctx)
	clk := switchertest.NewSettledClock(settle)
	clocked := make(chan struct{})
	go func() { defer close(clocked); clk.Run(ctx) }()
	a, b := net.Pipe()
	served := make(chan struct{})
	go func() { defer close(served); _ = sim.Serve(ctx, b) }()
	// Runs last: stop the simulator's side of the wire.
	defer func() {
		cancel()
		a.Close()
		b.Close()
		<-served
		<-clocked
	}()
	d, err := modem.New(ctx, a)
	if err != nil {
		return Run{}, &Error{Op: "driver", Err: err}
	}
	dm := switcher.NewDriverModem(d, nil)
	defer func() { d.Close(); dm.Wait() }()

	var (
		mu   sync.Mutex
		decs []decision
	)
	// The meter's time zero; decisions are timed when the switcher logs
	// them (see decision).
	start := time.Now()
	onDecision := func(dec switcher.Decision) {
		mu.Lock()
		decs = append(decs, decision{t: time.Since(start), kind: dec.Kind})
		mu.Unlock()
		if decisionHook != nil {
			decisionHook(dec)
		}
	}
	opts := []switcher.Option{
		switcher.WithClock(clk),
		switcher.WithProber(timedProber{m: sim, timeout: cfg.Policy.Probes.Timeout.Std(), clk: clk}),
		switcher.WithOnDecision(onDecision),
	}
	if traceLog != nil {
		opts = append(opts, switcher.WithLogger(traceLog))
	}
	if v.Policy != nil {
		sig := func() (float64, bool) {
			st := sim.Snapshot()
			if st.RegStat != 1 && st.RegStat != 5 {
				return 0, false
			}
			return st.Signal.RSRP, true
		}
		opts = append(opts, switcher.WithPolicy(v.Policy(sig)))
	}
	if v.Threat {
		eng, err := threat.New(switcher.ThreatConfig(cfg), nil)
		if err != nil {
			return Run{}, &Error{Op: "threat engine", Err: err}
		}
		opts = append(opts, switcher.WithThreat(eng))
	}
	s, err := switcher.New(cfg, dm, opts...)
	if err != nil {
		return Run{}, &Error{Op: "switcher", Err: err}
	}
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	defer func() {
		s.Close()
		<-ran
	}()

	m := newMeter(sc, ep, cfg)
	for t := sc.Sample; t <= sc.Duration; t += sc.Sample {
		select {
		case <-ctx.Done():
			return Run{}, ctx.Err()
		default:
		}
		if err := clk.SleepUntil(ctx, start.Add(t)); err != nil {
			return Run{}, err
		}
		m.add(t, sim.Snapshot())
	}
	mu.Lock()
	m.decs = append(m.decs, decs...)
	mu.Unlock()
	r := m.result()
	r.Scenario, r.Variant, r.Seed = sc.Name, v.Name, seed
	r.OracleCost, r.OracleDowntime = oracle(sc, ep, cfg)
	return r, nil
}
