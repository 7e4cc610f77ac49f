package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/imsid/imsid/internal/simlink"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/daemon"
	"github.com/imsid/imsid/internal/store"
	"github.com/imsid/imsid/internal/upstream"
	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/simulator"
)

// FaultKinds lists every fault kind the simulator knows, in its order. It
// asks the simulator (ParseFaultKind of each kind's name) rather than
// keeping a copy, so that a kind added there shows up in the matrix, where
// a kind without a stated bound fails (Bounds).
func FaultKinds() []simulator.FaultKind {
	var out []simulator.FaultKind
	// Kinds are small consecutive integers from 1; a generous range keeps a
	// gap in the numbering from hiding a later kind.
	for k := simulator.FaultKind(1); k < 64; k++ {
		if got, err := simulator.ParseFaultKind(k.String()); err == nil && got == k {
			out = append(out, k)
		}
	}
	return out
}

// Bound is the recovery a fault kind is held to, and why that number. A
// recovery has a real-time part (the driver's command budgets, Connect's
// backoff: wall clock whatever the speed) and a scenario-time part (the
// modem's reboot, attach and port_down, the daemon's poll interval: divided
// by the speed), so the bound has both: At(speed) = Wall + Scenario/speed.
type Bound struct {
	Wall, Scenario time.Duration
	Why            string
}

// At is the bound in real time at a speed (scenario seconds per second).
func (b Bound) At(speed float64) time.Duration {
	if speed <= 0 {
		speed = 1
	}
	return b.Wall + time.Duration(float64(b.Scenario)/speed)
}

func (b Bound) String() string { return fmt.Sprintf("%s + %s÷speed", b.Wall, b.Scenario) }

// Bounds are the stated recovery bounds per fault kind, from the default
// matrix (docs/reliability.md, "Daemon against simulator faults") and a 1x
// cross-check, with the headroom each entry states. Every kind FaultKinds
// lists must have one.
var Bounds = map[string]Bound{
	"no_answer": {20 * time.Second, 20 * time.Second, "one command budget (3 s; 10 s for +CPIN?, the first command of a poll) and a resync whose " +
		"first probe loses its OK to the abandoned command (3 s): measured 6.1 s, 13 s when +CPIN? is hit; 1.5x, plus two polls"},
	"late_answer": {8 * time.Second, 20 * time.Second, "one 3 s command budget, then the held reply is dropped as stray and one resync proves the pairing: " +
		"measured 3–4 s; 2x, plus two polls"},
	"duplicate_ok": {2 * time.Second, 20 * time.Second, "no failed command; when the stray OK completes +CGPADDR the link reads down until the next poll " +
		"(10 s of scenario time): two polls"},
	"truncated":    {20 * time.Second, 20 * time.Second, "as no_answer: a reply without a final result code costs the command budget and a resync"},
	"garbage":      {2 * time.Second, 20 * time.Second, "measured 0: noise before a reply costs nothing; the bound allows two polls"},
	"split_writes": {2 * time.Second, 20 * time.Second, "measured 0: split writes cost nothing; the bound allows two polls"},
	"reset": {3 * time.Second, 30 * time.Second, "the modem's reboot, SIM busy spell and attach (scenario time) and the driver re-applying its settings: " +
		"measured 13.5 s of scenario time at 10x (1.35 s real), 12.9 s at 1x; about 2x"},
	"port_loss": {3 * time.Second, 25 * time.Second, "10 s of port_down and re-attach (scenario time), Connect's backoff from 500 ms (real time) and a " +
		"new session: measured 11.1 s of scenario time at 10x (1.1 s real); about 2x"},
}

// FaultOptions configure one fault run.
type FaultOptions struct {
	// Scenario is the simulator scenario file (required; Config must suit
	// it: the default does simulator/scenarios/store-day.yaml).
	Scenario string
	// Config returns the daemon's config for a state directory, without an
	// upstream section (one pointing at the fake fleet server is added).
	// Default StoreDayConfig.
	Config func(stateDir string) string
	// StateDir is a fresh directory for the daemon's state and socket.
	StateDir string
	Kind     simulator.FaultKind
	Seed     int64
	// Speed is scenario seconds per real second (default 10).
	Speed float64
	// Window is how long, in scenario time, the run goes on after the fault
	// hit, watching for late reactions such as a switch (default 3 min). It
	// is extended until the daemon has been healthy for Stable.
	Window time.Duration
	// Stable is how long (scenario time) the daemon must stay healthy after
	// its last failure before the run ends (default 1 min).
	Stable time.Duration
	// Cap bounds the run in real time after the fault (default 2 min): a
	// daemon that has not recovered by then has failed.
	Cap time.Duration
	// Poll is how often /v1/status is read (default 50 ms, real time): the
	// resolution of the recovery time.
	Poll time.Duration
	// Logger, if set, also receives the daemon's and simulator's records.
	Logger *slog.Logger
}

