package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/imsid/imsid/internal/modemreport"
	"github.com/imsid/imsid/internal/modemreport/gather"
	"github.com/imsid/imsid/internal/simlink"
	"github.com/imsid/imsid/modem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/store"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/switcher"
)

// These tests run the whole daemon in process against the simulator over
// net.Pipe, with the simulator's clock accelerated: real time, short
// timeouts, as for the end-to-end tests, but under the race detector.

type recNotifier struct {
	mu     sync.Mutex
	states []string
}

func (n *recNotifier) Notify(s string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.states = append(n.states, s)
	return nil
}

func (n *recNotifier) has(prefix string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, s := range n.states {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// pipes serves the simulator on a fresh net.Pipe per open, and can cut the
// current one (a USB unplug).
type pipes struct {
	sim   *simulator.Modem
	clk   simulator.Clock
	mu    sync.Mutex
	cur   []net.Conn
	opens int
	sent  []time.Time // scenario time of each command line the daemon wrote
	wg    sync.WaitGroup
}

func (p *pipes) open(ctx context.Context) (io.ReadWriteCloser, error) {
	a, b := net.Pipe()
	p.mu.Lock()
	p.cur = []net.Conn{a, b}
	p.opens++
	p.mu.Unlock()
	p.wg.Add(1)
	go func() { defer p.wg.Done(); _ = p.sim.Serve(context.Background(), b); b.Close() }()
	return &countConn{Conn: a, p: p}, nil
}

// countConn notes the scenario time of every command line (each CR) the
// daemon writes.
type countConn struct {
	net.Conn
	p *pipes
}

func (c *countConn) Write(b []byte) (int, error) {
	if n := bytes.Count(b, []byte{'\r'}); n > 0 && c.p.clk != nil {
		now := c.p.clk.Now()
		c.p.mu.Lock()
		for range n {
			c.p.sent = append(c.p.sent, now)
		}
		c.p.mu.Unlock()
	}
	return c.Conn.Write(b)
}

// sentSince counts the command lines written at or after t and returns the
// time of the first.
func (p *pipes) sentSince(t time.Time) (n int, first time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, at := range p.sent {
		if !at.Before(t) {
			if n == 0 {
				first = at
			}
			n++
		}
	}
	return n, first
}

func (p *pipes) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.cur {
		c.Close()
	}
}

func (p *pipes) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.opens
}

