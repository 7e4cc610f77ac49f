package soak

import (
	"context"
	"errors"
	"fmt"
	"github.com/imsid/imsid/internal/simlink"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/imsid/imsid/internal/daemon"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/simulator"
)

// Options configure a soak run. Scenario and StateDir are required.
type Options struct {
	// Scenario is the simulator scenario file. Its networks are the ones
	// random events pick from.
	Scenario string
	// Config returns the daemon's config text for a state directory; the
	// default suits simulator/scenarios/store-day.yaml.
	Config func(stateDir string) string
	// StateDir holds the daemon's state and API socket (a fresh directory).
	StateDir string
	// Speed is scenario seconds per real second (default 600: a day in 144 s).
	Speed float64
	// Wall is how long the run lasts in real time (default 5 min).
	Wall time.Duration
	// Samples is how many samples are taken over Wall (default 40).
	Samples int
	// FaultEvery and EventEvery are the mean scenario times between random
	// faults and between random events (default 15 min and 40 min).
	FaultEvery, EventEvery time.Duration
	// Seed makes the fault and event schedule reproducible.
	Seed uint64
	// Logger receives the daemon's and simulator's logs (default: discard).
	Logger *slog.Logger
	// Progress, if set, receives one line per sample.
	Progress func(Sample)
}

// Sample is one reading during a run.
type Sample struct {
	Wall       time.Duration // since the start
	Scenario   time.Duration // scenario time since the start
	HeapInuse  uint64        // bytes, after a GC: what is live
	RSS        uint64        // bytes, the whole test process
	Goroutines int
	Faults     int // injected so far
	Events     int
	StatusErrs int // failed GET /v1/status so far
}

// Report is a run's outcome.
type Report struct {
	Samples []Sample
	// Faults and Events count what was injected, by kind.
	Faults, Events map[string]int
	// Decisions counts what the daemon reported (daemon.Progress): decisions
	// and threat alerts by code, and lifecycle state changes.
	Decisions map[string]int
	// GoroutinesBefore and GoroutinesAfter are counted before the daemon
	// starts and after everything is shut down.
	GoroutinesBefore, GoroutinesAfter int
	Statuses, StatusErrs              int
	// Shutdown is how long the daemon took to stop after cancellation.
	Shutdown time.Duration
}

// StoreDayConfig is the daemon config for store-day.yaml, as `imsid
// --simulate` generates it.
func StoreDayConfig(stateDir string) string {
	return fmt.Sprintf(`modem: {device: "%[1]s/modem", dialect: auto}
sim: {method: applet, apn: "internet"}
profiles:
  - {name: "telekom-de", index: 0, imsi_prefix: "26201", plmns: ["26201"], cost: {currency: EUR, per_mb: "0.002"}, priority: 1}
  - {name: "vodafone-de", index: 1, imsi_prefix: "26202", plmns: ["26202"], cost: {currency: EUR, per_mb: "0.008"}, priority: 2}
  - {name: "roaming-uk", index: 2, imsi_prefix: "23415", roaming: true, plmns: ["26201", "26202", "26203"], cost: {currency: EUR, per_mb: "0.014"}, priority: 3}
policy:
  probes: {interval: 20s, timeout: 5s, failures_to_down: 2}
  signal_poll: 10s
  min_dwell: 5m
  switch_cap: {max: 6, window: 1h}
  verify_deadline: 2m
  quarantine: {base: 30m, max: 24h}
  applet_holdoff: 5m
  no_service_trigger: 1m
  site: {mobility: stationary, country_mcc: "262", border_mccs: [], time_zone: UTC}
api: {socket: "%[1]s/imsid.sock", socket_mode: "0660"}
state_dir: "%[1]s"
log: {format: text, level: warn}
`, stateDir)
}