func (o *FaultOptions) defaults() error {
	if o.Scenario == "" || o.StateDir == "" || o.Kind == 0 {
		return errors.New("faultmatrix: Scenario, StateDir and Kind are required")
	}
	if o.Config == nil {
		o.Config = StoreDayConfig
	}
	if o.Speed <= 0 {
		o.Speed = 10
	}
	if o.Window <= 0 {
		o.Window = 3 * time.Minute
	}
	if o.Stable <= 0 {
		o.Stable = time.Minute
	}
	if o.Cap <= 0 {
		o.Cap = 2 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = 50 * time.Millisecond
	}
	return nil
}

// FaultResult is what one fault run measured.
type FaultResult struct {
	Kind  string
	Seed  int64
	Speed float64
	// ToHit is the real time from triggering the fault to the simulator
	// acting on it (a response fault waits for the next command).
	ToHit time.Duration
	// After is the command after whose completion the fault was triggered
	// (the seed picks it; "" if it did not come and the fault was
	// triggered between commands).
	After string
	// Next is the first command the driver finished after the trigger: for
	// a response fault, normally the one it hit.
	Next string
	// Noticed: the daemon saw the fault (a driver command failed or the
	// status left healthy). An unnoticed fault recovers in 0.
	Noticed   bool
	Recovered bool
	// Recovery is from the hit to the first healthy status after the last
	// failure, with a successful driver command in between; RecoveryScen is
	// the same on the scenario clock.
	Recovery, RecoveryScen time.Duration
	// Unhealthy counts status polls after the fault that were not healthy;
	// FirstUnhealthy says why the first one was not.
	Unhealthy      int
	FirstUnhealthy string
	// Reported is how long after the hit the daemon's status first said it
	// was not connected with a link (0: it never did).
	Reported time.Duration
	// CmdErrors counts driver commands that failed after the fault.
	CmdErrors int
	// States are the lifecycle states the daemon went through after the
	// fault, in order.
	States []string
	// Decisions counts the non-stay decisions after the fault, by kind.
	Decisions map[string]int
	// Switches counts switch and rollback decisions after the fault, and
	// ActiveBefore/ActiveAfter the active profile: a fault must not move it.
	Switches                  int
	ActiveBefore, ActiveAfter string
	// Events are the decisions in the store, the upstream events delivered
	// or still queued, and the lost ones (any loss fails the run).
	StoredDecisions, UpstreamEvents int
	// DecisionsChecked and EventsChecked count what the lost-event check
	// compared: the switcher's decisions, and the link changes and threat
	// alerts the daemon reported.
	DecisionsChecked, EventsChecked int
	Lost                            []string
	GoroutinesBefore                int
	GoroutinesAfter                 int
	Panics                          []string
	// Problems are the reasons this run fails, in words.
	Problems []string
	// Leftover is a goroutine dump when goroutines were left behind.
	Leftover string
}

// Err is the run's failure against bound b (nil when it passed).
func (r FaultResult) Err(b Bound) error {
	ps := slices.Clone(r.Problems)
	if lim := b.At(r.Speed); r.Recovered && r.Recovery > lim {
		ps = append(ps, fmt.Sprintf("recovered in %s, beyond the bound of %s at %gx (%s)", r.Recovery.Round(10*time.Millisecond), lim, r.Speed, b))
	}
	if len(ps) == 0 {
		return nil
	}
	return fmt.Errorf("%s seed %d: %s", r.Kind, r.Seed, strings.Join(ps, "; "))
}

// fleet is a fake upstream: it keeps every event it is sent.
type fleet struct {
	mu     sync.Mutex
	events []upstream.Event
}

