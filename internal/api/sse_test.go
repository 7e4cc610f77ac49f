package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// streamWriter is an in-memory ResponseWriter whose body is a pipe, so a
// test reads SSE frames as the handler flushes them.
type streamWriter struct {
	hdr  http.Header
	code int
	pw   *io.PipeWriter
}

func (w *streamWriter) Header() http.Header         { return w.hdr }
func (w *streamWriter) WriteHeader(c int)           { w.code = c }
func (w *streamWriter) Write(b []byte) (int, error) { return w.pw.Write(b) }
func (w *streamWriter) Flush()                      {}

type stream struct {
	r      *bufio.Reader
	w      *streamWriter
	cancel context.CancelFunc
	done   chan struct{}
}

// openStream runs GET /v1/events on the unix socket's handler in the
// background.
func openStream(s *Server, hdr ...string) *stream {
	return openStreamOn(s.LocalHandler(), hdr...)
}

// openStreamOn runs GET /v1/events on h in the background.
func openStreamOn(h http.Handler, hdr ...string) *stream {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, "GET", "/v1/events", nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	st := &stream{r: bufio.NewReader(pr), w: &streamWriter{hdr: http.Header{}, pw: pw}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(st.done)
		h.ServeHTTP(st.w, req)
		pw.Close()
	}()
	return st
}

// frame reads one SSE frame (up to the blank line).
func (st *stream) frame(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := st.r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v (so far %q)", err, b.String())
		}
		if line == "\n" {
			return b.String()
		}
		b.WriteString(line)
	}
}

func (st *stream) event(t *testing.T) Event {
	t.Helper()
	f := st.frame(t)
	for line := range strings.SplitSeq(f, "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var ev Event
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatalf("data %q: %v", data, err)
			}
			if ev.ID != 0 && !strings.Contains(f, fmt.Sprintf("id: %d\n", ev.ID)) || !strings.Contains(f, "event: "+ev.Type+"\n") {
				t.Fatalf("frame %q: id/event lines do not match the data", f)
			}
			return ev
		}
	}
	t.Fatalf("frame without data: %q", f)
	return Event{}
}

func TestSSEStreamAndDisconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		s, _ := newTestServer(t, f, nil)
		st := openStream(s)
		if fr := st.frame(t); fr != "retry: 2000\n: connected\n" {
			t.Fatalf("preamble %q", fr)
		}
		if st.w.code != 200 || st.w.hdr.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("%d %v", st.w.code, st.w.hdr)
		}
		e1, _ := f.hub.Publish(EventState, StateChange{From: "connected", To: "switching", Event: "switch"})
		f.hub.Publish(EventPin, nil)
		got := st.event(t)
		if got.ID != e1.ID || got.Type != EventState || string(got.Data) != `{"from":"connected","to":"switching","event":"switch"}` {
			t.Fatalf("%+v", got)
		}
		if got = st.event(t); got.Type != EventPin || string(got.Data) != "null" {
			t.Fatalf("%+v", got)
		}
		// The client goes away: the handler ends and unsubscribes.
		st.cancel()
		io.Copy(io.Discard, st.r)
		<-st.done
		synctest.Wait()
		if n := f.hub.Subscribers(); n != 0 {
			t.Fatalf("%d subscribers left", n)
		}
	})
}

func TestSSEResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		s, _ := newTestServer(t, f, nil)
		var ids []uint64
		for i := range 5 {
			ev, _ := f.hub.Publish(EventDecision, Decision{Seq: uint64(i)})
			ids = append(ids, ev.ID)
		}
		resumeFrom := ids[2]
		for _, path := range []string{"/v1/events", fmt.Sprintf("/v1/events?after=%d", resumeFrom)} {
			// Last-Event-ID for EventSource clients, ?after= for the rest.
			pr, pw := io.Pipe()
			ctx, cancel := context.WithCancel(context.Background())
			req := httptest.NewRequestWithContext(ctx, "GET", path, nil)
			if path == "/v1/events" {
				req.Header.Set("Last-Event-ID", fmt.Sprint(resumeFrom))
			}
			st := &stream{r: bufio.NewReader(pr), w: &streamWriter{hdr: http.Header{}, pw: pw}, cancel: cancel, done: make(chan struct{})}
			go func() { defer close(st.done); s.LocalHandler().ServeHTTP(st.w, req); pw.Close() }()
			st.frame(t)
			for _, want := range ids[3:] {
				if got := st.event(t); got.ID != want {
					t.Fatalf("%s: replayed %d, want %d", path, got.ID, want)
				}
			}
			ev, _ := f.hub.Publish(EventLink, Link{Up: true})
			if got := st.event(t); got.ID != ev.ID {
				t.Fatalf("%s: live %d, want %d", path, got.ID, ev.ID)
			}
			ids = append(ids, ev.ID)
			st.cancel()
			io.Copy(io.Discard, st.r)
			<-st.done
		}
	})
}

