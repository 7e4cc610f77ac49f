package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "s3cret-token-0123456789"

// logBuf collects log output safely across goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newTestServer(t *testing.T, f *fakeBackend, mod func(*Config)) (*Server, *logBuf) {
	t.Helper()
	logs := &logBuf{}
	cfg := Config{
		Listen: "127.0.0.1:0", Token: testToken,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Now:    func() time.Time { return fakeNow },
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, logs
}

func do(h http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	req := httptest.NewRequest(method, path, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func errInfo(t *testing.T, rec *httptest.ResponseRecorder) ErrorInfo {
	t.Helper()
	var b ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("error body %q: %v", rec.Body, err)
	}
	if b.Error.Code == "" || b.Error.Message == "" {
		t.Fatalf("error body without code or message: %s", rec.Body)
	}
	return b.Error
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return v
}

func TestStatus(t *testing.T) {
	f := newFake()
	s, _ := newTestServer(t, f, nil)
	rec := do(s.LocalHandler(), "GET", "/v1/status", "")
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	st := decode[Status](t, rec)
	if st.State != "connected" || *st.ActiveProfile != "home" || *st.Signal.RSRP != -88 || *st.SIM.IMSI != "262011*******90" {
		t.Errorf("got %+v", st)
	}
	// Every key present; unknown values null; arrays never null.
	var raw map[string]any
	json.Unmarshal(rec.Body.Bytes(), &raw)
	for _, k := range []string{"modem", "sim", "registration", "signal", "active_profile", "pin", "link", "threat", "usage", "last_switch", "switch_budget"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	if raw["pin"] != nil || raw["usage"] == nil {
		t.Errorf("pin %v (want null), usage %v (want [])", raw["pin"], raw["usage"])
	}
	if !strings.Contains(rec.Body.String(), `"rssi_dbm":null`) {
		t.Errorf("unknown rssi should be null: %s", rec.Body)
	}
}

func TestProfiles(t *testing.T) {
	f := newFake()
	s, _ := newTestServer(t, f, nil)
	rec := do(s.LocalHandler(), "GET", "/v1/profiles", "")
	pl := decode[ProfileList](t, rec)
	if rec.Code != 200 || len(pl.Profiles) != 3 || pl.Profiles[0].Name != "home" || pl.Profiles[0].Reasons == nil {
		t.Fatalf("%d %+v", rec.Code, pl)
	}
	if f.profiles[0].Reasons != nil {
		t.Error("normalising mutated the backend's slice")
	}
	// "in 45m" in imsictl profiles counts from the daemon's clock, as in
	// status, so the list says when it was made.
	if !pl.At.Equal(fakeNow) {
		t.Errorf("at %v, want the server's now %v", pl.At, fakeNow)
	}
}

func TestDecisionsPaging(t *testing.T) {
	f := newFake()
	s, _ := newTestServer(t, f, nil)
	h := s.LocalHandler()
	var seqs []uint64
	cursor := ""
	for range 10 {
		rec := do(h, "GET", "/v1/decisions?limit=3&cursor="+cursor, "")
		if rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		p := decode[DecisionPage](t, rec)
		for _, d := range p.Decisions {
			seqs = append(seqs, d.Seq)
		}
		cursor = p.NextCursor
		if !p.More {
			break
		}
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5 6 7]" || cursor != "7" {
		t.Fatalf("seqs %v cursor %q", seqs, cursor)
	}
	// Polling past the end: empty page, same cursor, no more.
	p := decode[DecisionPage](t, do(h, "GET", "/v1/decisions?cursor=7", ""))
	if len(p.Decisions) != 0 || p.Decisions == nil || p.More || p.NextCursor != "7" {
		t.Fatalf("%+v", p)
	}
	// since as a duration back from now (fakeNow + 7 min is the newest).
	f.set(func(f *fakeBackend) {
		f.decisions = append(f.decisions, Decision{Seq: 8, Time: fakeNow.Add(-30 * time.Minute)})
	})
	p = decode[DecisionPage](t, do(h, "GET", "/v1/decisions?since="+fakeNow.Add(5*time.Minute).Format(time.RFC3339), ""))
	if len(p.Decisions) != 3 || p.Decisions[0].Seq != 5 {
		t.Fatalf("since RFC3339: %+v", p)
	}
	p = decode[DecisionPage](t, do(h, "GET", "/v1/decisions?since=1h", ""))
	if len(p.Decisions) != 8 {
		t.Fatalf("since 1h: %d", len(p.Decisions))
	}
	p = decode[DecisionPage](t, do(h, "GET", "/v1/decisions?since=10m", ""))
	if len(p.Decisions) != 7 {
		t.Fatalf("since 10m: %d", len(p.Decisions))
	}
}

func TestBadRequests(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, body, ctype string
		status                          int
		code, field                     string
	}{
		{"limit zero", "GET", "/v1/decisions?limit=0", "", "", 400, CodeInvalidField, "limit"},
		{"limit huge", "GET", "/v1/decisions?limit=501", "", "", 400, CodeInvalidField, "limit"},
		{"cursor junk", "GET", "/v1/decisions?cursor=abc", "", "", 400, CodeInvalidField, "cursor"},
		{"since junk", "GET", "/v1/decisions?since=yesterday", "", "", 400, CodeInvalidField, "since"},
		{"unknown param", "GET", "/v1/decisions?sinse=1h", "", "", 400, CodeUnknownField, "sinse"},
		{"malformed", "POST", "/v1/switch", `{"profile": "roam",}`, "", 400, CodeMalformedJSON, ""},
		{"truncated", "POST", "/v1/switch", `{"profile": "ro`, "", 400, CodeMalformedJSON, ""},
		{"not object", "POST", "/v1/switch", `["roam"]`, "", 400, CodeMalformedJSON, ""},
		{"trailing", "POST", "/v1/switch", `{"profile":"roam"} {}`, "", 400, CodeMalformedJSON, ""},
		{"unknown field", "POST", "/v1/switch", `{"profile":"roam","force":true}`, "", 400, CodeUnknownField, "force"},
		{"wrong type", "POST", "/v1/switch", `{"profile":7}`, "", 400, CodeInvalidField, "profile"},
		{"no profile", "POST", "/v1/switch", `{"reason":"x"}`, "", 400, CodeInvalidField, "profile"},
		{"control chars", "POST", "/v1/switch", `{"profile":"roam","reason":"a\u001b[31mb"}`, "", 400, CodeInvalidField, "reason"},
		{"bidi override", "POST", "/v1/switch", `{"profile":"roam","reason":"ok \u202egnp.exe"}`, "", 400, CodeInvalidField, "reason"},
		{"bidi isolate", "POST", "/v1/threat/ack", `{"reason":"checked \u2066x\u2069"}`, "", 400, CodeInvalidField, "reason"},
		{"line separator", "POST", "/v1/threat/ack", `{"reason":"a\u2028b"}`, "", 400, CodeInvalidField, "reason"},
		{"c1 control", "POST", "/v1/threat/ack", `{"reason":"a\u009bb"}`, "", 400, CodeInvalidField, "reason"},
		{"long reason", "POST", "/v1/switch", `{"profile":"roam","reason":"` + strings.Repeat("x", 201) + `"}`, "", 400, CodeInvalidField, "reason"},
		{"media type", "POST", "/v1/switch", `profile=roam`, "application/x-www-form-urlencoded", 415, CodeUnsupportedMedia, ""},
		{"too large", "POST", "/v1/switch", `{"profile":"roam","reason":"` + strings.Repeat("x", 70<<10) + `"}`, "", 413, CodeBodyTooLarge, ""},
		{"pin bad for", "POST", "/v1/pin", `{"profile":"roam","for":"2 hours"}`, "", 400, CodeInvalidField, "for"},
		{"pin negative", "POST", "/v1/pin", `{"profile":"roam","for":"-1h"}`, "", 400, CodeInvalidField, "for"},
		{"pin too long", "POST", "/v1/pin", `{"profile":"roam","for":"9000h"}`, "", 400, CodeInvalidField, "for"},
		{"pin for number", "POST", "/v1/pin", `{"profile":"roam","for":3600}`, "", 400, CodeInvalidField, "for"},
		{"unpin body", "POST", "/v1/unpin", `{"profile":"roam"}`, "", 400, CodeUnknownField, "profile"},
		{"not found", "GET", "/v2/status", "", "", 404, CodeNotFound, ""},
		{"wrong method", "POST", "/v1/status", "", "", 405, CodeMethodNotAllowed, ""},
		{"get switch", "GET", "/v1/switch", "", "", 405, CodeMethodNotAllowed, ""},
		{"events param", "GET", "/v1/events?from=3", "", "", 400, CodeUnknownField, "from"},
		{"events bad id", "GET", "/v1/events", "", "", 400, CodeInvalidField, "Last-Event-ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			s, _ := newTestServer(t, f, nil)
			hdr := []string{}
			if tc.ctype != "" {
				hdr = append(hdr, "Content-Type", tc.ctype)
			}
			if tc.name == "events bad id" {
				hdr = append(hdr, "Last-Event-ID", "x1")
			}
			rec := do(s.LocalHandler(), tc.method, tc.path, tc.body, hdr...)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			e := errInfo(t, rec)
			if e.Code != tc.code || e.Field != tc.field {
				t.Fatalf("code %q field %q, want %q %q: %s", e.Code, e.Field, tc.code, tc.field, e.Message)
			}
			if len(f.switches)+len(f.pins)+f.unpins != 0 {
				t.Fatal("a bad request reached the backend")
			}
		})
	}
}