func (o *Options) defaults() error {
	if o.Scenario == "" || o.StateDir == "" {
		return errors.New("soak: Scenario and StateDir are required")
	}
	if o.Config == nil {
		o.Config = StoreDayConfig
	}
	if o.Speed <= 0 {
		o.Speed = 600
	}
	if o.Wall <= 0 {
		o.Wall = 5 * time.Minute
	}
	if o.Samples < 4 {
		o.Samples = 40
	}
	if o.FaultEvery <= 0 {
		o.FaultEvery = 15 * time.Minute
	}
	if o.EventEvery <= 0 {
		o.EventEvery = 40 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Run runs the daemon in this process against the simulator over a
// net.Pipe for o.Wall, injecting random faults and events, sampling as it
// goes. It returns once everything it started has stopped.
func Run(ctx context.Context, o Options) (Report, error) {
	if err := o.defaults(); err != nil {
		return Report{}, err
	}
	sc, err := simulator.LoadScenario(o.Scenario)
	if err != nil {
		return Report{}, err
	}
	stateDir, err := filepath.Abs(o.StateDir)
	if err != nil {
		return Report{}, err
	}
	cfg, err := profiles.Parse("soak config", []byte(o.Config(stateDir)))
	if err != nil {
		return Report{}, fmt.Errorf("soak: config: %w", err)
	}
	rep := Report{Faults: map[string]int{}, Events: map[string]int{}, Decisions: map[string]int{}}
	runtime.GC()
	rep.GoroutinesBefore = runtime.NumGoroutine()

	clk := simulator.NewRealClock(o.Speed)
	m, err := simulator.New(sc, simulator.WithClock(clk), simulator.WithLogger(o.Logger.With("component", "simulator")))
	if err != nil {
		return rep, err
	}

	open, stopSim := simlink.PipeOpener(m)

	var decMu sync.Mutex
	d, err := daemon.New(daemon.Options{
		Config:   cfg,
		Open:     open,
		Logger:   o.Logger,
		Version:  "soak",
		DeviceID: "soak",
		Clock:    simlink.Clock{C: clk},
		Prober:   simlink.Prober{M: m},
		Notifier: nopNotifier{},
		OnProgress: func(p daemon.Progress) {
			key := p.Kind + " " + p.Code
			if p.Kind == "state" {
				key = "state changes"
			}
			decMu.Lock()
			rep.Decisions[key]++
			decMu.Unlock()
		},
	})
	if err != nil {
		stopSim()
		return rep, err
	}
	runCtx, stopDaemon := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(runCtx) }()
	shutdown := func() error {
		t0 := time.Now()
		defer func() { rep.Shutdown = time.Since(t0) }()
		stopDaemon()
		var err error
		select {
		case err = <-runErr:
		case <-time.After(time.Minute):
			err = errors.New("soak: the daemon did not stop within a minute of cancellation")
		}
		stopSim()
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		return err
	}

	hc := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", cfg.API.Socket)
		}},
	}
	defer hc.CloseIdleConnections()
	status := func() error {
		resp, err := hc.Get("http://imsid/v1/status")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /v1/status: %s", resp.Status)
		}
		return nil
	}

	rng := rand.New(rand.NewPCG(o.Seed, 0x50a4))
	plmns := make([]string, 0, len(sc.Networks))
	for _, n := range sc.Networks {
		plmns = append(plmns, n.PLMN)
	}
	exp := func(mean time.Duration) time.Duration { return time.Duration(rng.ExpFloat64() * float64(mean)) }
	start, simStart := time.Now(), clk.Now()
	nextFault, nextEvent := exp(o.FaultEvery), exp(o.EventEvery)
	every := o.Wall / time.Duration(o.Samples)
	nextSample := every
	var faults, events int
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			err := shutdown()
			return rep, errors.Join(ctx.Err(), err)
		case err := <-runErr:
			runErr <- err // for shutdown
			serr := shutdown()
			return rep, fmt.Errorf("soak: the daemon stopped at %s: %w", time.Since(start).Round(time.Second), errors.Join(err, serr))
		case <-tick.C:
		}
		simNow := clk.Now().Sub(simStart)
		for simNow >= nextFault {
			kind := injectFault(m, rng)
			rep.Faults[kind]++
			faults++
			nextFault += exp(o.FaultEvery)
		}
		for simNow >= nextEvent {
			kind, err := injectEvent(m, rng, plmns)
			if err != nil {
				o.Logger.Warn("soak: event refused", "event", kind, "err", err)
				kind += " (refused)"
			}
			rep.Events[kind]++
			events++
			nextEvent += exp(o.EventEvery)
		}
		wall := time.Since(start)
		if wall < nextSample {
			continue
		}
		nextSample += every
		rep.Statuses++
		if err := status(); err != nil {
			rep.StatusErrs++
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		ps, _ := ReadProc(0)
		s := Sample{Wall: wall, Scenario: simNow, HeapInuse: ms.HeapInuse, RSS: ps.RSS,
			Goroutines: runtime.NumGoroutine(), Faults: faults, Events: events, StatusErrs: rep.StatusErrs}
		rep.Samples = append(rep.Samples, s)
		if o.Progress != nil {
			o.Progress(s)
		}
		if wall >= o.Wall {
			break
		}
	}
	err = shutdown()
	hc.CloseIdleConnections()
	// Goroutines that are on their way out (a closed pipe's reader) get a
	// moment; this is a count for the report, not a wait for a condition.
	for i := 0; i < 50 && runtime.NumGoroutine() > rep.GoroutinesBefore; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	rep.GoroutinesAfter = runtime.NumGoroutine()
	return rep, err
}

