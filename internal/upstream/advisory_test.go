package upstream

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/profiles"
)

var (
	advSeed = []byte("imsid-advisory-test-key-32-bytes")
	advPriv = ed25519.NewKeyFromSeed(advSeed)
	advPub  = advPriv.Public().(ed25519.PublicKey)
)

func signed(payload string) Envelope {
	return Envelope{
		Payload:   base64.StdEncoding.EncodeToString([]byte(payload)),
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(advPriv, []byte(payload))),
	}
}

func payload(fields map[string]any) string {
	p := map[string]any{
		"id": "adv-1", "issued": "2026-11-22T02:00:00Z", "expires": "2026-11-23T02:00:00Z",
		"scope": "plmn", "key": "26201", "action": "quarantine",
	}
	for k, v := range fields {
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	b, _ := json.Marshal(p)
	return string(b)
}

func TestVerifyAdvisory(t *testing.T) {
	now := t0
	tampered := signed(payload(nil))
	tampered.Payload = base64.StdEncoding.EncodeToString([]byte(payload(map[string]any{"key": "26202"})))
	otherKey := ed25519.NewKeyFromSeed([]byte("another-key-another-key-32-bytes"))
	foreign := Envelope{Payload: signed(payload(nil)).Payload,
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(otherKey, []byte(payload(nil))))}

	for _, tc := range []struct {
		name string
		env  Envelope
		want error
		msg  string
	}{
		{"good quarantine", signed(payload(nil)), nil, ""},
		{"good raise threat on a cell", signed(payload(map[string]any{"scope": "cell", "key": "26201/1A2B", "action": "raise_threat", "level": "high"})), nil, ""},
		{"good region", signed(payload(map[string]any{"scope": "region", "key": "eu-west.berlin"})), nil, ""},
		{"unsigned", Envelope{Payload: signed(payload(nil)).Payload}, ErrUnsigned, ""},
		{"tampered payload", tampered, ErrBadSignature, ""},
		{"signed by another key", foreign, ErrBadSignature, ""},
		{"signature not base64", Envelope{Payload: signed(payload(nil)).Payload, Signature: "!!"}, ErrBadSignature, ""},
		{"payload not base64", Envelope{Payload: "%%", Signature: signed(payload(nil)).Signature}, ErrMalformed, ""},
		{"expired", signed(payload(map[string]any{"issued": "2026-11-20T00:00:00Z", "expires": "2026-11-21T00:00:00Z"})), ErrExpired, ""},
		{"release is loosening", signed(payload(map[string]any{"action": "release"})), ErrLoosening, "action"},
		{"lower threat is loosening", signed(payload(map[string]any{"action": "raise_threat", "level": "none"})), ErrLoosening, "level"},
		{"raise without a level", signed(payload(map[string]any{"action": "raise_threat"})), ErrLoosening, "level"},
		{"level on a quarantine", signed(payload(map[string]any{"level": "high"})), ErrMalformed, "level"},
		{"unknown field", signed(payload(map[string]any{"allowlist": true})), ErrMalformed, "allowlist"},
		{"bad plmn key", signed(payload(map[string]any{"key": "2620"})), ErrMalformed, "key"},
		{"bad cell key", signed(payload(map[string]any{"scope": "cell", "key": "26201"})), ErrMalformed, "key"},
		{"bad scope", signed(payload(map[string]any{"scope": "planet"})), ErrMalformed, "scope"},
		{"no id", signed(payload(map[string]any{"id": nil})), ErrMalformed, "id"},
		{"no expiry", signed(payload(map[string]any{"expires": nil})), ErrMalformed, "expires"},
		{"expires before issued", signed(payload(map[string]any{"expires": "2026-11-22T01:00:00Z"})), ErrMalformed, "expires"},
		{"everlasting", signed(payload(map[string]any{"expires": "2027-11-22T01:00:00Z"})), ErrMalformed, "expires"},
		{"issued in the future", signed(payload(map[string]any{"issued": "2026-11-22T04:00:00Z", "expires": "2026-11-22T05:00:00Z"})), ErrMalformed, "issued"},
		{"not an object", signed(`[1,2]`), ErrMalformed, ""},
		{"duplicate key", signed(`{"id":"adv-1","issued":"2026-11-22T02:00:00Z","expires":"2026-11-23T02:00:00Z","scope":"plmn","key":"26201","key":"26202","action":"quarantine"}`), ErrMalformed, "twice"},
		{"upper-case key", signed(`{"id":"adv-1","issued":"2026-11-22T02:00:00Z","expires":"2026-11-23T02:00:00Z","scope":"plmn","KEY":"26201","action":"quarantine"}`), ErrMalformed, `"KEY"`},
		{"mixed-case key beside the real one", signed(`{"id":"adv-1","issued":"2026-11-22T02:00:00Z","expires":"2026-11-23T02:00:00Z","scope":"plmn","key":"26201","Key":"26202","action":"quarantine"}`), ErrMalformed, `"Key"`},
		{"trailing data", signed(payload(nil) + `{}`), ErrMalformed, "trailing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := VerifyAdvisory(advPub, tc.env, now)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if !a.Active(now) || a.Active(a.Expires) {
					t.Errorf("Active wrong for %+v", a)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err %q does not name %q", err, tc.msg)
			}
		})
	}
	if _, err := VerifyAdvisory(nil, signed(payload(nil)), now); !errors.Is(err, ErrNoKey) {
		t.Errorf("no key: %v", err)
	}
	a, _ := VerifyAdvisory(advPub, signed(payload(map[string]any{"scope": "cell", "key": "26201/1A2B"})), now)
	if a.Key != "26201/1a2b" {
		t.Errorf("cell key not normalised: %q", a.Key)
	}
}

