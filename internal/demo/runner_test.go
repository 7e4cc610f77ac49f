package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/apiclient"
)

// The runner is tested against a fake daemon: this test binary, started by
// Run as "imsid" and "imsictl" with fakeEnv set, serves the real API
// (internal/api) over a scripted backend. That checks the runner's side of
// the contract without depending on the daemon's decisions, which
// TestDemoFast (cmd/demo) checks with the real one.
const fakeEnv = "IMSID_DEMO_FAKE"

func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) != "" {
		os.Exit(fakeMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func TestRunAgainstFakeDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a fake daemon for a few seconds")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeEnv, "1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var progress bytes.Buffer
	res, err := Run(ctx, Options{Imsid: self, Imsictl: self, Scenario: "store-day.yaml", Speed: fakeSpeed,
		Poll: 10 * time.Millisecond, Progress: &progress})
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Log)
	}
	s := res.Summary
	var got []string
	for _, x := range s.Switches {
		got = append(got, fmt.Sprintf("%s %s->%s %s", x.Kind, x.From, x.To, x.Trigger))
	}
	want := []string{"switch cheap->fallback hard", "switch fallback->roaming threat", "switch roaming->cheap soft", "switch cheap->fallback manual"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("switches:\n got %q\nwant %q", got, want)
	}
	// The fake's script says when; the runner's clock estimate must agree
	// within the slack a loaded machine needs at this speed.
	near := func(what string, at, want time.Duration) {
		if d := at - want; d > 20*time.Minute || d < -20*time.Minute {
			t.Errorf("%s at %v, want about %v", what, at, want)
		}
	}
	if len(s.Switches) == len(want) {
		near("failover", s.Switches[0].At, 2*time.Hour+time.Minute)
		near("catcher", s.Switches[1].At, 3*time.Hour+30*time.Minute)
		near("return", s.Switches[2].At, 7*time.Hour+5*time.Minute)
		near("pin", s.Switches[3].At, 9*time.Hour)
	}
	if s.HeldBack != 1 || len(s.Alerts) != 2 || s.MaxThreat != "critical" {
		t.Errorf("held back %d, alerts %+v, max threat %q; want 1, 2, critical", s.HeldBack, s.Alerts, s.MaxThreat)
	}
	if len(s.Pins) != 1 || !strings.Contains(s.Pins[0], "imsictl pin fallback --for 2h: accepted") {
		t.Errorf("pins: %q", s.Pins)
	}
	if s.Currency != "EUR" || s.TotalCost < 0.0599 || s.TotalCost > 0.0601 { // 10 MB each at 0.002+0.004
		t.Errorf("cost %v %s, want 0.06 EUR", s.TotalCost, s.Currency)
	}
	if s.Downtime <= 0 || s.Downtime > time.Hour {
		t.Errorf("downtime %v", s.Downtime)
	}
	tl := res.Timeline
	if len(tl.Samples) < 20 || len(tl.Profiles) != 3 || len(tl.Episodes) != 3 {
		t.Errorf("timeline: %d samples, profiles %q, %d episodes", len(tl.Samples), tl.Profiles, len(tl.Episodes))
	}
	lines := progress.String()
	for _, w := range []string{"starting -> probing", "switch cheap -> fallback, hard: no_service", "ALERT", "OPERATOR imsictl pin fallback", "pinned fallback for 2h"} {
		if !strings.Contains(lines, w) {
			t.Errorf("progress lacks %q:\n%s", w, lines)
		}
	}
}

func TestRunFailsClearly(t *testing.T) {
	ctx := context.Background()
	if _, err := Run(ctx, Options{}); err == nil {
		t.Error("no binaries: no error")
	}
	_, err := Run(ctx, Options{Imsid: "/nonexistent/imsid", Imsictl: "/nonexistent/imsictl", Scenario: "x.yaml"})
	if err == nil || !strings.Contains(err.Error(), "print-config") {
		t.Errorf("a missing imsid: %v", err)
	}
}

// ---- the fake daemon and CLI ----

const fakeSpeed = 8400 // the day in 6 s