var faultKinds = []struct {
	kind   simulator.FaultKind
	weight int
}{
	{simulator.FaultNoAnswer, 3}, {simulator.FaultLateAnswer, 3}, {simulator.FaultDuplicateOK, 3},
	{simulator.FaultTruncated, 3}, {simulator.FaultGarbage, 3}, {simulator.FaultSplitWrites, 3},
	{simulator.FaultReset, 1}, {simulator.FaultPortLoss, 1},
}

func injectFault(m *simulator.Modem, rng *rand.Rand) string {
	total := 0
	for _, f := range faultKinds {
		total += f.weight
	}
	n := rng.IntN(total)
	k := faultKinds[0].kind
	for _, f := range faultKinds {
		if n < f.weight {
			k = f.kind
			break
		}
		n -= f.weight
	}
	f := simulator.Fault{Kind: k, Count: 1, Seed: rng.Int64()}
	if k == simulator.FaultSplitWrites {
		f.Count = 20
	}
	if err := m.TriggerFault(f); err != nil {
		return k.String() + " (refused)"
	}
	return k.String()
}

func ptr(v float64) *float64 { return &v }

// injectEvent starts one of the things a store's day brings: a carrier or
// core outage, a fade (and its recovery), jamming.
func injectEvent(m *simulator.Modem, rng *rand.Rand, plmns []string) (string, error) {
	nw := plmns[rng.IntN(len(plmns))]
	mins := func(lo, hi int) time.Duration { return time.Duration(lo+rng.IntN(hi-lo+1)) * time.Minute }
	var ev simulator.Event
	switch rng.IntN(5) {
	case 0:
		ev = simulator.Event{Kind: "outage", Network: nw, Duration: mins(5, 60)}
	case 1:
		ev = simulator.Event{Kind: "core_outage", Network: nw, Duration: mins(5, 30)}
	case 2:
		ev = simulator.Event{Kind: "signal", Network: nw, Over: mins(1, 20),
			Signal: &simulator.SignalConfig{RSRP: ptr(-80 - float64(rng.IntN(40))), SINR: ptr(float64(rng.IntN(20) - 2))}}
	case 3:
		ev = simulator.Event{Kind: "jamming", SINR: ptr(-6 - float64(rng.IntN(10))), Duration: mins(5, 20)}
	default:
		ev = simulator.Event{Kind: "signal", Network: nw, Over: mins(1, 10),
			Signal: &simulator.SignalConfig{RSRP: ptr(-85), RSRQ: ptr(-9), SINR: ptr(14)}}
	}
	return ev.Kind, m.RunEvent(ev)
}

type nopNotifier struct{}

func (nopNotifier) Notify(string) error { return nil }

// Tolerance bounds growth over the second half of a run: the least-squares
// slope times the half's duration must stay within max(Abs, Rel × mean).
type Tolerance struct {
	HeapAbs, RSSAbs uint64
	Rel             float64
	Goroutines      float64
}

// DefaultTolerance: heap 2 MiB or 10 %, RSS 4 MiB or 10 %, 3 goroutines.
var DefaultTolerance = Tolerance{HeapAbs: 2 << 20, RSSAbs: 4 << 20, Rel: 0.10, Goroutines: 3}

// Growth is the fitted growth over the second half of the samples.
type Growth struct {
	Heap, RSS, Goroutines float64 // slope × the half's wall duration
	HeapMean, RSSMean     float64
	Span                  time.Duration
}