func TestPullMergesTightenOnly(t *testing.T) {
	var list []Envelope
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/advisories" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(advisoryList{Advisories: list})
	}))
	defer srv.Close()
	cfg := baseConfig(srv.URL + "/v1/events")
	cfg.AdvisoryKey = []byte(advPub)
	clk := &instantClock{now: t0}
	var pushed []Advisory
	r, err := New(cfg, "gw", newOutbox(t), WithClock(clk), WithOnAdvisories(func(a []Advisory) { pushed = a }))
	if err != nil {
		t.Fatal(err)
	}
	list = []Envelope{
		signed(payload(nil)),
		signed(payload(map[string]any{"id": "adv-2", "action": "raise_threat", "level": "medium", "scope": "region", "key": "berlin"})),
		{Payload: signed(payload(map[string]any{"id": "adv-3"})).Payload}, // unsigned
		signed(payload(map[string]any{"id": "adv-4", "action": "unquarantine"})),
	}
	active, err := r.Pull(context.Background())
	if len(active) != 2 || active[0].ID != "adv-1" || active[1].Level != LevelMedium {
		t.Fatalf("active = %+v", active)
	}
	var ae *AdvisoryError
	if !errors.As(err, &ae) || !errors.Is(err, ErrUnsigned) || !errors.Is(err, ErrLoosening) {
		t.Fatalf("err = %v, want the unsigned and the loosening one named", err)
	}
	// Every rejection names the advisory it rejects, never "id ?".
	for _, id := range []string{"(id adv-3)", "(id adv-4)"} {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("err = %v: lacks %s", err, id)
		}
	}
	if len(pushed) != 2 {
		t.Errorf("callback got %d", len(pushed))
	}

	// Re-sending an ID with an earlier expiry or a lower level is refused;
	// extending or raising is accepted.
	list = []Envelope{
		signed(payload(map[string]any{"expires": "2026-11-22T06:00:00Z"})),
		signed(payload(map[string]any{"id": "adv-2", "action": "raise_threat", "level": "low", "scope": "region", "key": "berlin"})),
	}
	active, err = r.Pull(context.Background())
	if !errors.Is(err, ErrLoosening) || len(active) != 2 || active[1].Level != LevelMedium || !active[0].Expires.Equal(t0.Add(23*time.Hour)) {
		t.Fatalf("loosening re-send: active %+v, err %v", active, err)
	}
	list = []Envelope{signed(payload(map[string]any{"id": "adv-2", "action": "raise_threat", "level": "critical", "scope": "region", "key": "berlin"}))}
	if active, err = r.Pull(context.Background()); err != nil || active[1].Level != LevelCritical {
		t.Fatalf("raise: %+v, %v", active, err)
	}
	// After expiry nothing is active.
	if got := r.Advisories(t0.Add(48 * time.Hour)); len(got) != 0 {
		t.Errorf("active after expiry: %+v", got)
	}

	// A restart with the fleet unreachable keeps them: they come back from
	// the state file, verified again.
	srv.Close()
	r2, err := New(cfg, "gw", r.ob, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	if got := r2.Advisories(clk.Now()); len(got) != 2 || got[1].Level != LevelCritical {
		t.Errorf("restored after restart: %+v", got)
	}
	// A tampered state file restores nothing it cannot verify.
	as := r.ob.(AdvisoryStore)
	raw, _ := as.Advisories()
	var envs []Envelope
	_ = json.Unmarshal(raw, &envs)
	envs[0].Payload = base64.StdEncoding.EncodeToString([]byte(payload(map[string]any{"key": "99999"})))
	raw, _ = json.Marshal(envs)
	_ = as.SetAdvisories(raw)
	r3, _ := New(cfg, "gw", r.ob, WithClock(clk))
	if got := r3.Advisories(clk.Now()); len(got) != 1 {
		t.Errorf("restored from a tampered file: %+v", got)
	}
}