const fakeConfig = `modem:
  device: "/tmp/fake/modem"
sim:
  method: applet
  apn: "internet"
profiles:
  - name: cheap
    index: 0
    imsi_prefix: "26201"
    plmns: ["26201"]
    cost: {currency: EUR, per_mb: "0.002"}
    priority: 1
  - name: fallback
    index: 1
    imsi_prefix: "26202"
    plmns: ["26202"]
    cost: {currency: EUR, per_mb: "0.004"}
    priority: 2
  - name: roaming
    index: 2
    imsi_prefix: "23415"
    roaming: true
    plmns: ["26203"]
    cost: {currency: EUR, per_mb: "0.010", roaming_per_mb: "0.010"}
    priority: 3
policy:
  site: {country_mcc: "262"}
`

func fakeMain(args []string) int {
	for _, a := range args {
		switch a {
		case "--print-config":
			fmt.Print(fakeConfig)
			return 0
		case "pin":
			return fakeImsictl(args)
		}
	}
	return fakeImsid(args)
}

// fakeImsictl: --socket S --json pin PROFILE --for D.
func fakeImsictl(args []string) int {
	fs := flag.NewFlagSet("imsictl", flag.ContinueOnError)
	socket := fs.String("socket", "", "")
	fs.Bool("json", false, "")
	if err := fs.Parse(args); err != nil || fs.NArg() < 2 {
		return 2
	}
	pf := flag.NewFlagSet("pin", flag.ContinueOnError)
	d := pf.Duration("for", 0, "")
	if err := pf.Parse(fs.Args()[2:]); err != nil {
		return 2
	}
	cl, err := apiclient.New(apiclient.Options{Socket: *socket})
	if err != nil {
		return 1
	}
	ack, err := cl.Pin(context.Background(), fs.Arg(1), *d)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_ = json.NewEncoder(os.Stdout).Encode(ack)
	return 0
}

// fakeImsid: --simulate SCENARIO --speed N --state-dir DIR.
func fakeImsid(args []string) int {
	fs := flag.NewFlagSet("imsid", flag.ContinueOnError)
	fs.Bool("simulate", false, "")
	speed := fs.Float64("speed", 1, "")
	dir := fs.String("state-dir", "", "")
	// Flags may follow the SCENARIO argument, which the fake ignores.
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		args = fs.Args()[1:]
	}
	if err := os.MkdirAll(*dir, 0o750); err != nil {
		return 1
	}
	f := &fakeDaemon{origin: time.Now(), speed: *speed, active: "cheap", state: "starting", threat: "none"}
	f.hub = api.NewHub(256, 64, f.now) // as the real daemon: its clock, the scenario's
	srv, err := api.New(f, api.Config{Socket: filepath.Join(*dir, "imsid.sock")})
	if err == nil {
		err = srv.Start()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake imsid:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	f.script(ctx)
	<-ctx.Done()
	_ = srv.Close()
	_ = f.hub.Close()
	return 0
}

type fakeDaemon struct {
	hub    *api.Hub
	origin time.Time
	speed  float64

	mu                    sync.Mutex
	active, state, threat string
	seq                   uint64
}

func (f *fakeDaemon) now() time.Time {
	return f.origin.Add(time.Duration(float64(time.Since(f.origin)) * f.speed))
}

// at runs fn when the scenario clock reaches off.
func (f *fakeDaemon) at(ctx context.Context, off time.Duration, fn func()) {
	t := time.AfterFunc(time.Duration(float64(off)/f.speed)-time.Since(f.origin), fn)
	context.AfterFunc(ctx, func() { t.Stop() })
}

func (f *fakeDaemon) setState(to, ev string) {
	f.mu.Lock()
	from := f.state
	f.state = to
	f.mu.Unlock()
	_, _ = f.hub.Publish(api.EventState, api.StateChange{From: from, To: to, Event: ev})
}

func (f *fakeDaemon) decide(kind, from, to, trigger, code, msg string) {
	f.mu.Lock()
	f.seq++
	d := api.Decision{Seq: f.seq, Time: f.now(), Kind: kind, From: api.NonEmpty(from), To: api.NonEmpty(to), Trigger: api.NonEmpty(trigger),
		Reasons: []api.Reason{{Code: code, Message: msg}}, Inputs: api.Inputs{State: f.state}}
	f.mu.Unlock()
	_, _ = f.hub.Publish(api.EventDecision, d)
}

