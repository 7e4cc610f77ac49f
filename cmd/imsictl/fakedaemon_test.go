package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/api"
)

// docNow is the clock of every daemon-facing test: the fake daemon, the API
// server and the binary (IMSICTL_NOW) agree on it, so the examples in
// docs/cli.md are byte-for-byte reproducible.
var docNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const testToken = "t0ken-for-tests-0123456789"

// fakeDaemon is an in-memory imsid behind the real API server: it keeps what
// it was asked and refuses what its rules say, like the daemon would.
type fakeDaemon struct {
	hub *api.Hub

	mu         sync.Mutex
	eventNow   time.Time
	active     string
	pin        *api.Pin
	capUntil   time.Time
	quarantine map[string]time.Time
	block      chan struct{} // Status waits on it when set
	operator   string        // the network's operator name, when set
	dropped    api.Dropped
	link       func(*api.Link) // edits the status's link section when set
	switches   []string
	acked      []string
	subs       []uint64 // the resume point of every Subscribe
	cancels    []func()
}

func newFakeDaemon() *fakeDaemon {
	f := &fakeDaemon{active: "telekom", quarantine: map[string]time.Time{"o2": docNow.Add(45 * time.Minute)}}
	f.eventNow = docNow.Add(-30 * time.Minute)
	f.hub = api.NewHub(64, 64, func() time.Time {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.eventNow
	})
	return f
}

func (f *fakeDaemon) publish(at time.Time, typ string, data any) api.Event {
	f.mu.Lock()
	f.eventNow = at
	f.mu.Unlock()
	ev, err := f.hub.Publish(typ, data)
	if err != nil {
		panic(err)
	}
	return ev
}

// seedEvents publishes the events the docs show.
func (f *fakeDaemon) seedEvents() {
	ds := fakeDecisions()
	f.publish(docNow.Add(-12*time.Minute-3*time.Second), api.EventState, api.StateChange{From: "connected", To: "switching", Event: "switch"})
	f.publish(docNow.Add(-12*time.Minute), api.EventDecision, ds[len(ds)-1])
	f.publish(docNow.Add(-11*time.Minute-40*time.Second), api.EventState, api.StateChange{From: "verifying", To: "connected", Event: "verified"})
	f.publish(docNow.Add(-11*time.Minute-38*time.Second), api.EventLink, api.Link{Up: true, IP: api.Ptr("10.64.3.17")})
}

func (f *fakeDaemon) Status(ctx context.Context) (api.Status, error) {
	f.mu.Lock()
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return api.Status{}, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	operator := "Telekom.de"
	if f.operator != "" {
		operator = f.operator
	}
	st := api.Status{
		At: docNow, State: "connected", Ready: true,
		Modem: api.ModemInfo{Manufacturer: api.Ptr("Quectel"), Model: api.Ptr("EG25"), Revision: api.Ptr("EG25GGBR07A08M2G"),
			Dialect: api.Ptr("quectel"), Device: api.Ptr("/dev/serial/by-id/usb-Quectel_EG25-if02-port0"), Responding: true},
		SIM: api.SIMInfo{State: api.Ptr("ready"), Method: "applet", IMSI: api.Ptr("262011*******90"), ICCID: api.Ptr("8949020**********890")},
		Registration: api.Registration{Status: api.Ptr("home"), PLMN: api.Ptr("26201"), Operator: api.Ptr(operator),
			Tech: api.Ptr("LTE"), TAC: api.Ptr("DE10"), CellID: api.Ptr("5A29C0B")},
		Signal:          api.Signal{RSSI: api.Ptr(-60.0), RSRP: api.Ptr(-88.0), RSRQ: api.Ptr(-9.0), SINR: api.Ptr(15.0), Bars: api.Ptr(4)},
		ActiveProfile:   api.Ptr(f.active),
		PreviousProfile: api.Ptr("vodafone"),
		Pin:             f.pin,
		Dropped:         f.dropped,
		Quarantines:     []api.QuarantineEntry{},
		Link: api.Link{Up: true, IP: api.Ptr("10.64.3.17"), LastProbe: &api.Probe{At: docNow.Add(-20 * time.Second), OK: true,
			Target: "http://connectivitycheck.gstatic.com/generate_204", LatencyMS: api.Ptr(48.0)}},
		Threat: api.Threat{Level: "none", Scores: []api.ThreatScore{{Scope: "device", Score: 0.4, Level: "none"}}},
		Usage: []api.Usage{{Profile: "telekom", PeriodStart: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
			PeriodEnd: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), UsedBytes: 1_234_000_000, CapBytes: api.Ptr[int64](5_000_000_000)}},
		LastSwitch: &api.LastSwitch{At: docNow.Add(-12 * time.Minute), From: "vodafone", To: "telekom", Trigger: "soft",
			Reasons:     []api.Reason{{Code: "better_signal", Message: "telekom scores 82.5, vodafone 55.0 (RSRP -88 vs -109 dBm)"}},
			DecisionSeq: 41},
		SwitchBudget: api.SwitchBudget{Used: 1, Max: 3, Window: "1h0m0s"},
	}
	if f.link != nil {
		f.link(&st.Link)
	}
	return st, nil
}