func TestPullWithoutKey(t *testing.T) {
	r, err := New(baseConfig("http://127.0.0.1:1/v1/events"), "gw", newOutbox(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Pull(context.Background()); !errors.Is(err, ErrNoKey) {
		t.Errorf("err = %v", err)
	}
}

func FuzzVerifyAdvisory(f *testing.F) {
	f.Add([]byte(payload(nil)))
	f.Add([]byte(payload(map[string]any{"action": "raise_threat", "level": "high", "scope": "cell", "key": "310260/ff"})))
	f.Add([]byte(`{"id":"x","issued":"2026-11-22T02:00:00Z","expires":"2026-11-22T02:00:01Z","scope":"region","key":"a","action":"quarantine"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		a, err := VerifyAdvisory(advPub, signed(string(p)), t0)
		if err != nil {
			return
		}
		if !a.Active(t0) {
			t.Fatalf("accepted an advisory not active now: %+v", a)
		}
		if a.Action != ActionQuarantine && (a.Action != ActionRaiseThreat || a.Level.Rank() == 0) {
			t.Fatalf("accepted a non-tightening advisory: %+v", a)
		}
		if a.Expires.Sub(a.Issued) > MaxAdvisoryTTL {
			t.Fatalf("accepted an over-long advisory: %+v", a)
		}
	})
}

// Key rotation: an envelope naming a key id is verified with that key only;
// one without, with any configured key; stored advisories signed with a key
// still configured survive a restart with a new primary key.
func TestAdvisoryKeyRotation(t *testing.T) {
	next := ed25519.NewKeyFromSeed([]byte("imsid-next-fleet-key-32-bytes-ok"))
	nextPub := next.Public().(ed25519.PublicKey)
	signWith := func(k ed25519.PrivateKey, kid, p string) Envelope {
		return Envelope{Payload: base64.StdEncoding.EncodeToString([]byte(p)),
			Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(k, []byte(p))), KeyID: kid}
	}
	ks := KeySet{{Key: advPub}, {ID: "2027", Key: nextPub}}
	for name, tc := range map[string]struct {
		env  Envelope
		want error
	}{
		"old key, no kid":         {signWith(advPriv, "", payload(nil)), nil},
		"next key, no kid":        {signWith(next, "", payload(nil)), nil},
		"next key, its kid":       {signWith(next, "2027", payload(nil)), nil},
		"old key under next's id": {signWith(advPriv, "2027", payload(nil)), ErrBadSignature},
		"unknown kid":             {signWith(next, "2030", payload(nil)), ErrUnknownKey},
	} {
		if _, err := VerifyAdvisoryKeys(ks, tc.env, t0); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}

	var list []Envelope
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(advisoryList{Advisories: list})
	}))
	defer srv.Close()
	cfg := baseConfig(srv.URL + "/v1/events")
	cfg.AdvisoryKey = []byte(advPub)
	clk := &instantClock{now: t0}
	ob := newOutbox(t)
	r, err := New(cfg, "gw", ob, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	list = []Envelope{signed(payload(nil))}
	if active, err := r.Pull(context.Background()); err != nil || len(active) != 1 {
		t.Fatalf("%v %v", active, err)
	}
	srv.Close()
	// The fleet rotates: the new key becomes primary, the old one stays
	// listed for the transition.
	cfg.AdvisoryKey = []byte(nextPub)
	cfg.AdvisoryKeys = []profiles.AdvisoryKey{{ID: "2026", Key: profiles.PublicKey(advPub)}}
	r2, _ := New(cfg, "gw", ob, WithClock(clk))
	if got := r2.Advisories(clk.Now()); len(got) != 1 {
		t.Fatalf("rotation shed the stored advisory: %+v", got)
	}
	// Once the old key is dropped, what only it signed is gone.
	cfg.AdvisoryKeys = nil
	r3, _ := New(cfg, "gw", ob, WithClock(clk))
	if got := r3.Advisories(clk.Now()); len(got) != 0 {
		t.Fatalf("kept an advisory no configured key signed: %+v", got)
	}
}
