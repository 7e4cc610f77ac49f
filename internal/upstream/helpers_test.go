package upstream

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/imsid/imsid/internal/store"
	"github.com/imsid/imsid/profiles"
)

var t0 = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

// instantClock never makes anyone wait: After advances its time by d and
// fires at once, so retry schedules run in no real time and stay visible.
type instantClock struct {
	mu     sync.Mutex
	now    time.Time
	waited []time.Duration
	// limit, if set, is where time stops: a wait past it never fires and
	// parked is closed, telling the test the Reporter went idle.
	limit  time.Time
	parked chan struct{}
}

func (c *instantClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *instantClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.limit.IsZero() && c.now.Add(d).After(c.limit) {
		select {
		case <-c.parked:
		default:
			close(c.parked)
		}
		return nil
	}
	c.now = c.now.Add(d)
	c.waited = append(c.waited, d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// recordingBackoff computes the real policy's delay, records it, and waits
// only a millisecond; hook runs first so a test can change the world (take
// the server down) between attempts.
type recordingBackoff struct {
	mu     sync.Mutex
	policy retryablehttp.Backoff
	hook   func(resp *http.Response)
	delays []time.Duration
	codes  []int
}

func (b *recordingBackoff) backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	b.outer(min, max, attempt, resp)
	return time.Millisecond
}

// outer is for the Reporter's own wait between give-ups, which goes through
// its (instant) Clock, so the real delay is returned.
func (b *recordingBackoff) outer(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if b.hook != nil {
		b.hook(resp)
	}
	d := b.policy(min, max, attempt, resp)
	code := 0
	if resp != nil {
		code = resp.StatusCode
	}
	b.mu.Lock()
	b.delays = append(b.delays, d)
	b.codes = append(b.codes, code)
	b.mu.Unlock()
	return d
}

// fleet is a fake fleet server that can be taken down and brought back on
// the same address.
type fleet struct {
	t       *testing.T
	mu      sync.Mutex
	srv     *httptest.Server
	addr    string
	reqs    int
	respond func(n int, r *http.Request, events []Event) (int, http.Header)
	check   func(r *http.Request, body []byte) error
	events  []Event
	batches []int
	ctypes  []string
	handler http.Handler
}

func newFleet(t *testing.T) *fleet {
	f := &fleet{t: t}
	f.handler = http.HandlerFunc(f.serve)
	f.srv = httptest.NewServer(f.handler)
	f.addr = f.srv.Listener.Addr().String()
	t.Cleanup(func() { f.Down() })
	return f
}

func (f *fleet) URL() string { return "http://" + f.addr + "/v1/events" }

func (f *fleet) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs++
	if f.check != nil {
		if err := f.check(r, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
	}
	var batch []Event
	if err := json.Unmarshal(body, &batch); err != nil {
		http.Error(w, "bad batch: "+err.Error(), http.StatusBadRequest)
		return
	}
	code := http.StatusOK
	if f.respond != nil {
		var h http.Header
		code, h = f.respond(f.reqs, r, batch)
		for k, v := range h {
			w.Header()[k] = v
		}
	}
	if code/100 == 2 {
		f.events = append(f.events, batch...)
		f.batches = append(f.batches, len(batch))
		f.ctypes = append(f.ctypes, r.Header.Get("Content-Type"))
	}
	w.WriteHeader(code)
}

// Down closes the listener: connections are refused until Up.
func (f *fleet) Down() {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	f.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Up serves again on the same address.
func (f *fleet) Up() {
	l, err := net.Listen("tcp", f.addr)
	if err != nil {
		f.t.Errorf("relisten on %s: %v", f.addr, err)
		return
	}
	srv := httptest.NewUnstartedServer(f.handler)
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
}

func (f *fleet) received() ([]Event, []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Event(nil), f.events...), append([]int(nil), f.batches...)
}

// watchedOutbox is the real store, telling the test each time an Ack lands.
type watchedOutbox struct {
	*store.Store
	acked chan struct{}
}

func (w *watchedOutbox) Ack(seqs ...uint64) error {
	err := w.Store.Ack(seqs...)
	select {
	case w.acked <- struct{}{}:
	default:
	}
	return err
}

func newOutbox(t *testing.T, opts ...store.Option) *watchedOutbox {
	t.Helper()
	s, err := store.Open(t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &watchedOutbox{Store: s, acked: make(chan struct{}, 1)}
}

func baseConfig(url string) profiles.Upstream {
	return profiles.Upstream{
		URL: url, Auth: profiles.AuthBearer, HashIdentities: true,
		FleetSalt: "0123456789abcdef", BatchSize: 10, OutboxMax: 1000,
		Heartbeat:    profiles.Duration(5 * time.Minute),
		Timeout:      profiles.Duration(5 * time.Second),
		AdvisoryPoll: profiles.Duration(15 * time.Minute),
	}
}

type seqData struct {
	N int `json:"n"`
}
