package bench

import (
	"context"
	_ "embed"
	"fmt"
	"github.com/imsid/imsid/internal/simlink"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/switcher"
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

// Variant is one decision policy and the configuration it ships with.
type Variant struct {
	Name string
	// Policy builds a fresh policy per run; nil is imsid's own rule.
	Policy func() switcher.Policy
	// Threat wires imsid's threat engine (ours only: the baselines have
	// no threat awareness).
	Threat bool
	// Applet enables the SIM applet's own rotation and method autonomous.
	Applet bool
	// Config edits the device YAML (the baselines' defaults).
	Config func(string) string
}

// baselineConfig applies what every surveyed baseline does by default:
// a health check (registration + ping) every 10 s and no RAT restriction
// (a router's network mode "auto").
func baselineConfig(s string) string {
	// Their checks are plain rounds every 10 s: none of imsid's traffic-
	// aware skipping, no faster retry after a failure.
	s = strings.Replace(s, "policy:\n", "policy:\n  signal_poll: 10s\n  probes: {interval: 10s, retry: 10s, traffic_aware: false}\n", 1)
	s = strings.Replace(s, "  site: {", "  site: {legacy_2g_live: true, legacy_3g_live: true, ", 1)
	return strings.ReplaceAll(s, "    cost:", "    rats: [gsm, umts, lte]\n    cost:")
}

// Variants returns the policies compared: ours as shipped, ours on a modem
// whose byte counters it cannot read (so without traffic-aware probing),
// and the three baselines.
func Variants() []Variant {
	return []Variant{
		{Name: "ours", Threat: true},
		{Name: "ours-no-counters", Threat: true, Config: func(s string) string {
			return strings.Replace(s, "policy:\n", "policy:\n  probes: {traffic_aware: false}\n", 1)
		}},
		{Name: "router-defaults", Policy: func() switcher.Policy { return &RouterDefaults{} }, Config: baselineConfig},
		{Name: "mwan3-defaults", Policy: func() switcher.Policy { return &MWAN3Defaults{} }, Config: baselineConfig},
		{Name: "applet-autonomous", Policy: func() switcher.Policy { return AppletAutonomous{} }, Applet: true,
			Config: func(s string) string {
				return strings.Replace(baselineConfig(s), "method: applet", "method: autonomous", 1)
			}},
	}
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
}

// RunEpisode runs scenario sc under variant v for one seed and measures it.
// Time is the caller's: inside a testing/synctest bubble a simulated week
// takes seconds. It returns once every goroutine it started has ended.
func RunEpisode(ctx context.Context, sc Scenario, v Variant, seed uint64) (Run, error) {
	rng := rand.New(rand.NewPCG(seed, 0x1b5d))
	ep := sc.Build(rng)
	world := worldYAML
	if v.Applet {
		world = strings.Replace(world, "rotation: {enabled: false}",
			fmt.Sprintf("rotation: {enabled: true, rotate_after: %s}", appletRotateAfter), 1)
	}
	simSc, err := simulator.ParseScenario(sc.Name, []byte(world+"timeline:\n"+ep.Timeline))
	if err != nil {
		return Run{}, fmt.Errorf("bench: scenario %s: %w", sc.Name, err)
	}
	cfg, err := v.config()
	if err != nil {
		return Run{}, fmt.Errorf("bench: config: %w", err)
	}
	sim, err := simulator.New(simSc, simulator.WithClock(simulator.NewRealClock(1)))
	if err != nil {
		return Run{}, fmt.Errorf("bench: simulator: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	a, b := net.Pipe()
	served := make(chan struct{})
	go func() { defer close(served); _ = sim.Serve(ctx, b) }()
	// Runs last: stop the simulator's side of the wire.
	defer func() {
		cancel()
		a.Close()
		b.Close()
		<-served
	}()
	d, err := modem.New(ctx, a)
	if err != nil {
		return Run{}, fmt.Errorf("bench: driver: %w", err)
	}
	dm := switcher.NewDriverModem(d, nil)
	defer func() { d.Close(); dm.Wait() }()

	opts := []switcher.Option{switcher.WithProber(simlink.Prober{M: sim})}
	if traceLog != nil {
		opts = append(opts, switcher.WithLogger(traceLog))
	}
	if decisionHook != nil {
		opts = append(opts, switcher.WithOnDecision(decisionHook))
	}
	if v.Policy != nil {
		opts = append(opts, switcher.WithPolicy(v.Policy()))
	}
	if v.Threat {
		eng, err := threat.New(switcher.ThreatConfig(cfg), nil)
		if err != nil {
			return Run{}, fmt.Errorf("bench: threat engine: %w", err)
		}
		opts = append(opts, switcher.WithThreat(eng))
	}
	s, err := switcher.New(cfg, dm, opts...)
	if err != nil {
		return Run{}, fmt.Errorf("bench: switcher: %w", err)
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
		time.Sleep(sc.Sample)
		m.add(t, sim.Snapshot())
	}
	r := m.result()
	r.Scenario, r.Variant, r.Seed = sc.Name, v.Name, seed
	r.OracleCost, r.OracleDowntime = oracle(sc, ep, cfg)
	return r, nil
}