// Growth fits the second half of the samples.
func (r Report) Growth() Growth {
	half := r.Samples[len(r.Samples)/2:]
	var g Growth
	if len(half) < 2 {
		return g
	}
	xs := make([]float64, len(half))
	hs, rs, gs := make([]float64, len(half)), make([]float64, len(half)), make([]float64, len(half))
	for i, s := range half {
		xs[i] = s.Wall.Seconds()
		hs[i], rs[i], gs[i] = float64(s.HeapInuse), float64(s.RSS), float64(s.Goroutines)
		g.HeapMean += hs[i] / float64(len(half))
		g.RSSMean += rs[i] / float64(len(half))
	}
	g.Span = half[len(half)-1].Wall - half[0].Wall
	sec := g.Span.Seconds()
	g.Heap, g.RSS, g.Goroutines = Slope(xs, hs)*sec, Slope(xs, rs)*sec, Slope(xs, gs)*sec
	return g
}

// Check fails a run that grew beyond t, lost status requests, or left
// goroutines behind.
func (r Report) Check(t Tolerance) error {
	if len(r.Samples) < 4 {
		return fmt.Errorf("soak: only %d samples", len(r.Samples))
	}
	g := r.Growth()
	var errs []error
	if lim := max(float64(t.HeapAbs), t.Rel*g.HeapMean); g.Heap > lim {
		errs = append(errs, fmt.Errorf("heap in use grew %s MiB over the second half (limit %s)", MiB(uint64(g.Heap)), MiB(uint64(lim))))
	}
	if lim := max(float64(t.RSSAbs), t.Rel*g.RSSMean); g.RSS > lim {
		errs = append(errs, fmt.Errorf("RSS grew %s MiB over the second half (limit %s)", MiB(uint64(g.RSS)), MiB(uint64(lim))))
	}
	if g.Goroutines > t.Goroutines {
		errs = append(errs, fmt.Errorf("goroutines grew %.1f over the second half (limit %.0f)", g.Goroutines, t.Goroutines))
	}
	if r.GoroutinesAfter > r.GoroutinesBefore {
		errs = append(errs, fmt.Errorf("%d goroutines before the run, %d after shutdown", r.GoroutinesBefore, r.GoroutinesAfter))
	}
	if r.StatusErrs > 0 {
		errs = append(errs, fmt.Errorf("%d of %d GET /v1/status failed", r.StatusErrs, r.Statuses))
	}
	return errors.Join(errs...)
}

// WriteTable prints the samples (at most rows of them, evenly spread), the
// injected faults and events, the decisions and the fitted growth.
func (r Report) WriteTable(w io.Writer, rows int) {
	fmt.Fprintf(w, "%8s %10s %9s %8s %10s %7s %7s\n", "wall", "scenario", "heap MiB", "RSS MiB", "goroutines", "faults", "events")
	step := max(1, (len(r.Samples)+rows-1)/max(rows, 1))
	for i, s := range r.Samples {
		if i%step != 0 && i != len(r.Samples)-1 {
			continue
		}
		fmt.Fprintf(w, "%8s %10s %9s %8s %10d %7d %7d\n", s.Wall.Round(time.Second), s.Scenario.Round(time.Minute),
			MiB(s.HeapInuse), MiB(s.RSS), s.Goroutines, s.Faults, s.Events)
	}
	fmt.Fprintf(w, "faults: %s\nevents: %s\ndaemon: %s\n", counts(r.Faults), counts(r.Events), counts(r.Decisions))
	g := r.Growth()
	fmt.Fprintf(w, "second half (%s): heap %+.2f MiB (mean %s), RSS %+.2f MiB (mean %s), goroutines %+.1f; goroutines before %d, after shutdown %d (shutdown took %s); status %d/%d ok\n",
		g.Span.Round(time.Second), g.Heap/(1<<20), MiB(uint64(g.HeapMean)), g.RSS/(1<<20), MiB(uint64(g.RSSMean)), g.Goroutines,
		r.GoroutinesBefore, r.GoroutinesAfter, r.Shutdown.Round(100*time.Millisecond), r.Statuses-r.StatusErrs, r.Statuses)
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, m[k])
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}
