package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/profiles"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitDrained blocks until the outbox is empty after at least want events
// were published, or the deadline passes.
func waitDrained(t *testing.T, ctx context.Context, ob *watchedOutbox) {
	t.Helper()
	for ob.Len() > 0 {
		select {
		case <-ob.acked:
		case <-ctx.Done():
			t.Fatalf("outbox not drained: %d left", ob.Len())
		}
	}
}

func checkInOrder(t *testing.T, evs []Event, want int) {
	t.Helper()
	if len(evs) != want {
		t.Errorf("server received %d events, want %d", len(evs), want)
	}
	seen := map[string]bool{}
	for i, ev := range evs {
		var d seqData
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatalf("event %d data: %v", i, err)
		}
		if d.N != i {
			t.Fatalf("event %d carries n=%d: order broken or an event lost/duplicated", i, d.N)
		}
		if seen[ev.ID] {
			t.Fatalf("event id %s delivered twice", ev.ID)
		}
		seen[ev.ID] = true
	}
}

func TestOutageDeliversEverythingOnceInOrder(t *testing.T) {
	f := newFleet(t)
	clk := &instantClock{now: t0}
	f.respond = func(n int, _ *http.Request, _ []Event) (int, http.Header) {
		switch {
		case n <= 3:
			return http.StatusServiceUnavailable, http.Header{"Retry-After": {"2"}}
		case n == 4:
			date := clk.Now().Add(3 * time.Second).Format(http.TimeFormat)
			return http.StatusTooManyRequests, http.Header{"Retry-After": {date}}
		case n == 9:
			return http.StatusInternalServerError, nil
		}
		return http.StatusOK, nil
	}
	refused := 0
	rb := &recordingBackoff{}
	rb.hook = func(resp *http.Response) {
		switch {
		case resp != nil && resp.StatusCode == http.StatusTooManyRequests:
			f.Down()
		case resp == nil:
			if refused++; refused == 6 {
				f.Up()
			}
		}
	}
	ob := newOutbox(t)
	cfg := baseConfig(f.URL())
	cfg.BatchSize = 7
	cfg.TokenFile = writeFile(t, "token", "s3cret\n")
	r, err := New(cfg, "gw-1", ob, WithClock(clk), WithHeartbeat(0, nil), WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	jb := &jitterBackoff{now: clk.Now, rng: rand.New(rand.NewPCG(1, 2))}
	rb.policy = jb.backoff
	r.client.Backoff = rb.backoff
	r.o.backoff = rb.outer

	const before, during = 30, 40
	for i := range before {
		if _, err := r.Publish(TypeSwitch, seqData{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	for i := before; i < before+during; i++ {
		if _, err := r.Publish(TypeSwitch, seqData{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	waitDrained(t, ctx, ob)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	_ = r.Close() // idempotent

	evs, batches := f.received()
	checkInOrder(t, evs, before+during)
	for _, n := range batches {
		if n > cfg.BatchSize {
			t.Errorf("batch of %d events, batch size %d", n, cfg.BatchSize)
		}
	}
	if evs[0].SpecVersion != "1.0" || evs[0].Source != "imsid/gw-1" || evs[0].Type != TypeSwitch ||
		evs[0].DataContentType != "application/json" || evs[0].Time.IsZero() {
		t.Errorf("first event attributes: %+v", evs[0])
	}
	for _, ct := range f.ctypes {
		if ct != ContentTypeBatch {
			t.Errorf("Content-Type %q", ct)
		}
	}
	rb.mu.Lock()
	delays, codes := rb.delays, rb.codes
	rb.mu.Unlock()
	var sawSeconds, sawDate, sawRefused bool
	for i, d := range delays {
		switch codes[i] {
		case 503:
			sawSeconds = sawSeconds || d == 2*time.Second
		case 429:
			sawDate = sawDate || (d > 2*time.Second && d <= 3*time.Second)
		case 0:
			sawRefused = true
			if d > 5*time.Minute {
				t.Errorf("backoff %s above the cap", d)
			}
		}
	}
	if !sawSeconds || !sawDate || !sawRefused {
		t.Errorf("Retry-After seconds honoured %v, HTTP-date honoured %v, refused connections seen %v; delays %v codes %v",
			sawSeconds, sawDate, sawRefused, delays, codes)
	}
	st := r.Stats()
	if st.Sent != before+during || st.Queued != 0 || st.Rejected != 0 || st.Retries == 0 {
		t.Errorf("stats %+v", st)
	}
	t.Logf("%d requests, %d batches, %d retries, %d give-ups", f.reqs, len(batches), st.Retries, st.Failures)
}

func TestPermanentRejectDropsOnlyTheBadEvent(t *testing.T) {
	f := newFleet(t)
	f.respond = func(_ int, _ *http.Request, batch []Event) (int, http.Header) {
		for _, ev := range batch {
			if strings.Contains(string(ev.Data), `"n":3}`) {
				return http.StatusUnprocessableEntity, nil
			}
		}
		return http.StatusOK, nil
	}
	ob := newOutbox(t)
	cfg := baseConfig(f.URL())
	r, err := New(cfg, "gw-1", ob, WithHeartbeat(0, nil))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		_, _ = r.Publish(TypeLinkChanged, seqData{N: i})
	}
	// Garbage another writer put in the outbox must not wedge it either.
	_, _ = ob.Enqueue([]byte("not json"))
	if err := r.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	evs, _ := f.received()
	var got []int
	for _, ev := range evs {
		var d seqData
		_ = json.Unmarshal(ev.Data, &d)
		got = append(got, d.N)
	}
	want := []int{0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11}
	if len(got) != len(want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delivered %v, want %v", got, want)
		}
	}
	// 12 events at batch 10: [0-9] refused, [0-4] refused, [0,1] ok,
	// [2,3] refused, [2] ok, [3] dropped, [4] ok, then full batches again.
	f.mu.Lock()
	reqs := f.reqs
	f.mu.Unlock()
	if reqs > 9 {
		t.Errorf("%d requests to isolate one bad event among 12", reqs)
	}
	if st := r.Stats(); st.Rejected != 2 || st.Queued != 0 {
		t.Errorf("stats %+v, want 2 rejected (the 422 one and the garbage), none queued", st)
	}
}

func TestBearerTokenAndUnauthorizedKeepsEvents(t *testing.T) {
	f := newFleet(t)
	token := "t0ken"
	f.check = func(r *http.Request, _ []byte) error {
		if r.Header.Get("Authorization") != "Bearer "+token {
			return errors.New("bad token")
		}
		if r.Header.Get(HeaderDevice) != "gw-2" {
			return errors.New("no device header")
		}
		return nil
	}
	ob := newOutbox(t)
	cfg := baseConfig(f.URL())
	cfg.TokenFile = writeFile(t, "token", "wrong")
	r, err := New(cfg, "gw-2", ob, WithHeartbeat(0, nil), WithRetryMax(0))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = r.Publish(TypeHeartbeat, Heartbeat{})
	err = r.Flush(context.Background())
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 401 || se.Permanent() {
		t.Fatalf("Flush with a wrong token: %v", err)
	}
	if ob.Len() != 1 {
		t.Fatalf("a 401 must keep the events; queued %d", ob.Len())
	}
	cfg.TokenFile = writeFile(t, "token2", token)
	r, _ = New(cfg, "gw-2", ob, WithHeartbeat(0, nil))
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if evs, _ := f.received(); len(evs) != 1 || ob.Len() != 0 {
		t.Errorf("received %d, queued %d", len(evs), ob.Len())
	}
}

func TestHMACSignatureVerifies(t *testing.T) {
	f := newFleet(t)
	key := []byte("fleet-hmac-key-0123456789")
	var verified int
	f.check = func(r *http.Request, body []byte) error {
		err := Verify(key, r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), body, time.Now(), 5*time.Minute)
		if err == nil {
			verified++
			if Verify([]byte("other key"), r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), body, time.Now(), 5*time.Minute) == nil {
				return errors.New("a wrong key verified")
			}
			if Verify(key, r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), append(body, ' '), time.Now(), 5*time.Minute) == nil {
				return errors.New("a changed body verified")
			}
		}
		return err
	}
	ob := newOutbox(t)
	cfg := baseConfig(f.URL())
	cfg.Auth = profiles.AuthHMAC
	cfg.HMACKey = writeFile(t, "hmac", string(key)+"\n")
	r, err := New(cfg, "gw-3", ob, WithHeartbeat(0, nil))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_, _ = r.Publish(TypeThreatAlert, seqData{N: i})
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if verified != 1 || ob.Len() != 0 {
		t.Errorf("verified %d requests, queued %d", verified, ob.Len())
	}
	if err := Verify(key, "1", Sign(key, time.Unix(1, 0), nil), nil, time.Now(), time.Minute); !errors.Is(err, ErrSignatureStale) {
		t.Errorf("old timestamp: %v", err)
	}
	if err := Verify(key, "", "", nil, time.Now(), time.Minute); !errors.Is(err, ErrSignatureMissing) {
		t.Errorf("missing headers: %v", err)
	}
}

func TestNewRejectsBadFiles(t *testing.T) {
	ob := newOutbox(t)
	cfg := baseConfig("https://fleet.example/v1/events")
	cfg.TokenFile = filepath.Join(t.TempDir(), "missing")
	if _, err := New(cfg, "gw", ob); err == nil || !strings.Contains(err.Error(), "upstream.token_file") {
		t.Errorf("missing token file: %v", err)
	}
	cfg.TokenFile = writeFile(t, "empty", "  \n")
	if _, err := New(cfg, "gw", ob); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty token file: %v", err)
	}
	cfg.TokenFile = ""
	cfg.CAFile = writeFile(t, "ca.pem", "not pem")
	if _, err := New(cfg, "gw", ob); err == nil || !strings.Contains(err.Error(), "upstream.ca_file") {
		t.Errorf("bad CA: %v", err)
	}
	if _, err := New(profiles.Upstream{}, "gw", ob); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("no URL: %v", err)
	}
}

