package apiclient

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/profiles"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const testToken = "client-test-token-0123456789"

// fakeBackend answers from fixed data and refuses like the daemon would.
type fakeBackend struct {
	hub        *api.Hub
	subscribed chan uint64
	mu         sync.Mutex
	cancels    []func()
	got        []string
}

func (f *fakeBackend) Status(context.Context) (api.Status, error) {
	return api.Status{At: testNow, State: "connected", Ready: true, ActiveProfile: api.Ptr("a")}, nil
}

func (f *fakeBackend) Profiles(context.Context) ([]api.ProfileView, error) {
	return []api.ProfileView{{Name: "a", Active: true}, {Name: "b"}}, nil
}

func (f *fakeBackend) Decisions(_ context.Context, q api.DecisionQuery) ([]api.Decision, error) {
	var out []api.Decision
	for i := uint64(1); i <= 5 && len(out) < q.Limit; i++ {
		if i > q.After {
			out = append(out, api.Decision{Seq: i, Time: testNow, Kind: "stay"})
		}
	}
	return out, nil
}

func (f *fakeBackend) Subscribe(ctx context.Context, after uint64) (<-chan api.Event, func(), error) {
	ch, cancel, err := f.hub.Subscribe(ctx, after)
	f.mu.Lock()
	f.cancels = append(f.cancels, cancel)
	f.mu.Unlock()
	f.subscribed <- after
	return ch, cancel, err
}

func (f *fakeBackend) Switch(_ context.Context, p, reason string) (api.Ack, error) {
	switch p {
	case "a", "b":
	case "capped":
		return api.Ack{}, &api.RefusedError{Code: api.CodeSwitchCap, Message: "cap", RetryAt: testNow.Add(12 * time.Minute)}
	default:
		return api.Ack{}, &api.RefusedError{Code: api.CodeUnknownProfile, Message: "no such profile"}
	}
	f.mu.Lock()
	f.got = append(f.got, "switch "+p+" "+reason)
	f.mu.Unlock()
	return api.Ack{}, nil
}

func (f *fakeBackend) Pin(_ context.Context, p string, d time.Duration) (api.Ack, error) {
	f.mu.Lock()
	f.got = append(f.got, "pin "+p+" "+d.String())
	f.mu.Unlock()
	return api.Ack{}, nil
}

func (f *fakeBackend) Unpin(context.Context) (api.Ack, error) { return api.Ack{Status: "done"}, nil }
func (f *fakeBackend) AckThreat(_ context.Context, reason string) (api.Ack, error) {
	return api.Ack{Op: "threat_ack", Status: "done", Reason: api.Ptr(reason)}, nil
}
func (f *fakeBackend) Ready() error { return nil }

func serve(t *testing.T) (*fakeBackend, string, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "apic")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &fakeBackend{hub: api.NewHub(16, 16, func() time.Time { return testNow }), subscribed: make(chan uint64, 16)}
	sock := filepath.Join(dir, "s")
	srv, err := api.New(f, api.Config{Socket: sock, Listen: "127.0.0.1:0", Token: testToken, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); f.hub.Close() })
	return f, sock, "http://" + srv.TCPAddr().String()
}

func TestClientOverSocket(t *testing.T) {
	f, sock, _ := serve(t)
	c, err := New(Options{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := t.Context()
	st, err := c.Status(ctx)
	if err != nil || st.State != "connected" || *st.ActiveProfile != "a" {
		t.Fatalf("%+v %v", st, err)
	}
	ps, err := c.Profiles(ctx)
	if err != nil || len(ps) != 2 || ps[1].Name != "b" {
		t.Fatalf("%+v %v", ps, err)
	}
	page, err := c.Decisions(ctx, DecisionQuery{Limit: 2, Cursor: "1", Since: "1h"})
	if err != nil || len(page.Decisions) != 2 || page.Decisions[0].Seq != 2 || !page.More || page.NextCursor != "3" {
		t.Fatalf("%+v %v", page, err)
	}
	if ack, err := c.Switch(ctx, "b", "test"); err != nil || ack.Op != "switch" || ack.Status != "accepted" {
		t.Fatalf("%+v %v", ack, err)
	}
	if ack, err := c.Pin(ctx, "b", 2*time.Hour); err != nil || ack.Until == nil || !ack.Until.Equal(testNow.Add(2*time.Hour)) {
		t.Fatalf("%+v %v", ack, err)
	}
	if ack, err := c.Unpin(ctx); err != nil || ack.Status != "done" {
		t.Fatalf("%+v %v", ack, err)
	}
	if err := c.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if want := []string{"switch b test", "pin b 2h0m0s"}; strings.Join(f.got, ",") != strings.Join(want, ",") {
		t.Errorf("backend got %q", f.got)
	}
}

func TestClientRefusals(t *testing.T) {
	_, sock, _ := serve(t)
	c, _ := New(Options{Socket: sock})
	_, err := c.Switch(t.Context(), "capped", "")
	var ae *APIError
	if !errors.As(err, &ae) || !errors.Is(err, ErrRefused) || ae.Info.Code != api.CodeSwitchCap || !ae.RetryAt().Equal(testNow.Add(12*time.Minute)) {
		t.Fatalf("err = %#v", err)
	}
	_, err = c.Switch(t.Context(), "zz", "")
	if !errors.As(err, &ae) || ae.Status != 422 || strings.Join(ae.Info.Profiles, ",") != "a,b" {
		t.Fatalf("err = %#v", err)
	}
	_, err = c.Decisions(t.Context(), DecisionQuery{Since: "yesterday"})
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Info.Field != "since" || errors.Is(err, ErrRefused) {
		t.Fatalf("err = %#v", err)
	}
}

func TestClientTCPToken(t *testing.T) {
	_, _, url := serve(t)
	anon, _ := New(Options{URL: url})
	if _, err := anon.Status(t.Context()); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("reads on TCP need the token by default: %v", err)
	}
	_, err := anon.Switch(t.Context(), "a", "")
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v", err)
	}
	wrong, _ := New(Options{URL: url, Token: "wrong-token-but-long-enough"})
	_, err = wrong.Switch(t.Context(), "a", "")
	if !errors.Is(err, ErrUnauthorized) || strings.Contains(err.Error(), "wrong-token") {
		t.Fatalf("err = %v", err)
	}
	good, _ := New(Options{URL: url + "/", Token: testToken})
	if _, err := good.Switch(t.Context(), "a", ""); err != nil {
		t.Fatal(err)
	}
}