func (f *fleet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	var batch []upstream.Event
	if err := json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&batch); err != nil {
		http.Error(w, "bad batch: "+err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.events = append(f.events, batch...)
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (f *fleet) received() []upstream.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

// hitHandler notes when the simulator acts on an armed fault (it logs
// "fault" at debug level when it does) and passes records on to next.
type hitHandler struct {
	hit  chan struct{}
	once *sync.Once
	next slog.Handler
}

func (h hitHandler) Enabled(ctx context.Context, l slog.Level) bool { return true }

func (h hitHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "fault" {
		h.once.Do(func() { close(h.hit) })
	}
	if h.next != nil && h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h hitHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if h.next != nil {
		h.next = h.next.WithAttrs(as)
	}
	return h
}

func (h hitHandler) WithGroup(g string) slog.Handler {
	if h.next != nil {
		h.next = h.next.WithGroup(g)
	}
	return h
}

// syncBuffer is the daemon's log, kept to look for panics.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 4<<20 {
		return len(p), nil // enough to judge; a runaway log must not eat the machine
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type teeHandler []slog.Handler

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range t {
		if h.Enabled(ctx, r.Level) {
			_ = h.Handle(ctx, r.Clone())
		}
	}
	return nil
}

func (t teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (t teeHandler) WithGroup(g string) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithGroup(g)
	}
	return out
}

type poll struct {
	wall    time.Time
	scen    time.Time
	healthy bool
	// down: the daemon itself reports it is not connected with a link.
	down  bool
	state string
}

type cmdDone struct {
	wall time.Time
	name string // the command up to its arguments: "AT+CSQ", "AT+QCFG="
	err  error
	ok   bool
}

// cmdName keeps a command's name and drops its arguments, which may carry
// a PIN or an APDU.
func cmdName(cmd string) string {
	if i := strings.IndexAny(cmd, "=?"); i >= 0 {
		return cmd[:i+1]
	}
	return cmd
}

