package api

import (
	"context"
	"slices"
	"sync"
	"time"
)

// fakeBackend is an in-memory daemon: it keeps what was asked of it and
// refuses what its rules say, like the real one would.
type fakeBackend struct {
	hub *Hub

	mu         sync.Mutex
	status     Status
	profiles   []ProfileView
	decisions  []Decision
	quarantine map[string]time.Time // profile → until
	capUntil   time.Time            // switch cap exhausted until
	omitNames  bool                 // refuse unknown profiles without listing them
	switches   []string
	pins       []fakePin
	unpins     int
	acks       []string
	ready      error
	failWith   error // every read fails with it
	panicOn    string
	block      chan struct{} // Status waits on it (timeouts)
}

type fakePin struct {
	Profile string
	For     time.Duration
}

var fakeNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newFake() *fakeBackend {
	f := &fakeBackend{
		hub:        NewHub(8, 4, func() time.Time { return fakeNow }),
		quarantine: map[string]time.Time{},
	}
	f.status = Status{
		At: fakeNow, State: "connected", Ready: true,
		SIM:           SIMInfo{Method: "applet", IMSI: Ptr("262011*******90"), ICCID: Ptr("8949020**********890")},
		Registration:  Registration{Status: Ptr("home"), PLMN: Ptr("26201"), Operator: Ptr("Telekom.de"), Tech: Ptr("LTE")},
		Signal:        Signal{RSRP: Ptr(-88.0), SINR: Ptr(15.0), Bars: Ptr(4)},
		ActiveProfile: Ptr("home"),
		Link:          Link{Up: true, IP: Ptr("10.0.0.2")},
		Threat:        Threat{Level: "none"},
		SwitchBudget:  SwitchBudget{Max: 4, Window: "1h0m0s"},
	}
	f.profiles = []ProfileView{
		{Name: "home", Active: true, Eligible: true, Score: Score{Total: 80}},
		{Name: "roam", Eligible: true, Score: Score{Total: 60}},
		{Name: "backup", Eligible: false},
	}
	for i := 1; i <= 7; i++ {
		f.decisions = append(f.decisions, Decision{Seq: uint64(i), Time: fakeNow.Add(time.Duration(i) * time.Minute), Kind: "stay"})
	}
	return f
}

func (f *fakeBackend) Status(ctx context.Context) (Status, error) {
	f.mu.Lock()
	st, err, p, block := f.status, f.failWith, f.panicOn, f.block
	f.mu.Unlock()
	if p == "status" {
		panic("fake: status exploded")
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return Status{}, ctx.Err()
		}
	}
	return st, err
}

func (f *fakeBackend) Profiles(context.Context) ([]ProfileView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.profiles, f.failWith
}

func (f *fakeBackend) Decisions(_ context.Context, q DecisionQuery) ([]Decision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Decision
	for _, d := range f.decisions {
		if d.Seq > q.After && !d.Time.Before(q.Since) && len(out) < q.Limit {
			out = append(out, d)
		}
	}
	return out, f.failWith
}

func (f *fakeBackend) Subscribe(ctx context.Context, after uint64) (<-chan Event, func(), error) {
	return f.hub.Subscribe(ctx, after)
}

func (f *fakeBackend) check(profile string) error {
	names := profileList(f.profiles)
	if !slices.Contains(names, profile) {
		e := &RefusedError{Code: CodeUnknownProfile, Message: "no profile " + profile}
		if !f.omitNames {
			e.Profiles = names
		}
		return e
	}
	if until, ok := f.quarantine[profile]; ok {
		return &RefusedError{Code: CodeQuarantined, Message: profile + " is quarantined after a failed switch", RetryAt: until}
	}
	if !f.capUntil.IsZero() {
		return &RefusedError{Code: CodeSwitchCap, Message: "4 switches in the last hour", RetryAt: f.capUntil}
	}
	return nil
}

func (f *fakeBackend) Switch(_ context.Context, profile, reason string) (Ack, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(profile); err != nil {
		return Ack{}, err
	}
	f.switches = append(f.switches, profile+"/"+reason)
	return Ack{}, nil
}

func (f *fakeBackend) Pin(_ context.Context, profile string, d time.Duration) (Ack, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(profile); err != nil {
		return Ack{}, err
	}
	f.pins = append(f.pins, fakePin{profile, d})
	return Ack{}, nil
}

func (f *fakeBackend) Unpin(context.Context) (Ack, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unpins++
	return Ack{Status: "done", Message: "unpinned"}, nil
}

func (f *fakeBackend) AckThreat(_ context.Context, reason string) (Ack, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acks = append(f.acks, reason)
	return Ack{Op: "threat_ack", Status: "done", Message: "tamper alarm acknowledged"}, nil
}

func (f *fakeBackend) Ready() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready
}

func (f *fakeBackend) set(fn func(f *fakeBackend)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}