func TestMalformedNamesOffset(t *testing.T) {
	s, _ := newTestServer(t, newFake(), nil)
	e := errInfo(t, do(s.LocalHandler(), "POST", "/v1/switch", `{"profile": roam}`))
	if !strings.Contains(e.Message, "offset 13") {
		t.Fatalf("message %q should name the offset", e.Message)
	}
	e = errInfo(t, do(s.LocalHandler(), "POST", "/v1/switch", `{"profile":"roam","x":1}`))
	if !strings.Contains(e.Message, `"x"`) || !strings.Contains(e.Message, "profile, reason") {
		t.Fatalf("message %q should name the field and the accepted ones", e.Message)
	}
}

func TestMethodNotAllowedAllow(t *testing.T) {
	s, _ := newTestServer(t, newFake(), nil)
	rec := do(s.LocalHandler(), "DELETE", "/v1/profiles", "")
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Fatalf("%d Allow=%q", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestSwitchAccepted(t *testing.T) {
	f := newFake()
	s, logs := newTestServer(t, f, nil)
	rec := do(s.LocalHandler(), "POST", "/v1/switch", `{"profile":"roam","reason":"maintenance"}`, "Content-Type", "application/json; charset=utf-8")
	if rec.Code != http.StatusAccepted {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	ack := decode[Ack](t, rec)
	if ack.Op != "switch" || *ack.Profile != "roam" || *ack.Reason != "maintenance" || ack.Status != "accepted" {
		t.Fatalf("%+v", ack)
	}
	if fmt.Sprint(f.switches) != "[roam/maintenance]" {
		t.Fatal(f.switches)
	}
	if !strings.Contains(logs.String(), "switch requested") {
		t.Errorf("mutation not logged: %s", logs)
	}
}

func TestPinAndUnpin(t *testing.T) {
	f := newFake()
	s, _ := newTestServer(t, f, nil)
	h := s.LocalHandler()
	rec := do(h, "POST", "/v1/pin", `{"profile":"roam","for":"2h"}`)
	ack := decode[Ack](t, rec)
	if rec.Code != 202 || ack.Until == nil || !ack.Until.Equal(fakeNow.Add(2*time.Hour)) {
		t.Fatalf("%d %+v", rec.Code, ack)
	}
	rec = do(h, "POST", "/v1/pin", `{"profile":"home"}`)
	if ack = decode[Ack](t, rec); rec.Code != 202 || ack.Until != nil {
		t.Fatalf("%d %+v", rec.Code, ack)
	}
	if fmt.Sprint(f.pins) != "[{roam 2h0m0s} {home 0s}]" {
		t.Fatal(f.pins)
	}
	for _, body := range []string{"", "{}"} {
		rec = do(h, "POST", "/v1/unpin", body)
		if rec.Code != 200 || decode[Ack](t, rec).Status != "done" {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	if f.unpins != 2 {
		t.Fatal(f.unpins)
	}
}

// Acknowledging a tamper alarm needs a reason, which is logged with the
// caller.
func TestAckThreat(t *testing.T) {
	f := newFake()
	s, logs := newTestServer(t, f, nil)
	h := s.LocalHandler()
	for _, body := range []string{"", "{}", `{"reason":"  "}`, `{"reason":"a\u0007b"}`} {
		if rec := do(h, "POST", "/v1/threat/ack", body); rec.Code != http.StatusBadRequest {
			t.Fatalf("body %q: %d %s", body, rec.Code, rec.Body)
		}
	}
	rec := do(h, "POST", "/v1/threat/ack", `{"reason":"modem replaced, ticket 4711"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if ack := decode[Ack](t, rec); ack.Op != "threat_ack" || ack.Status != "done" || *ack.Reason != "modem replaced, ticket 4711" {
		t.Fatalf("%+v", ack)
	}
	if fmt.Sprint(f.acks) != "[modem replaced, ticket 4711]" {
		t.Fatal(f.acks)
	}
	if !strings.Contains(logs.String(), "threat acknowledgement requested") {
		t.Errorf("not audited: %s", logs)
	}
}

func TestRefusals(t *testing.T) {
	until := fakeNow.Add(90 * time.Minute)
	for _, tc := range []struct {
		name     string
		setup    func(*fakeBackend)
		path     string
		body     string
		status   int
		code     string
		retry    string // Retry-After
		profiles string
	}{
		{"unknown profile", nil, "/v1/switch", `{"profile":"nope"}`, 422, CodeUnknownProfile, "", "[home roam backup]"},
		{"unknown profile, backend lists none", func(f *fakeBackend) { f.omitNames = true }, "/v1/pin", `{"profile":"nope"}`, 422, CodeUnknownProfile, "", "[home roam backup]"},
		{"quarantined", func(f *fakeBackend) { f.quarantine["roam"] = until }, "/v1/switch", `{"profile":"roam"}`, 409, CodeQuarantined, "5400", "[]"},
		{"cap", func(f *fakeBackend) { f.capUntil = fakeNow.Add(10*time.Second + time.Millisecond) }, "/v1/pin", `{"profile":"roam","for":"1h"}`, 409, CodeSwitchCap, "11", "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			if tc.setup != nil {
				f.set(tc.setup)
			}
			s, _ := newTestServer(t, f, nil)
			rec := do(s.LocalHandler(), "POST", tc.path, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			e := errInfo(t, rec)
			if e.Code != tc.code || rec.Header().Get("Retry-After") != tc.retry || fmt.Sprint(e.Profiles) != tc.profiles {
				t.Fatalf("code %s Retry-After %q profiles %v: %s", e.Code, rec.Header().Get("Retry-After"), e.Profiles, rec.Body)
			}
			if tc.retry != "" && (e.RetryAt == nil || e.RetryAfter == nil || fmt.Sprint(*e.RetryAfter) != tc.retry) {
				t.Fatalf("retry_at missing: %s", rec.Body)
			}
			if tc.code == CodeUnknownProfile && f.omitNames && !strings.Contains(e.Message, "home, roam, backup") {
				t.Fatalf("message %q should list the profiles", e.Message)
			}
			if tc.code == CodeUnknownProfile && !f.omitNames && e.Message != "no profile nope" {
				t.Fatalf("message %q: the backend's own message should be kept as is", e.Message)
			}
		})
	}
}

func TestBackendErrors(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("modem lost: %w", ErrUnavailable), 503, CodeUnavailable},
		{&ValidationError{Field: "profile", Message: "too odd"}, 400, CodeInvalidField},
		{errors.New("disk on fire"), 500, CodeInternal},
	} {
		f := newFake()
		f.failWith = tc.err
		s, _ := newTestServer(t, f, nil)
		for _, p := range []string{"/v1/status", "/v1/profiles", "/v1/decisions"} {
			rec := do(s.LocalHandler(), "GET", p, "")
			if e := errInfo(t, rec); rec.Code != tc.status || e.Code != tc.code {
				t.Errorf("%s with %v: %d %s", p, tc.err, rec.Code, rec.Body)
			}
		}
	}
}

func TestBackendTimeout(t *testing.T) {
	f := newFake()
	f.block = make(chan struct{}) // never answers
	s, _ := newTestServer(t, f, func(c *Config) { c.BackendTimeout = time.Millisecond })
	rec := do(s.LocalHandler(), "GET", "/v1/status", "")
	if e := errInfo(t, rec); rec.Code != 503 || e.Code != CodeTimeout {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestPanicRecovered(t *testing.T) {
	f := newFake()
	f.panicOn = "status"
	s, logs := newTestServer(t, f, nil)
	rec := do(s.LocalHandler(), "GET", "/v1/status", "")
	if e := errInfo(t, rec); rec.Code != 500 || e.Code != CodeInternal {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "fake: status exploded") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("panic not logged with its stack: %s", logs)
	}
	// The server still serves.
	f.set(func(f *fakeBackend) { f.panicOn = "" })
	if rec := do(s.LocalHandler(), "GET", "/v1/status", ""); rec.Code != 200 {
		t.Fatal(rec.Code)
	}
	if !strings.Contains(do(s.LocalHandler(), "GET", "/metrics", "").Body.String(), `imsid_api_requests_total{code="500",route="GET /v1/status"} 1`) {
		t.Error("the 500 was not counted")
	}
}

func TestHealthAndReady(t *testing.T) {
	f := newFake()
	s, _ := newTestServer(t, f, nil)
	h := s.LocalHandler()
	if rec := do(h, "GET", "/healthz", ""); rec.Code != 200 || decode[Health](t, rec).Status != "ok" {
		t.Fatal(rec.Code, rec.Body)
	}
	if rec := do(h, "GET", "/readyz", ""); rec.Code != 200 || decode[Health](t, rec).Status != "ready" {
		t.Fatal(rec.Code, rec.Body)
	}
	f.set(func(f *fakeBackend) { f.ready = errors.New("modem not initialised yet") })
	rec := do(h, "GET", "/readyz", "")
	if e := errInfo(t, rec); rec.Code != 503 || e.Code != CodeNotReady || !strings.Contains(e.Message, "modem not initialised") {
		t.Fatal(rec.Code, rec.Body)
	}
	s.Close()
	if rec := do(h, "GET", "/healthz", ""); rec.Code != 503 {
		t.Fatal("healthz after shutdown:", rec.Code)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, c := range map[string]Config{
		"nothing":       {},
		"tcp no token":  {Listen: "127.0.0.1:0"},
		"short token":   {Listen: "127.0.0.1:0", Token: "short"},
		"bad addr":      {Listen: "8080", Token: testToken},
		"cert only":     {Listen: "127.0.0.1:0", Token: testToken, TLSCert: "c.pem"},
		"tls no listen": {Socket: "/tmp/x.sock", TLSCert: "c.pem", TLSKey: "k.pem"},
	} {
		if _, err := New(newFake(), c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(nil, Config{Socket: "/tmp/x"}); err == nil {
		t.Error("nil backend accepted")
	}
}