func TestClientUnreachable(t *testing.T) {
	c, _ := New(Options{Socket: filepath.Join(t.TempDir(), "none.sock")})
	_, err := c.Status(t.Context())
	var ue *UnreachableError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnreachable) || ue.Reason != "not_running" || !strings.Contains(err.Error(), "none.sock") {
		t.Fatalf("err = %#v", err)
	}
	if strings.Contains(err.Error(), "http://imsid") {
		t.Errorf("the made-up socket host leaks into %q", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Status(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnreachable) {
		t.Errorf("a cancelled call is not the daemon's fault: %v", err)
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"ftp://gw", "gw:8787", "http://", "http://user:pw@gw:1", "%zz"} {
		if _, err := New(Options{URL: u}); err == nil {
			t.Errorf("%q accepted", u)
		} else if strings.Contains(err.Error(), "pw@") {
			t.Errorf("%q: credentials in %v", u, err)
		}
	}
}

func TestFollowResumes(t *testing.T) {
	f, sock, _ := serve(t)
	c, _ := New(Options{Socket: sock})
	var delays []time.Duration
	var mu sync.Mutex
	c.wait = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		delays = append(delays, d)
		mu.Unlock()
		return ctx.Err()
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := make(chan api.Event, 8)
	done := make(chan error, 1)
	go func() {
		done <- c.Follow(ctx, FollowOptions{}, func(ev api.Event) error { got <- ev; return nil })
	}()
	if after := <-f.subscribed; after != 0 {
		t.Fatalf("first subscribe after %d", after)
	}
	first, _ := f.hub.Publish(api.EventState, api.StateChange{From: "a", To: "b"})
	if ev := <-got; ev.ID != first.ID || ev.Type != api.EventState {
		t.Fatalf("got %+v", ev)
	}
	// Drop the stream; publish while the client is away.
	f.mu.Lock()
	cs := f.cancels
	f.mu.Unlock()
	for _, c := range cs {
		c()
	}
	second, _ := f.hub.Publish(api.EventLink, api.Link{Up: true})
	if after := <-f.subscribed; after != first.ID {
		t.Fatalf("resumed after %d, want %d", after, first.ID)
	}
	if ev := <-got; ev.ID != second.ID {
		t.Fatalf("missed the event published while away: %+v", ev)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow returned %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(delays) != 1 || delays[0] != 2*time.Second {
		t.Errorf("reconnect delays %v, want the daemon's 2s hint", delays)
	}
}

func TestFollowStopsOnUnauthorized(t *testing.T) {
	dir := t.TempDir()
	f := &fakeBackend{hub: api.NewHub(4, 4, nil), subscribed: make(chan uint64, 4)}
	srv, err := api.New(f, api.Config{Socket: filepath.Join(dir, "s"), Listen: "127.0.0.1:0", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, _ := New(Options{URL: "http://" + srv.TCPAddr().String()})
	err = c.Follow(t.Context(), FollowOptions{}, func(api.Event) error { return nil })
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v", err)
	}
}

func TestClientCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"ready"}`))
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	untrusting, _ := New(Options{URL: srv.URL})
	if err := untrusting.Ready(t.Context()); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("an unknown CA must fail: %v", err)
	}
	c, err := New(Options{URL: srv.URL, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{URL: srv.URL, CAFile: filepath.Join(t.TempDir(), "none")}); err == nil {
		t.Error("a missing CA file was accepted")
	}
}

// TestDefaultSocket holds DefaultSocket to the config's default, which this
// package does not import (imsictl would link the config parser).
func TestDefaultSocket(t *testing.T) {
	if got, want := DefaultSocket(), profiles.Defaults().API.Socket; got != want {
		t.Errorf("DefaultSocket() = %q, the config's default is %q", got, want)
	}
}