func (f *fakeDaemon) Profiles(context.Context) ([]api.ProfileView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	resets := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	ps := []api.ProfileView{
		{Name: "telekom", Priority: 1, Eligible: true,
			Score:   api.Score{Signal: 90, Cost: 70, Threat: 100, Health: 60, Total: 82.5},
			Reasons: []api.Reason{{Code: "signal_good", Message: "RSRP -88 dBm, SINR 15 dB"}, {Code: "cost", Message: "home tariff, 25% of the cap used"}},
			Cap:     api.Cap{UsedBytes: 1_234_000_000, CapBytes: api.Ptr[int64](5_000_000_000), ResetsAt: &resets},
			Signal:  api.ProfileSignal{RSRP: api.Ptr(-88.0), SINR: api.Ptr(15.0), At: api.Ptr(docNow)},
			Tariff:  api.Tariff{PerMonth: "9.90 EUR", PerMB: "0.00 EUR"}, Spend: "9.90 EUR",
			Forecast: &api.Forecast{BytesPerDay: 190_000_000, TotalBytes: 5_900_000_000, Cost: "9.90 EUR",
				CapRunsOutAt: api.Ptr(time.Date(2026, 3, 21, 18, 0, 0, 0, time.UTC))}},
		{Name: "vodafone", Priority: 2, Eligible: true,
			Score:   api.Score{Signal: 40, Cost: 80, Threat: 100, Health: 20, Total: 55},
			Reasons: []api.Reason{{Code: "signal_weak", Message: "RSRP -109 dBm, 6 dB under the good threshold"}},
			Cap:     api.Cap{UsedBytes: 310_000_000, ResetsAt: &resets},
			Signal:  api.ProfileSignal{RSRP: api.Ptr(-109.0), SINR: api.Ptr(4.0), At: api.Ptr(docNow.Add(-12 * time.Minute))},
			Tariff:  api.Tariff{PerMB: "0.02 EUR"}, Spend: "6.20 EUR"},
		{Name: "o2", Priority: 3, Eligible: false,
			Score:   api.Score{Signal: 70, Cost: 50, Threat: 0, Health: 0, Total: 0},
			Reasons: []api.Reason{{Code: "quarantined", Message: "registration rejected (EMM cause 15) twice"}},
			Quarantine: &api.Quarantine{Until: f.quarantine["o2"], Since: docNow.Add(-15 * time.Minute), Count: 2,
				Reason: api.Reason{Code: "reject", Message: "registration rejected (EMM cause 15)"}},
			Cap:    api.Cap{UsedBytes: 0, CapBytes: api.Ptr[int64](1_000_000_000), ResetsAt: &resets},
			Tariff: api.Tariff{PerMonth: "5.00 EUR"}, Spend: "5.00 EUR"},
	}
	for i := range ps {
		ps[i].Active = ps[i].Name == f.active
		ps[i].Pinned = f.pin != nil && f.pin.Profile == ps[i].Name
	}
	return ps, nil
}