// RunFault runs the daemon in process against the simulator, waits until
// it is connected with data, triggers one fault and measures the recovery,
// what the daemon did about it, and whether anything leaked or was lost.
// The error is for a run that could not be carried out; a run that failed
// its checks says so in Problems.
func RunFault(ctx context.Context, o FaultOptions) (FaultResult, error) {
	res := FaultResult{Kind: o.Kind.String(), Seed: o.Seed, Speed: o.Speed, Decisions: map[string]int{}}
	if err := o.defaults(); err != nil {
		return res, err
	}
	res.Speed = o.Speed
	sc, err := simulator.LoadScenario(o.Scenario)
	if err != nil {
		return res, err
	}
	stateDir, err := filepath.Abs(o.StateDir)
	if err != nil {
		return res, err
	}
	tokenFile := filepath.Join(stateDir, "upstream.token")
	if err := os.MkdirAll(stateDir, 0o750); err != nil {
		return res, err
	}
	if err := os.WriteFile(tokenFile, []byte("faultmatrix-upstream-token-0001\n"), 0o600); err != nil {
		return res, err
	}

	runtime.GC()
	res.GoroutinesBefore = runtime.NumGoroutine()

	fl := &fleet{}
	srv := httptest.NewServer(fl)
	cfgText := o.Config(stateDir) + fmt.Sprintf("upstream: {url: %q, token_file: %q, fleet_salt: \"faultmatrix-salt-0001\", heartbeat: 1h, batch_size: 5}\n",
		srv.URL+"/v1/events", tokenFile)
	cfg, err := profiles.Parse("faultmatrix config", []byte(cfgText))
	if err != nil {
		srv.Close()
		return res, fmt.Errorf("faultmatrix: config: %w", err)
	}

	logBuf := &syncBuffer{}
	hs := teeHandler{slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelWarn})}
	if o.Logger != nil {
		hs = append(hs, o.Logger.Handler())
	}
	dlog := slog.New(hs)
	hit := make(chan struct{})
	simLog := slog.New(hitHandler{hit: hit, once: &sync.Once{}, next: hs})

	clk := simulator.NewRealClock(o.Speed)
	m, err := simulator.New(sc, simulator.WithClock(clk), simulator.WithLogger(simLog.With("component", "simulator")))
	if err != nil {
		srv.Close()
		return res, err
	}
	open, stopSim := simlink.PipeOpener(m)

	var (
		mu       sync.Mutex
		cmds     []cmdDone
		progress []daemon.Progress
		// armAfter names the command after whose completion the fault is
		// triggered (from the observer, so before the daemon's next command).
		armAfter   atomic.Pointer[string]
		armTrigger atomic.Pointer[func()]
	)
	d, err := daemon.New(daemon.Options{
		Config:   cfg,
		Open:     open,
		Logger:   dlog,
		Version:  "faultmatrix",
		DeviceID: "faultmatrix",
		Clock:    simlink.Clock{C: clk},
		Prober:   simlink.Prober{M: m},
		Notifier: nopNotifier{},
		ModemOptions: []modem.Option{modem.WithCommandObserver(func(cmd string, _ time.Duration, err error) {
			name := cmdName(cmd)
			mu.Lock()
			cmds = append(cmds, cmdDone{wall: time.Now(), name: name, err: err, ok: err == nil})
			mu.Unlock()
			if a := armAfter.Load(); a != nil && *a == name && armAfter.CompareAndSwap(a, nil) {
				(*armTrigger.Load())()
			}
		})},
		OnProgress: func(p daemon.Progress) {
			mu.Lock()
			progress = append(progress, p)
			mu.Unlock()
		},
	})
	if err != nil {
		stopSim()
		srv.Close()
		return res, err
	}
	runCtx, stopDaemon := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(runCtx) }()
	hc := SocketClient(cfg.API.Socket)
	stopped := false
	shutdown := func() error {
		if stopped {
			return nil
		}
		stopped = true
		stopDaemon()
		var err error
		select {
		case err = <-runErr:
		case <-time.After(time.Minute):
			err = errors.New("the daemon did not stop within a minute of cancellation")
		}
		stopSim()
		hc.CloseIdleConnections()
		srv.Close()
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		return err
	}
	defer func() { _ = shutdown() }()

	status := func() (api.Status, bool) {
		var st api.Status
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, "http://imsid/v1/status", nil)
		resp, err := hc.Do(req)
		if err != nil {
			return st, false
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&st) != nil {
			return st, false
		}
		return st, true
	}
	active := func(st api.Status) string {
		if st.ActiveProfile == nil {
			return ""
		}
		return *st.ActiveProfile
	}
	// unhealthy says what is wrong ("" when connected with data on want).
	unhealthy := func(st api.Status, ok bool, want string) string {
		switch {
		case !ok:
			return "GET /v1/status failed"
		case st.State != "connected":
			return "state " + st.State
		case !st.Link.Up:
			return "link down"
		case !m.Snapshot().DataUp:
			return "no data path in the simulator"
		case want != "" && active(st) != want:
			return "active profile " + active(st)
		}
		return ""
	}
	healthy := func(st api.Status, ok bool, want string) bool { return unhealthy(st, ok, want) == "" }
	tick := time.NewTicker(o.Poll)
	defer tick.Stop()
	wait := func() error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-runErr:
			runErr <- err
			return fmt.Errorf("the daemon stopped: %v", err)
		case <-tick.C:
			return nil
		}
	}

	// Connected with data, and settled: healthy for a few polls in a row.
	startDeadline := time.Now().Add(time.Minute)
	for good := 0; good < 5; {
		if err := wait(); err != nil {
			return res, fmt.Errorf("faultmatrix: before the fault: %w", err)
		}
		st, ok := status()
		if healthy(st, ok, "") {
			good++
			res.ActiveBefore = active(st)
		} else {
			good = 0
		}
		if time.Now().After(startDeadline) {
			return res, fmt.Errorf("faultmatrix: the daemon was not connected with data within a minute (state %q)", st.State)
		}
	}

	f := simulator.Fault{Kind: o.Kind, Count: 1, Seed: o.Seed}
	if o.Kind == simulator.FaultSplitWrites {
		f.Count = 20
	}
	mu.Lock()
	// Commands the daemon sends that this modem refuses anyway (+C5GREG? on
	// an LTE-only EG25) are not the fault's doing; a timeout or a lost
	// port on them still is.
	routine := map[string]bool{}
	seen := map[string]int{}
	for _, c := range cmds {
		seen[c.name]++
		if !c.ok {
			routine[c.name] = true
		}
	}
	mu.Unlock()
	// The seed picks the command after which the fault is triggered, so
	// that seeds hit different commands of the daemon's poll cycle (armed
	// between cycles, a response fault would always hit the cycle's first
	// command, +CPIN?).
	var after []string
	for name, n := range seen {
		// Sent in every poll cycle, not just at start-up.
		if n >= 3 && !routine[name] {
			after = append(after, name)
		}
	}
	slices.Sort(after)
	if len(after) == 0 {
		return res, errors.New("faultmatrix: the daemon sent no command before the fault")
	}
	// Seeds 1, 2, 3... step seven commands apart through the sorted list
	// (about twenty), so that a few seeds spread over the cycle.
	res.After = after[int(uint64(o.Seed)*7%uint64(len(after)))]
	var (
		injected, injectedScen time.Time
		triggerErr             error
	)
	triggered := make(chan struct{})
	trigger := func() {
		injected, injectedScen = time.Now(), clk.Now()
		triggerErr = m.TriggerFault(f)
		close(triggered)
	}
	armAfter.Store(&res.After)
	armTrigger.Store(&trigger)
	select {
	case <-triggered:
	case <-time.After(30 * time.Second):
		if armAfter.CompareAndSwap(&res.After, nil) {
			res.After = "" // the command did not come again: trigger between commands
			trigger()
		}
		<-triggered
	case <-ctx.Done():
		armAfter.Store(nil)
		return res, ctx.Err()
	}
	if triggerErr != nil {
		return res, fmt.Errorf("faultmatrix: trigger %s: %w", o.Kind, triggerErr)
	}
	mu.Lock()
	nProg, nCmd := len(progress), len(cmds)
	for i := len(cmds) - 1; i >= 0 && cmds[i].wall.After(injected); i-- {
		nCmd = i
	}
	mu.Unlock()
	hitAt, hitScen := injected, injectedScen
	switch o.Kind {
	case simulator.FaultReset, simulator.FaultPortLoss, simulator.FaultSplitWrites:
		// Reset and port loss act at once; split writes act on the next
		// writes without a log line.
	default:
		select {
		case <-hit:
			hitAt, hitScen = time.Now(), clk.Now()
		case <-time.After(30 * time.Second):
			return res, fmt.Errorf("faultmatrix: the %s fault was not acted on within 30 s", o.Kind)
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	res.ToHit = hitAt.Sub(injected)

	// Watch until the window has passed and the daemon has been healthy for
	// Stable since its last failure, or the cap.
	var polls []poll
	lastBad, lastBadScen := hitAt, hitScen
	var lastOK time.Time
	capAt := hitAt.Add(o.Cap)
	for {
		if err := wait(); err != nil {
			return res, fmt.Errorf("faultmatrix: after the fault: %w", err)
		}
		st, ok := status()
		p := poll{wall: time.Now(), scen: clk.Now(), state: st.State}
		why := unhealthy(st, ok, res.ActiveBefore)
		p.healthy = why == ""
		p.down = !ok || st.State != "connected" || !st.Link.Up
		polls = append(polls, p)
		if why != "" {
			if res.Unhealthy == 0 {
				res.FirstUnhealthy = why
			}
			res.Unhealthy++
		}
		if ok {
			res.ActiveAfter = active(st)
		}
		mu.Lock()
		for i := nCmd; i < len(cmds); i++ {
			c := &cmds[i]
			c.ok = c.err == nil || (routine[c.name] && !wireFailure(c.err))
			if !c.ok && c.wall.After(lastBad) {
				lastBad, lastBadScen = c.wall, clk.Now()
			}
			if c.ok {
				lastOK = later(lastOK, c.wall)
			}
		}
		mu.Unlock()
		if !p.healthy {
			lastBad, lastBadScen = p.wall, p.scen
		}
		// A status can be healthy only because nothing has been asked yet:
		// the run goes on until a command has succeeded since the last
		// failure (a held reply costs the driver's budget in real time,
		// which at high speed outlasts a short window).
		if p.scen.Sub(hitScen) >= o.Window && p.scen.Sub(lastBadScen) >= o.Stable && lastOK.After(lastBad) {
			break
		}
		if p.wall.After(capAt) {
			res.Problems = append(res.Problems, fmt.Sprintf("not healthy for %s in a row within %s of the fault (last state %q)", o.Stable, o.Cap, st.State))
			break
		}
	}
	decs, decErr := fetchDecisions(ctx, hc)

	mu.Lock()
	cmdsAfter := slices.Clone(cmds[nCmd:])
	for i := range cmdsAfter {
		cmdsAfter[i].ok = cmdsAfter[i].err == nil || (routine[cmdsAfter[i].name] && !wireFailure(cmdsAfter[i].err))
	}
	progAfter := slices.Clone(progress[nProg:])
	mu.Unlock()
	res.measureRecovery(hitAt, hitScen, polls, cmdsAfter)
	if len(cmdsAfter) > 0 {
		res.Next = cmdsAfter[0].name
	}
	for _, p := range progAfter {
		switch p.Kind {
		case "state":
			res.States = append(res.States, p.State)
		case "decision":
			res.Decisions[p.Code]++
			if p.Code == "switch" || p.Code == "rollback" {
				res.Switches++
			}
		}
	}
	if res.Switches > 0 || res.ActiveAfter != res.ActiveBefore {
		res.Problems = append(res.Problems, fmt.Sprintf("spurious switch: %d switch/rollback decisions, active %q before and %q after",
			res.Switches, res.ActiveBefore, res.ActiveAfter))
	}

	if err := shutdown(); err != nil {
		res.Problems = append(res.Problems, "daemon: "+err.Error())
	}
	// Goroutines on their way out (a closed pipe's reader, the test
	// server's connections) get a moment: this counts what stays.
	for i := 0; i < 100 && runtime.NumGoroutine() > res.GoroutinesBefore; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	res.GoroutinesAfter = runtime.NumGoroutine()
	if res.GoroutinesAfter > res.GoroutinesBefore {
		buf := make([]byte, 1<<20)
		res.Leftover = string(buf[:runtime.Stack(buf, true)])
		res.Problems = append(res.Problems, fmt.Sprintf("goroutine leak: %d before the daemon started, %d after shutdown", res.GoroutinesBefore, res.GoroutinesAfter))
	}
	for _, line := range strings.Split(logBuf.String(), "\n") {
		if strings.Contains(strings.ToLower(line), "panic") {
			res.Panics = append(res.Panics, line)
		}
	}
	if len(res.Panics) > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("%d log lines mention a panic, first: %s", len(res.Panics), res.Panics[0]))
	}

	mu.Lock()
	allProg := slices.Clone(progress)
	mu.Unlock()
	if decErr != nil {
		res.Lost = append(res.Lost, "GET /v1/decisions: "+decErr.Error())
	}
	res.checkEvents(stateDir, decs, allProg, fl.received())
	if len(res.Lost) > 0 {
		res.Problems = append(res.Problems, "lost events: "+strings.Join(res.Lost, "; "))
	}
	return res, nil
}