func (f *fakeDaemon) switchTo(from, to, trigger, code string) {
	f.decide("switch", from, to, trigger, code, "")
	f.setState("switching", "switch")
	f.setState("verifying", "switched")
	f.mu.Lock()
	f.active = to
	f.mu.Unlock()
	f.decide("verified", from, to, "", "active", "")
	f.setState("connected", "verified")
}

// alert sets the threat level and, like the daemon, publishes an event
// only for an alert, not for the level falling back.
func (f *fakeDaemon) alert(level string) {
	f.mu.Lock()
	f.threat = level
	f.mu.Unlock()
	if level == "none" {
		return
	}
	_, _ = f.hub.Publish(api.EventThreat, api.Threat{Level: level, Scores: []api.ThreatScore{{Scope: "device", Score: 3, Level: level}}})
}

func (f *fakeDaemon) script(ctx context.Context) {
	h, m := time.Hour, time.Minute
	f.at(ctx, 30*time.Second, func() {
		f.setState("probing", "modem_up")
		f.setState("registering", "sim_ready")
		f.setState("connected", "healthy")
	})
	f.at(ctx, 2*h, func() { f.setState("registering", "service_lost") })
	f.at(ctx, 2*h+m, func() { f.switchTo("cheap", "fallback", "hard", "no_service") })
	f.at(ctx, 3*h+30*m, func() { f.alert("critical"); f.switchTo("fallback", "roaming", "threat", "threat_critical") })
	f.at(ctx, 4*h, func() { f.alert("none") })
	f.at(ctx, 5*h+31*m, func() { f.alert("medium"); f.setState("degraded", "degrade") })
	f.at(ctx, 5*h+33*m, func() { f.decide("suspend", "roaming", "", "soft", "better_profile", "") })
	f.at(ctx, 5*h+50*m, func() { f.setState("connected", "healthy") })
	f.at(ctx, 6*h, func() { f.alert("none") })
	f.at(ctx, 7*h+5*m, func() { f.switchTo("roaming", "cheap", "soft", "better_profile") })
}

func (f *fakeDaemon) Status(context.Context) (api.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return api.Status{At: f.now(), State: f.state, Ready: true, ActiveProfile: api.Ptr(f.active),
		Link:   api.Link{Up: linkUpState(f.state)},
		Threat: api.Threat{Level: f.threat},
		Usage:  []api.Usage{{Profile: "cheap", UsedBytes: 10e6}, {Profile: "fallback", UsedBytes: 0}, {Profile: "roaming", UsedBytes: 2e6}}}, nil
}

func (f *fakeDaemon) Profiles(context.Context) ([]api.ProfileView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []api.ProfileView
	for i, p := range []string{"cheap", "fallback", "roaming"} {
		out = append(out, api.ProfileView{Name: p, Active: p == f.active, Priority: i + 1, Eligible: true, Score: api.Score{Signal: float64(90 - 10*i)}})
	}
	return out, nil
}

func (f *fakeDaemon) Decisions(context.Context, api.DecisionQuery) ([]api.Decision, error) {
	return nil, nil
}

func (f *fakeDaemon) Subscribe(ctx context.Context, after uint64) (<-chan api.Event, func(), error) {
	return f.hub.Subscribe(ctx, after)
}

func (f *fakeDaemon) Switch(context.Context, string, string) (api.Ack, error) {
	return api.Ack{}, errors.New("fake: no switch")
}

func (f *fakeDaemon) Pin(_ context.Context, profile string, d time.Duration) (api.Ack, error) {
	now := f.now()
	until := now.Add(d)
	_, _ = f.hub.Publish(api.EventPin, api.Pin{Profile: profile, Since: now, Until: &until})
	f.mu.Lock()
	from := f.active
	f.mu.Unlock()
	go f.switchTo(from, profile, "manual", "pin")
	return api.Ack{Op: "pin", Profile: api.Ptr(profile), Until: &until, Status: "accepted"}, nil
}

func (f *fakeDaemon) Unpin(context.Context) (api.Ack, error) {
	return api.Ack{Op: "unpin", Status: "accepted"}, nil
}

func (f *fakeDaemon) AckThreat(context.Context, string) (api.Ack, error) {
	return api.Ack{Op: "threat_ack", Status: "done"}, nil
}

func (f *fakeDaemon) Ready() error { return nil }