func fakeDecisions() []api.Decision {
	mk := func(seq uint64, ago time.Duration, kind, from, to, trigger string, reasons ...api.Reason) api.Decision {
		d := api.Decision{Seq: seq, Time: docNow.Add(-ago), Kind: kind, From: api.NonEmpty(from), To: api.NonEmpty(to),
			Trigger: api.NonEmpty(trigger), Reasons: reasons, Inputs: api.Inputs{State: "connected", Registered: true,
				PLMN: api.Ptr("26201"), Tech: api.Ptr("LTE"), RSRP: api.Ptr(-88.0), SINR: api.Ptr(15.0)},
			Scores: []api.Ranked{}, WhyNot: []api.WhyNot{}}
		return d
	}
	return []api.Decision{
		mk(37, 3*time.Hour, "stay", "vodafone", "", "", api.Reason{Code: "best", Message: "vodafone still scores best"}),
		mk(38, 2*time.Hour, "hold", "vodafone", "", "soft", api.Reason{Code: "dwell", Message: "telekom is better but the 10m dwell has 4m left"}),
		mk(39, 90*time.Minute, "stay", "vodafone", "", "", api.Reason{Code: "best", Message: "vodafone still scores best"}),
		mk(40, 40*time.Minute, "stay", "vodafone", "", "", api.Reason{Code: "hysteresis", Message: "telekom leads by 4 dB, under the 6 dB hysteresis"}),
		mk(41, 12*time.Minute, "switch", "vodafone", "telekom", "soft", api.Reason{Code: "better_signal", Message: "telekom scores 82.5, vodafone 55.0 (RSRP -88 vs -109 dBm)"}),
	}
}

func (f *fakeDaemon) Decisions(_ context.Context, q api.DecisionQuery) ([]api.Decision, error) {
	var out []api.Decision
	for _, d := range fakeDecisions() {
		if d.Seq > q.After && !d.Time.Before(q.Since) && len(out) < q.Limit {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *fakeDaemon) Subscribe(ctx context.Context, after uint64) (<-chan api.Event, func(), error) {
	ch, cancel, err := f.hub.Subscribe(ctx, after)
	if err == nil {
		f.mu.Lock()
		f.subs = append(f.subs, after)
		f.cancels = append(f.cancels, cancel)
		f.mu.Unlock()
	}
	return ch, cancel, err
}

// dropStreams ends every open event stream, like a daemon shedding a slow
// subscriber.
func (f *fakeDaemon) dropStreams() {
	f.mu.Lock()
	cs := f.cancels
	f.cancels = nil
	f.mu.Unlock()
	for _, c := range cs {
		c()
	}
}

func (f *fakeDaemon) known(p string) bool {
	return slices.Contains([]string{"telekom", "vodafone", "o2"}, p)
}

func (f *fakeDaemon) Switch(_ context.Context, profile, reason string) (api.Ack, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case !f.known(profile):
		return api.Ack{}, &api.RefusedError{Code: api.CodeUnknownProfile, Message: fmt.Sprintf("no profile %q", profile)}
	case !f.quarantine[profile].IsZero() && f.quarantine[profile].After(docNow):
		return api.Ack{}, &api.RefusedError{Code: api.CodeQuarantined, RetryAt: f.quarantine[profile],
			Message: profile + " is quarantined after 2 registration rejects (EMM cause 15)"}
	case f.capUntil.After(docNow):
		return api.Ack{}, &api.RefusedError{Code: api.CodeSwitchCap, RetryAt: f.capUntil,
			Message: "3 switches in the last 1h; the cap is 3"}
	case profile == f.active:
		return api.Ack{Status: "done", Message: profile + " is already active"}, nil
	}
	f.switches = append(f.switches, profile+"/"+reason)
	return api.Ack{}, nil
}

func (f *fakeDaemon) Pin(_ context.Context, profile string, d time.Duration) (api.Ack, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.known(profile) {
		return api.Ack{}, &api.RefusedError{Code: api.CodeUnknownProfile, Message: fmt.Sprintf("no profile %q", profile)}
	}
	f.pin = &api.Pin{Profile: profile, Since: docNow}
	if d > 0 {
		f.pin.Until = api.Ptr(docNow.Add(d))
	}
	return api.Ack{}, nil
}

func (f *fakeDaemon) Unpin(context.Context) (api.Ack, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// As the real daemon: done at once only when nothing is pinned, else
	// queued for the switcher's next step.
	if f.pin == nil {
		return api.Ack{Status: "done", Message: "nothing is pinned; automatic selection is already in charge"}, nil
	}
	p := f.pin.Profile
	f.pin = nil
	return api.Ack{Profile: api.Ptr(p), RequestID: "r4", AfterSeq: 41,
		Message: "queued as r4: the pin on " + p + " is released at the next control-loop step, then automatic selection resumes (after min_dwell it may move to a better-scoring profile)"}, nil
}

func (f *fakeDaemon) AckThreat(_ context.Context, reason string) (api.Ack, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acked = append(f.acked, reason)
	return api.Ack{Op: "threat_ack", Status: "done", Message: "tamper alarm acknowledged: the current IMEI and ICCID are accepted"}, nil
}

func (f *fakeDaemon) Ready() error { return nil }

// served is a fake daemon behind the real API server, on a unix socket in
// a temp dir and, with tcp, on a loopback port with testToken.
type served struct {
	fake   *fakeDaemon
	socket string
	url    string
}

func serveFake(t *testing.T, tcp bool) *served {
	t.Helper()
	f := newFakeDaemon()
	// Unix socket paths are limited to ~108 bytes; t.TempDir can be long.
	dir, err := shortTempDir(t)
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.Config{Socket: filepath.Join(dir, "imsid.sock"), Now: func() time.Time { return docNow }}
	if tcp {
		cfg.Listen, cfg.Token = "127.0.0.1:0", testToken
	}
	srv, err := api.New(f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.mu.Lock()
		if f.block != nil {
			close(f.block)
			f.block = nil
		}
		f.mu.Unlock()
		srv.Close()
		f.hub.Close()
	})
	s := &served{fake: f, socket: cfg.Socket}
	if tcp {
		s.url = "http://" + srv.TCPAddr().String()
	}
	return s
}