type harness struct {
	t      *testing.T
	d      *Daemon
	sim    *simulator.Modem
	clk    simulator.Clock
	pipes  *pipes
	notif  *recNotifier
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
	dir    string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func loadTestConfig(t *testing.T, dir string) *profiles.Config {
	t.Helper()
	raw, err := os.ReadFile("testdata/basic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := profiles.Parse("basic.yaml", raw)
	if err != nil {
		t.Fatal(err)
	}
	cfg.StateDir = dir
	cfg.API.Socket = filepath.Join(dir, "imsid.sock")
	return cfg
}

func start(t *testing.T, dir string) *harness {
	t.Helper()
	return startAt(t, dir, 40)
}

// startAt runs the scenario at speed scenario seconds per real second.
func startAt(t *testing.T, dir string, speed float64) *harness {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the daemon in real time")
	}
	sc, err := simulator.LoadScenario("../../simulator/scenarios/basic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	clk := simulator.NewRealClock(speed)
	sim, err := simulator.New(sc, simulator.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, sim: sim, clk: clk, pipes: &pipes{sim: sim, clk: clk}, notif: &recNotifier{}, logs: &syncBuffer{}, dir: dir, done: make(chan error, 1)}
	h.d, err = New(Options{
		Config: loadTestConfig(t, dir), Open: h.pipes.open,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Clock:  simlink.Clock{C: clk}, Prober: simlink.Prober{M: sim}, Notifier: h.notif,
		WatchdogInterval: 3 * time.Second, PersistEvery: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.d.Run(ctx) }()
	t.Cleanup(func() {
		h.closeAll()
		if t.Failed() {
			t.Logf("logs:\n%s", h.logs.String())
		}
	})
	return h
}

// closeAll stops the daemon and the simulator with its pipes.
func (h *harness) closeAll() {
	h.stop()
	h.sim.Close()
	h.pipes.cut()
	h.pipes.wg.Wait()
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		h.t.Fatal("Run did not return after cancel")
	}
}

func (h *harness) waitFor(what string, timeout time.Duration, f func() bool) {
	h.t.Helper()
	end := time.Now().Add(timeout)
	for !f() {
		if time.Now().After(end) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) on(profile string) func() bool {
	b := &backend{d: h.d}
	return func() bool {
		st, err := b.Status(context.Background())
		return err == nil && st.Ready && st.State == "connected" && st.ActiveProfile != nil && (profile == "" || *st.ActiveProfile == profile)
	}
}

func TestDaemonLifecycle(t *testing.T) {
	before := runtime.NumGoroutine()
	h := start(t, t.TempDir())
	b := &backend{d: h.d}
	h.waitFor("connected on telekom-de", 20*time.Second, h.on("telekom-de"))
	if !h.notif.has("READY=1") {
		t.Error("no READY=1")
	}
	// The fleet's heartbeat carries each profile's usage and spend (#15).
	if hb := h.d.heartbeat(); len(hb.Usage) != len(h.d.Config().Profiles) || hb.Usage[0].Profile == "" {
		t.Errorf("heartbeat usage %+v", hb.Usage)
	}
	h.waitFor("a watchdog ping", 5*time.Second, func() bool { return h.notif.has("WATCHDOG=1") })

	// A forced switch through the backend, then a pin.
	if _, err := b.Switch(context.Background(), "t-mobile", "test"); err != nil {
		t.Fatal(err)
	}
	h.waitFor("connected on t-mobile", 20*time.Second, h.on("t-mobile"))
	if _, err := b.Pin(context.Background(), "t-mobile", 0); err != nil {
		t.Fatal(err)
	}
	h.waitFor("held", 10*time.Second, func() bool { return h.d.sw.Load().State() == switcher.StateHeld })
	var re *api.RefusedError
	if _, err := b.Switch(context.Background(), "nope", ""); !errors.As(err, &re) || re.Code != api.CodeUnknownProfile || len(re.Profiles) != 3 {
		t.Fatalf("unknown profile: %v", err)
	}
	st, _ := b.Status(context.Background())
	if st.LastSwitch == nil || st.LastSwitch.To != "t-mobile" || st.SIM.IMSI == nil || strings.Contains(*st.SIM.IMSI, "310260123456789") {
		t.Fatalf("status %+v", st)
	}
	// The modem's answers in status are the published view's (#15 item 4):
	// the SIM state, registration and signal of the tick that said t-mobile.
	if v := h.d.sw.Load().View(); st.SIM.State == nil || *st.SIM.State != v.Modem.SIM.String() || !st.Modem.Responding ||
		st.Signal.RSRP == nil || st.Registration.Status == nil || v.Modem.IMSI.String() != *st.SIM.IMSI {
		t.Fatalf("status does not show the view: %+v\nview %+v", st, v.Modem)
	}
	// The AT metrics come from the driver's command observer.
	rec := httptest.NewRecorder()
	h.d.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `imsid_at_command_duration_seconds_count{command="+CPIN?"}`) {
		t.Errorf("no AT command metrics:\n%s", rec.Body.String())
	}
	ps, err := b.Profiles(context.Background())
	if err != nil || len(ps) != 3 {
		t.Fatalf("profiles %v %v", ps, err)
	}
	ds, err := b.Decisions(context.Background(), api.DecisionQuery{Limit: 100})
	if err != nil || len(ds) == 0 {
		t.Fatalf("decisions %v %v", ds, err)
	}

	// The port vanishes: the daemon reopens it and carries on.
	opens := h.pipes.count()
	h.pipes.cut()
	h.waitFor("a reopened port", 20*time.Second, func() bool { return h.pipes.count() > opens })
	h.waitFor("held on t-mobile again", 20*time.Second, func() bool {
		st, err := b.Status(context.Background())
		return err == nil && st.Ready && st.State == "held" && *st.ActiveProfile == "t-mobile"
	})

	// Reload keeps running with the new config.
	cfg := loadTestConfig(t, h.dir)
	cfg.Policy.SwitchCap.Max = 5
	cfg.Policy.Threats.Window = profiles.Duration(20 * time.Minute)
	h.d.threat.mu.Lock()
	eng := h.d.threat.e
	h.d.threat.mu.Unlock()
	if err := h.d.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	h.d.threat.mu.Lock()
	rebuilt := h.d.threat.e != eng
	h.d.threat.mu.Unlock()
	if !rebuilt {
		t.Error("threat engine not rebuilt for new threat settings")
	}
	if st, _ := b.Status(context.Background()); st.SwitchBudget.Max != 5 {
		t.Fatalf("reload not applied: %+v", st.SwitchBudget)
	}

	h.stop()
	if !h.notif.has("STOPPING=1") {
		t.Error("no STOPPING=1")
	}
	// The state survives: active profile and pin.
	s, err := store.Open(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if a, _ := s.Active(); a != "t-mobile" {
		t.Errorf("stored active %q", a)
	}
	if p, err := s.GetPin(); err != nil || p.Profile != "t-mobile" {
		t.Errorf("stored pin %+v %v", p, err)
	}
	if un, _ := s.Unfinished(); len(un) != 0 {
		t.Errorf("unfinished switches: %+v", un)
	}
	for _, id := range []string{"262011234567890", "310260123456789", "89490200001234567890"} {
		if strings.Contains(h.logs.String(), id) {
			t.Errorf("identity in clear in the logs")
		}
	}
	// Every goroutine the daemon started has ended.
	s.Close()
	h.closeAll()
	http.DefaultClient.CloseIdleConnections()
	h.waitFor("goroutines back to the start", 5*time.Second, func() bool { return runtime.NumGoroutine() <= before })
}

// A restart after a journalled switch that never finished reconciles with
// what the SIM carries and closes the journal entry.
func TestDaemonReconcilesUnfinishedSwitch(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Two unfinished intents: the older is superseded, the newer reconciled.
	in := switcher.Intent{Seq: 7, At: time.Now().Add(-time.Minute), From: "t-mobile", To: "vodafone-uk", Trigger: switcher.TriggerManual}
	for _, seq := range []uint64{6, 7} {
		in.Seq = seq
		raw, _ := jsonMarshal(in)
		if _, err := s.BeginSwitch(store.Intent{From: in.From, To: in.To, Ref: seq, Detail: raw}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	h := start(t, dir)
	h.waitFor("connected", 20*time.Second, h.on("telekom-de"))
	ds := h.d.sw.Load().Decisions(0, 0)
	found := false
	for _, d := range ds {
		found = found || d.Has(switcher.CodeReconcile)
	}
	if !found {
		t.Fatal("no reconcile decision")
	}
	h.stop()
	s, err = store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if un, _ := s.Unfinished(); len(un) != 0 {
		t.Fatalf("unfinished after reconcile: %+v", un)
	}
	j, _ := s.Journal(0)
	if len(j) != 2 || j[1].Outcome == nil || j[1].Outcome.Result != "reconciled" || j[1].Outcome.Active != "telekom-de" {
		t.Fatalf("journal %+v", j)
	}
}

// Decision numbers continue across restarts, and the API pages through the
// earlier run's decisions (from the store) and this run's as one history.
func TestDecisionHistorySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	h := start(t, dir)
	h.waitFor("connected", 20*time.Second, h.on("telekom-de"))
	if _, err := (&backend{d: h.d}).Switch(context.Background(), "vodafone-uk", "test"); err != nil {
		t.Fatal(err)
	}
	h.waitFor("on vodafone-uk", 30*time.Second, h.on("vodafone-uk"))
	first := h.d.sw.Load().Decisions(0, 0)
	if len(first) == 0 {
		t.Fatal("no decisions in the first run")
	}
	lastSeq := first[len(first)-1].Seq
	h.stop()

	h = start(t, dir)
	h.waitFor("connected", 20*time.Second, h.on(""))
	if _, err := (&backend{d: h.d}).Switch(context.Background(), "t-mobile", "test"); err != nil {
		t.Fatal(err)
	}
	h.waitFor("on t-mobile", 30*time.Second, h.on("t-mobile"))
	now := h.d.sw.Load().Decisions(0, 0)
	if len(now) == 0 || now[0].Seq <= lastSeq {
		t.Fatalf("second run numbers from %v, the first ended at %d", now, lastSeq)
	}
	b := &backend{d: h.d}
	all, err := b.Decisions(context.Background(), api.DecisionQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < len(first)+len(now) {
		t.Fatalf("API shows %d decisions, runs made %d + %d", len(all), len(first), len(now))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("not one increasing history at %d: %d after %d", i, all[i].Seq, all[i-1].Seq)
		}
	}
	// Paging with a small limit crosses the seam between the runs.
	var paged []api.Decision
	after := uint64(0)
	for {
		p, err := b.Decisions(context.Background(), api.DecisionQuery{After: after, Limit: 2})
		if err != nil || len(p) == 0 {
			break
		}
		paged = append(paged, p...)
		after = p[len(p)-1].Seq
	}
	if len(paged) != len(all) {
		t.Fatalf("paging by 2 gave %d decisions, one call %d", len(paged), len(all))
	}
	h.stop()
}

// A switch the API accepted (202) just before the daemon died is not lost:
// the journalled request is queued again on start, and forgotten once the
// switcher has acted on it.
func TestAcceptedSwitchSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := jsonMarshal(manualRequest{Profile: "vodafone-uk", Reason: "before the crash", At: time.Now()})
	if err := s.SetManualRequest(raw); err != nil {
		t.Fatal(err)
	}
	s.Close()

	h := start(t, dir)
	h.waitFor("on vodafone-uk", 40*time.Second, h.on("vodafone-uk"))
	h.stop()
	s, err = store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ManualRequest(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the request is still journalled after it was applied: %v", err)
	}
	if !strings.Contains(h.logs.String(), "queued again") {
		t.Error("the requeue was not logged")
	}
}

// A request from long ago is dropped, not applied.
func TestStaleRequestDropped(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := jsonMarshal(manualRequest{Profile: "vodafone-uk", At: time.Now().Add(-2 * maxRequestAge)})
	s.SetManualRequest(raw)
	s.Close()
	h := start(t, dir)
	h.waitFor("connected", 20*time.Second, h.on("telekom-de"))
	if !strings.Contains(h.logs.String(), "too old to apply") {
		t.Error("the stale request was not dropped")
	}
	h.stop()
}

// The daemon's probe (POST /v1/probe, imsictl probe without --device)
// reports what a direct probe of the same modem reports, identities
// masked, through the session's command queue (#15 item 5).
func TestProbeThroughTheDaemonMatchesADirectProbe(t *testing.T) {
	h := start(t, t.TempDir())
	b := &backend{d: h.d}
	h.waitFor("connected on telekom-de", 20*time.Second, h.on("telekom-de"))
	before := len(h.d.sw.Load().Decisions(0, 0))
	got, err := b.Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	if after := len(h.d.sw.Load().Decisions(0, 0)); after != before {
		t.Errorf("the probe caused %d decisions", after-before)
	}

	// Then the daemon stops and the same simulated modem is probed
	// directly, as imsictl probe --device does on a port nobody holds.
	h.stop()
	h.pipes.cut()
	a, c := net.Pipe()
	go func() { _ = h.sim.Serve(context.Background(), c); c.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := modem.New(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := gather.Gather(ctx, m, h.d.Config().Modem.Device)
	gather.Mask(want)

	strip := func(r modemreport.Report) string {
		// Signal and cells are read at slightly different moments of an
		// accelerated simulation; identity, SIM and registration must agree.
		r.Signal, r.ServingCell, r.Neighbours = modemreport.Signal{}, nil, nil
		raw, _ := json.MarshalIndent(r, "", "  ")
		return string(raw)
	}
	if g, w := strip(got), strip(*want); g != w {
		t.Errorf("the daemon's probe:\n%s\na direct probe:\n%s", g, w)
	}
	if !got.Masked || got.SIM.IMSI == nil || strings.Contains(*got.SIM.IMSI, "262011234567890") || got.Signal.RSRP == nil {
		t.Errorf("daemon probe: %+v", got)
	}
	var direct, daemon bytes.Buffer
	modemreport.WriteTable(&direct, want)
	modemreport.WriteTable(&daemon, &got)
	if first := func(s string) string { return strings.SplitN(s, "signal", 2)[0] }; first(direct.String()) != first(daemon.String()) {
		t.Errorf("tables differ:\n%s\n%s", daemon.String(), direct.String())
	}
}
