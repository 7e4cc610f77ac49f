package upstream

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imsid/imsid/profiles"
)

func TestRetryAfterAndJitter(t *testing.T) {
	now := t0
	jb := &jitterBackoff{now: func() time.Time { return now }, rng: rand.New(rand.NewPCG(3, 4))}
	resp := func(code int, ra string) *http.Response {
		h := http.Header{}
		if ra != "" {
			h.Set("Retry-After", ra)
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	for _, tc := range []struct {
		name string
		resp *http.Response
		want time.Duration
	}{
		{"503 seconds", resp(503, "7"), 7 * time.Second},
		{"429 seconds", resp(429, "0"), 0},
		{"429 http-date", resp(429, now.Add(90*time.Second).Format(http.TimeFormat)), 90 * time.Second},
		{"503 date in the past", resp(503, now.Add(-time.Hour).Format(http.TimeFormat)), 0},
		{"capped", resp(503, "999999"), MaxRetryAfter},
		{"capped date", resp(503, now.Add(48*time.Hour).Format(http.TimeFormat)), MaxRetryAfter},
	} {
		if got := jb.backoff(time.Second, time.Minute, 1, tc.resp); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	// Without Retry-After (or on other codes) it is exponential, jittered
	// within [d/2, d], and capped.
	for attempt := range 12 {
		for _, r := range []*http.Response{nil, resp(500, "5"), resp(503, "soon")} {
			d := jb.backoff(time.Second, time.Minute, attempt, r)
			full := min(time.Second<<attempt, time.Minute)
			if d < full/2 || d > full {
				t.Errorf("attempt %d: %s outside [%s, %s]", attempt, d, full/2, full)
			}
		}
	}
}

func TestHashIdentity(t *testing.T) {
	salt := []byte("fleet-salt-0123456789")
	a := HashIdentity(salt, "001010123456789")
	if len(a) != HashLen || strings.Contains(a, "123456789") {
		t.Fatalf("hash %q", a)
	}
	if HashIdentity(salt, " 001010123456789 ") != a {
		t.Error("whitespace changes the hash")
	}
	if HashIdentity([]byte("other-salt-0123456789"), "001010123456789") == a {
		t.Error("salt does not change the hash")
	}
	if HashIdentity(salt, "8949000000000000001F") != HashIdentity(salt, "8949000000000000001") ||
		HashIdentity(salt, "89490000000000000abc") != HashIdentity(salt, "89490000000000000ABC") {
		t.Error("ICCID normalisation")
	}
	cfg := profiles.Upstream{HashIdentities: true, FleetSalt: profiles.Secret(salt)}
	if NewIdentities(cfg).Export("001010123456789") != a || NewIdentities(cfg).Export("") != "" {
		t.Error("Identities.Export hashed form")
	}
	cfg.HashIdentities = false
	if NewIdentities(cfg).Export("001010123456789") != "001010123456789" {
		t.Error("clear when configured")
	}
}

func TestNewEvent(t *testing.T) {
	ev, err := NewEvent("gw", TypeLinkChanged, t0.In(time.FixedZone("x", 3600)), LinkChanged{Up: true, Profile: "home"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ev)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"specversion", "id", "source", "type", "time", "datacontenttype", "data"} {
		if _, ok := m[k]; !ok {
			t.Errorf("attribute %s missing in %s", k, b)
		}
	}
	if m["time"] != "2026-11-22T03:00:00Z" || m["source"] != "imsid/gw" {
		t.Errorf("event %s", b)
	}
	if _, err := NewEvent("", TypeSwitch, t0, nil); err == nil {
		t.Error("empty device id accepted")
	}
	if _, err := NewEvent("gw", TypeSwitch, t0, func() {}); err == nil {
		t.Error("unencodable data accepted")
	}
}

// roundTripper serves requests in-process, so the test can run in a
// synctest bubble where time is fake.
type roundTripper struct{ h http.Handler }

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	rt.h.ServeHTTP(w, r)
	return w.Result(), nil
}

func TestHeartbeatsOnSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []Heartbeat
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var batch []Event
			_ = json.Unmarshal(body, &batch)
			mu.Lock()
			for _, ev := range batch {
				var hb Heartbeat
				_ = json.Unmarshal(ev.Data, &hb)
				if ev.Type == TypeHeartbeat {
					got = append(got, hb)
				}
			}
			mu.Unlock()
		})
		ob := newOutbox(t)
		cfg := baseConfig("http://127.0.0.1/v1/events")
		r, err := New(cfg, "gw", ob, WithTransport(roundTripper{h}),
			WithHeartbeatData(func() Heartbeat { return Heartbeat{Active: "home", State: "connected"} }))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = r.Run(ctx); close(done) }()
		time.Sleep(16 * time.Minute) // fake time inside the bubble
		synctest.Wait()
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 3 {
			t.Fatalf("%d heartbeats in 16 min at 5 min", len(got))
		}
		if got[2].UptimeS != 900 || got[0].Active != "home" || got[0].OutboxLen != 0 {
			t.Errorf("heartbeats %+v", got)
		}
	})
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "-1", "Fri, 31 Dec 1999 23:59:59 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "soon", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		resp := &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {v}}}
		d, ok := retryAfter(resp, t0)
		if ok && (d < 0 || d > MaxRetryAfter) {
			t.Fatalf("Retry-After %q gave %s", v, d)
		}
	})
}