func shortTempDir(t *testing.T) (string, error) {
	dir, err := os.MkdirTemp("", "ictl")
	if err != nil {
		return "", err
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir, nil
}

// Threats is GET /v1/threats: a 2G downgrade as the real daemon words it
// (TestE2EDowngradeNamesWhatWasSeen in cmd/imsid checks the real one).
func (f *fakeDaemon) Threats(context.Context) (api.ThreatList, error) {
	seen := docNow.Add(-20 * time.Minute)
	return api.ThreatList{At: docNow, Level: "critical", Findings: []api.Finding{
		{Rule: "D1a", Detector: "D1", Reason: "rat_2g_under_lte_policy", Severity: "critical", Scope: "cell:26201/F1E",
			Sentence:  "D1a (critical): registered on 2G although the profile's policy is LTE/NR only: the RAT lock failed or was tampered with; seen on 2G (GSM), network 26201 (Telekom.de), TAC 7FFE, cell F1E, RSSI -51 dBm",
			FirstSeen: seen, LastSeen: seen, Count: 1, Active: true,
			Response: []string{"alert", "leave_now", "forbid_2g", "check_rat_lock", "quarantine cell:26201/F1E for 1h"}, DecisionSeq: api.Ptr[uint64](41)},
	}, Quarantines: []api.QuarantineEntry{
		{Kind: "cell", Key: "26201/F1E", Since: seen, Until: seen.Add(time.Hour), Count: 1,
			Reason: api.Reason{Code: "threat_rat_2g_under_lte_policy", Message: "threat response for cell:26201/F1E"}},
		{Kind: "profile", Key: "o2", Since: docNow.Add(-15 * time.Minute), Until: f.quarantine["o2"], Count: 2,
			Reason: api.Reason{Code: "reject", Message: "registration rejected (EMM cause 15)"}},
	}}, nil
}