func TestRunCloseLifecycle(t *testing.T) {
	f := newFleet(t)
	ob := newOutbox(t)
	r, err := New(baseConfig(f.URL()), "gw", ob, WithHeartbeat(0, nil))
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan error, 1)
	go func() { started <- r.Run(context.Background()) }()
	_, _ = r.Publish(TypeHeartbeat, Heartbeat{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waitDrained(t, ctx, ob)
	if err := r.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: %v", err)
	}
	_ = r.Close()
	if err := <-started; err != nil {
		t.Errorf("Run: %v", err)
	}
	_ = r.Close()
	if err := r.Run(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v", err)
	}
}

// A fleet server that redirects (a moved endpoint, or a hijacked one) must
// not make the device re-send its token and batch to the redirect target.
func TestRedirectNotFollowed(t *testing.T) {
	target := newFleet(t)
	var leaked []string
	target.check = func(r *http.Request, _ []byte) error {
		leaked = append(leaked, r.Header.Get("Authorization"))
		return nil
	}
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		origin := newFleet(t)
		origin.respond = func(int, *http.Request, []Event) (int, http.Header) {
			return code, http.Header{"Location": {target.URL()}}
		}
		ob := newOutbox(t)
		cfg := baseConfig(origin.URL())
		cfg.TokenFile = writeFile(t, "token", "fleet-token-0123456789")
		r, err := New(cfg, "gw-2", ob, WithHeartbeat(0, nil), WithRetryMax(0))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = r.Publish(TypeHeartbeat, Heartbeat{})
		err = r.Flush(context.Background())
		var se *StatusError
		if !errors.As(err, &se) || se.Code != code || se.Permanent() {
			t.Fatalf("%d: Flush: %v", code, err)
		}
		if ob.Len() != 1 {
			t.Fatalf("%d: a redirect must keep the events; queued %d", code, ob.Len())
		}
	}
	target.mu.Lock()
	defer target.mu.Unlock()
	if target.reqs != 0 {
		t.Fatalf("the redirect target saw %d requests (Authorization %q)", target.reqs, leaked)
	}
}