// wireFailure: the reply never came, came wrong, or the port went.
func wireFailure(err error) bool {
	for _, e := range []error{modem.ErrTimeout, modem.ErrPortLost, modem.ErrRestarted, modem.ErrParse, modem.ErrClosed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// measureRecovery finds the last failure after the hit (a failed driver
// command or an unhealthy status) and the first healthy status after it
// that a successful driver command precedes.
func (r *FaultResult) measureRecovery(hit, hitScen time.Time, polls []poll, cmds []cmdDone) {
	last := hit
	for _, c := range cmds {
		if !c.ok {
			r.CmdErrors++
			r.Noticed = true
			last = later(last, c.wall)
		}
	}
	for _, p := range polls {
		if !p.healthy {
			r.Noticed = true
			last = later(last, p.wall)
		}
		if p.down && r.Reported == 0 {
			r.Reported = max(p.wall.Sub(hit), time.Nanosecond)
		}
	}
	if len(polls) == 0 || !polls[len(polls)-1].healthy {
		return
	}
	if !r.Noticed {
		r.Recovered = slices.ContainsFunc(cmds, func(c cmdDone) bool { return c.ok })
		return
	}
	for _, p := range polls {
		if !p.healthy || !p.wall.After(last) {
			continue
		}
		okCmd := false
		for _, c := range cmds {
			if c.ok && c.wall.After(last) && !c.wall.After(p.wall) {
				okCmd = true
				break
			}
		}
		if okCmd {
			r.Recovered, r.Recovery, r.RecoveryScen = true, p.wall.Sub(hit), p.scen.Sub(hitScen)
			return
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

type decisionRef struct {
	Seq      uint64 `json:"seq"`
	Kind     string `json:"kind"`
	From, To string
}

// fetchDecisions reads the switcher's own decision log through the API
// (it serves the switcher's ring, not the store), every page of it.
func fetchDecisions(ctx context.Context, hc *http.Client) ([]decisionRef, error) {
	var out []decisionRef
	cursor := ""
	for range 1000 {
		u := "http://imsid/v1/decisions?limit=" + fmt.Sprint(api.MaxDecisionLimit)
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := hc.Do(req)
		if err != nil {
			return out, err
		}
		var page struct {
			Decisions []struct {
				Seq  uint64  `json:"seq"`
				Kind string  `json:"kind"`
				From *string `json:"from"`
				To   *string `json:"to"`
			} `json:"decisions"`
			NextCursor string `json:"next_cursor"`
			More       bool   `json:"more"`
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		err = json.Unmarshal(body, &page)
		if err != nil {
			return out, err
		}
		for _, d := range page.Decisions {
			out = append(out, decisionRef{Seq: d.Seq, Kind: d.Kind, From: deref(d.From), To: deref(d.To)})
		}
		if !page.More || page.NextCursor == "" || len(page.Decisions) == 0 {
			return out, nil
		}
		cursor = page.NextCursor
	}
	return out, errors.New("more than 1000 pages of decisions")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// linkUp mirrors the daemon's rule for when traffic flows (it publishes a
// link change when this flips).
func linkUp(state string) bool { return state == "connected" || state == "degraded" || state == "held" }

// checkEvents compares what the switcher did with what was made durable
// and sent upstream:
//   - every decision in the switcher's own log (read through the API before
//     shutdown) is in the store's decision log, in order, and the store's
//     log has no gap from 1;
//   - every link change (a lifecycle change across up/down) and threat
//     alert the daemon reported reached the fake fleet or is still in the
//     outbox, once, in order, and nothing was dropped.
func (r *FaultResult) checkEvents(stateDir string, decs []decisionRef, prog []daemon.Progress, got []upstream.Event) {
	st, err := store.Open(stateDir)
	if err != nil {
		r.Lost = append(r.Lost, "reopen the store: "+err.Error())
		return
	}
	defer st.Close()
	recs, err := st.Decisions(0, 0)
	if err != nil {
		r.Lost = append(r.Lost, "read the decision log: "+err.Error())
		return
	}
	r.StoredDecisions = len(recs)
	stored := make([]decisionRef, 0, len(recs))
	for i, rec := range recs {
		var d decisionRef
		if err := json.Unmarshal(rec.Data, &d); err != nil {
			r.Lost = append(r.Lost, fmt.Sprintf("stored decision %d unreadable: %v", rec.Seq, err))
			return
		}
		if d.Seq != uint64(i+1) {
			r.Lost = append(r.Lost, fmt.Sprintf("store's decision log: entry %d is the switcher's decision %d (a gap)", i+1, d.Seq))
			return
		}
		stored = append(stored, d)
	}
	r.DecisionsChecked = len(decs)
	for _, d := range decs {
		if d.Seq == 0 || d.Seq > uint64(len(stored)) {
			r.Lost = append(r.Lost, fmt.Sprintf("switcher decision %d (%s) missing from the store (%d stored)", d.Seq, d.Kind, len(stored)))
			break
		}
		if s := stored[d.Seq-1]; s.Kind != d.Kind {
			r.Lost = append(r.Lost, fmt.Sprintf("switcher decision %d is %s, the store has %s", d.Seq, d.Kind, s.Kind))
			break
		}
	}

	queued, err := st.Peek(st.Len())
	if err != nil {
		r.Lost = append(r.Lost, "read the outbox: "+err.Error())
		return
	}
	if n := st.Dropped(); n > 0 {
		r.Lost = append(r.Lost, fmt.Sprintf("the outbox dropped %d events", n))
	}
	all := slices.Clone(got)
	for _, it := range queued {
		var ev upstream.Event
		if err := json.Unmarshal(it.Data, &ev); err != nil {
			r.Lost = append(r.Lost, fmt.Sprintf("outbox item %d unreadable: %v", it.Seq, err))
			continue
		}
		all = append(all, ev)
	}
	seen := map[string]bool{}
	type ev struct{ typ, key string }
	var have []ev
	for _, e := range all {
		if seen[e.ID] {
			continue // delivered again after a lost ack: a duplicate, not a loss
		}
		seen[e.ID] = true
		switch e.Type {
		case upstream.TypeLinkChanged:
			var lc upstream.LinkChanged
			_ = json.Unmarshal(e.Data, &lc)
			have = append(have, ev{"link", fmt.Sprintf("up=%t reason=%s", lc.Up, lc.Reason)})
		case upstream.TypeThreatAlert:
			var a struct {
				Rule string `json:"rule"`
			}
			_ = json.Unmarshal(e.Data, &a)
			have = append(have, ev{"threat", a.Rule})
		}
	}
	r.UpstreamEvents = len(seen)
	var want []ev
	up := false
	for _, p := range prog {
		switch p.Kind {
		case "state":
			if u := linkUp(p.State); u != up {
				up = u
				want = append(want, ev{"link", fmt.Sprintf("up=%t reason=%s", u, p.Code)})
			}
		case "threat":
			want = append(want, ev{"threat", p.Code})
		}
	}
	r.EventsChecked = len(want)
	for i := range max(len(want), len(have)) {
		switch {
		case i >= len(have):
			r.Lost = append(r.Lost, fmt.Sprintf("upstream: %d of %d link/threat events arrived or are queued; first missing: %s %s", len(have), len(want), want[i].typ, want[i].key))
		case i >= len(want):
			r.Lost = append(r.Lost, fmt.Sprintf("upstream: an event the daemon never reported: %s %s", have[i].typ, have[i].key))
		case have[i] != want[i]:
			r.Lost = append(r.Lost, fmt.Sprintf("upstream event %d is %s %s, the daemon reported %s %s (lost or out of order)", i, have[i].typ, have[i].key, want[i].typ, want[i].key))
		default:
			continue
		}
		break
	}
}

// MatrixOptions configure RunMatrix.
type MatrixOptions struct {
	FaultOptions // Kind and Seed are set per run; StateDir is a parent directory
	// Kinds to run (default FaultKinds()).
	Kinds []simulator.FaultKind
	// Seeds per kind (default 1, 2, 3).
	Seeds []int64
	// Progress, if set, receives each run's result as it ends.
	Progress func(FaultResult)
}

// RunMatrix runs every kind with every seed, one daemon after another (the
// goroutine count is process-wide, so runs must not overlap).
func RunMatrix(ctx context.Context, o MatrixOptions) ([]FaultResult, error) {
	kinds, seeds := o.Kinds, o.Seeds
	if len(kinds) == 0 {
		kinds = FaultKinds()
	}
	if len(seeds) == 0 {
		seeds = []int64{1, 2, 3}
	}
	var out []FaultResult
	for _, k := range kinds {
		for _, s := range seeds {
			fo := o.FaultOptions
			fo.Kind, fo.Seed = k, s
			fo.StateDir = filepath.Join(o.StateDir, fmt.Sprintf("%s-%d", k, s))
			r, err := RunFault(ctx, fo)
			if err != nil {
				return out, fmt.Errorf("%s seed %d: %w", k, s, err)
			}
			out = append(out, r)
			if o.Progress != nil {
				o.Progress(r)
			}
		}
	}
	return out, nil
}

// CheckMatrix fails every run beyond its kind's bound or with a problem,
// and every kind without a stated bound.
func CheckMatrix(rs []FaultResult) error {
	var errs []error
	for _, r := range rs {
		b, ok := Bounds[r.Kind]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no stated recovery bound (add it to soak.Bounds and docs/reliability.md)", r.Kind))
			continue
		}
		if err := r.Err(b); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// WriteMatrix prints one markdown row per fault kind: runs, how many
// recovered, the worst recovery (real and scenario time) against the
// bound, failed driver commands, what the daemon did, and the checks.
func WriteMatrix(w io.Writer, rs []FaultResult) {
	fmt.Fprintln(w, "| fault | runs | noticed | recovered | recovery max (real) | same, scenario time | bound at this speed (real) | status said so after (max, real) | failed driver commands (max) | states after the fault | decisions after the fault | spurious switches | goroutines left | panics | decisions / link and threat events checked | lost events |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	var kinds []string
	by := map[string][]FaultResult{}
	for _, r := range rs {
		if _, ok := by[r.Kind]; !ok {
			kinds = append(kinds, r.Kind)
		}
		by[r.Kind] = append(by[r.Kind], r)
	}
	for _, k := range kinds {
		var noticed, rec, cmdMax, sw, left, panics, lost, decChecked, evChecked int
		var recMax, scenMax, repMax time.Duration
		states, decs := map[string]int{}, map[string]int{}
		for _, r := range by[k] {
			if r.Noticed {
				noticed++
			}
			if r.Recovered {
				rec++
				recMax, scenMax = max(recMax, r.Recovery), max(scenMax, r.RecoveryScen)
			}
			cmdMax = max(cmdMax, r.CmdErrors)
			repMax = max(repMax, r.Reported)
			sw += r.Switches
			if r.ActiveAfter != r.ActiveBefore && r.Switches == 0 {
				sw++
			}
			left += max(0, r.GoroutinesAfter-r.GoroutinesBefore)
			panics += len(r.Panics)
			lost += len(r.Lost)
			decChecked += r.DecisionsChecked
			evChecked += r.EventsChecked
			states[strings.Join(r.States, " → ")]++
			for d, n := range r.Decisions {
				decs[d] += n
			}
		}
		bound := "none stated"
		if b, ok := Bounds[k]; ok {
			bound = fmt.Sprintf("%s (%s)", b.At(by[k][0].Speed), b)
		}
		n := len(by[k])
		reported := "never"
		if repMax > 0 {
			reported = roundDur(repMax)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %s | %s | %s | %s | %d | %s | %s | %d | %d | %d | %d / %d | %d |\n", k, n, noticed, rec,
			roundDur(recMax), roundDur(scenMax), bound, reported, cmdMax, stateSummary(states), orNone(counts(decs)), sw, left, panics,
			decChecked, evChecked, lost)
	}
}

func roundDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < 100*time.Millisecond:
		return max(d.Round(time.Millisecond), time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

func orNone(s string) string {
	if s == "none" {
		return "—"
	}
	return s
}

// stateSummary lists the distinct state paths with how many runs took each.
func stateSummary(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		name := k
		if name == "" {
			name = "(stayed connected)"
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", name, m[k]))
	}
	return strings.Join(parts, "; ")
}