func TestSSEGap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake() // replay buffer of 8
		s, _ := newTestServer(t, f, nil)
		first, _ := f.hub.Publish(EventLink, Link{})
		for range 10 {
			f.hub.Publish(EventLink, Link{})
		}
		st := openStream(s, "Last-Event-ID", fmt.Sprint(first.ID))
		st.frame(t)
		gap := st.event(t)
		var g Gap
		json.Unmarshal(gap.Data, &g)
		if gap.Type != EventGap || gap.ID != 0 || g.After != first.ID || g.Oldest != first.ID+3 {
			t.Fatalf("%+v %+v", gap, g)
		}
		if ev := st.event(t); ev.ID != first.ID+3 {
			t.Fatalf("after the gap: %d", ev.ID)
		}
		st.cancel()
		io.Copy(io.Discard, st.r)
		<-st.done

		// An ID from the future (another daemon run) is a gap too.
		st = openStream(s, "Last-Event-ID", fmt.Sprint(first.ID+1000))
		st.frame(t)
		if ev := st.event(t); ev.Type != EventGap {
			t.Fatalf("%+v", ev)
		}
		st.cancel()
		io.Copy(io.Discard, st.r)
		<-st.done
	})
}

func TestSSEHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		s, _ := newTestServer(t, f, func(c *Config) { c.Heartbeat = 15 * time.Second })
		st := openStream(s)
		st.frame(t)
		start := time.Now()
		if fr := st.frame(t); fr != ": heartbeat\n" {
			t.Fatalf("%q", fr)
		}
		if d := time.Since(start); d != 15*time.Second {
			t.Fatalf("heartbeat after %v", d)
		}
		st.cancel()
		io.Copy(io.Discard, st.r)
		<-st.done
	})
}

func TestSSEShutdownEndsStreams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		s, _ := newTestServer(t, f, nil)
		st := openStream(s)
		st.frame(t)
		s.Close()
		if _, err := io.ReadAll(st.r); err != nil {
			t.Fatal(err)
		}
		<-st.done
		synctest.Wait()
		if f.hub.Subscribers() != 0 {
			t.Fatal("subscriber left after shutdown")
		}
	})
}

// A client that stops reading never blocks Publish: the hub drops it, and
// its stream ends so it can resume from the replay buffer.
func TestSSESlowClientDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake() // subscriber buffer of 4
		s, _ := newTestServer(t, f, nil)
		st := openStream(s)
		st.frame(t)
		for range 50 {
			if _, err := f.hub.Publish(EventLink, Link{}); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if n := f.hub.Subscribers(); n != 0 {
			t.Fatalf("slow subscriber kept (%d)", n)
		}
		// What was buffered is delivered, then the stream ends.
		n := 0
		for {
			if _, err := st.r.ReadString('\n'); err != nil {
				break
			}
			n++
		}
		<-st.done
		if n == 0 {
			t.Fatal("nothing delivered")
		}
	})
}

func TestSSEOverTCP(t *testing.T) {
	f := newFake()
	s, _, _ := startServer(t, f, nil)
	req, _ := http.NewRequest("GET", "http://"+s.TCPAddr().String()+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	st := &stream{r: bufio.NewReader(resp.Body)}
	st.frame(t)
	ev, _ := f.hub.Publish(EventThreat, Threat{Level: "low", Scores: []ThreatScore{}})
	if got := st.event(t); got.ID != ev.ID {
		t.Fatalf("%+v", got)
	}
	// Shutdown disconnects the stream instead of waiting for it.
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v with a stream open", d)
	}
	if _, err := io.ReadAll(st.r); err != nil {
		t.Fatal(err)
	}
}

func TestSSEHead(t *testing.T) {
	f := newFake()
	s, _ := newTestServer(t, f, nil)
	rec := do(s.LocalHandler(), "HEAD", "/v1/events", "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/event-stream" || f.hub.Subscribers() != 0 {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
}

func TestSSEStreamLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		s, _ := newTestServer(t, f, func(c *Config) { c.MaxStreams = 2 })
		a, b := openStream(s), openStream(s)
		a.frame(t)
		b.frame(t)
		rec := do(s.LocalHandler(), "GET", "/v1/events", "")
		if e := errInfo(t, rec); rec.Code != 503 || e.Code != CodeTooManyStreams || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		a.cancel()
		io.Copy(io.Discard, a.r)
		<-a.done
		c := openStream(s) // a's slot is free again
		c.frame(t)
		for _, st := range []*stream{b, c} {
			st.cancel()
			io.Copy(io.Discard, st.r)
			<-st.done
		}
	})
}

// TCP readers have their own slots: filling them leaves the unix socket's
// streams available, and the 503 names the listener, not the modem.
func TestSSEStreamLimitPerListener(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		s, _ := newTestServer(t, f, func(c *Config) { c.MaxStreams = 1; c.MaxTCPStreams = 2 })
		auth := []string{"Authorization", "Bearer " + testToken}
		a, b := openStreamOn(s.RemoteHandler(), auth...), openStreamOn(s.RemoteHandler(), auth...)
		a.frame(t)
		b.frame(t)
		rec := do(s.RemoteHandler(), "GET", "/v1/events", "", auth...)
		e := errInfo(t, rec)
		if rec.Code != 503 || e.Code != CodeTooManyStreams || !strings.Contains(e.Message, "TCP listener") || strings.Contains(e.Message, "modem") {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		local := openStream(s) // the unix socket still has its slot
		local.frame(t)
		rec = do(s.LocalHandler(), "GET", "/v1/events", "")
		if e := errInfo(t, rec); rec.Code != 503 || !strings.Contains(e.Message, "unix socket") {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		for _, st := range []*stream{a, b, local} {
			st.cancel()
			io.Copy(io.Discard, st.r)
			<-st.done
		}
	})
}
