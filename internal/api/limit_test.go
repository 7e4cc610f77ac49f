package api

import (
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// testClock is a settable clock for Config.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A client hammering the TCP listener with bad tokens writes one WARN line
// per LogEvery, not one per request; the metric still counts every one.
func TestAuthFailuresLoggedAtBoundedRate(t *testing.T) {
	clk := &testClock{t: fakeNow}
	s, logs := newTestServer(t, newFake(), func(c *Config) { c.Now = clk.Now; c.LogEvery = 10 * time.Second })
	for range 100 {
		if rec := do(s.RemoteHandler(), "POST", "/v1/unpin", "", "Authorization", "Bearer nope"); rec.Code != 401 {
			t.Fatal(rec.Code)
		}
	}
	if n := strings.Count(logs.String(), "refused unauthenticated request"); n != 1 {
		t.Fatalf("%d WARN lines for 100 refusals, want 1:\n%s", n, logs)
	}
	clk.Add(10 * time.Second)
	do(s.RemoteHandler(), "POST", "/v1/unpin", "")
	if l := logs.String(); strings.Count(l, "refused unauthenticated request") != 2 || !strings.Contains(l, "suppressed=99") {
		t.Fatalf("after the interval: %s", l)
	}
	m := do(s.LocalHandler(), "GET", "/metrics", "").Body.String()
	if !strings.Contains(m, `imsid_api_auth_failures_total{reason="wrong"} 100`) || !strings.Contains(m, `imsid_api_auth_failures_total{reason="missing"} 1`) {
		t.Errorf("auth failures not all counted:\n%s", m)
	}
}

// fakeListener hands out the conns (or errors) pushed into it.
type fakeListener struct {
	conns  chan net.Conn
	errs   chan error
	closed chan struct{}
	once   sync.Once
}

func newFakeListener() *fakeListener {
	return &fakeListener{conns: make(chan net.Conn), errs: make(chan error), closed: make(chan struct{})}
}

func (l *fakeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *fakeListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8787} }

// At most n connections are held; the next Accept waits until one closes,
// and Close ends a waiting Accept.
func TestLimitListener(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := newFakeListener()
		logs := &logBuf{}
		ll := newLimitListener(inner, 2, slog.New(slog.NewTextHandler(logs, nil)), newRateLog(time.Now, time.Minute))
		accepted := make(chan net.Conn, 8)
		go func() {
			for {
				c, err := ll.Accept()
				if errors.Is(err, net.ErrClosed) {
					close(accepted)
					return
				}
				if err != nil {
					continue
				}
				accepted <- c
			}
		}()
		var clients []net.Conn
		push := func() {
			a, b := net.Pipe()
			clients = append(clients, b)
			inner.conns <- a
		}
		push()
		push()
		first := <-accepted
		second := <-accepted
		// A third: the limit holds it in the backlog (the inner Accept is
		// not even called).
		third := make(chan struct{})
		go func() { push(); close(third) }()
		synctest.Wait()
		select {
		case <-third:
			t.Fatal("a third connection was taken past the limit of 2")
		default:
		}
		first.Close()
		<-third
		(<-accepted).Close()
		second.Close()
		// Accept errors are logged at WARN, at a bounded rate.
		for range 5 {
			inner.errs <- &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
		}
		if n := strings.Count(logs.String(), "level=WARN msg=\"api: accept\""); n != 1 {
			t.Errorf("%d WARN lines for 5 accept errors, want 1:\n%s", n, logs)
		}
		ll.Close()
		if _, ok := <-accepted; ok {
			t.Fatal("accepted after close")
		}
		if _, err := ll.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Fatal(err)
		}
		for _, c := range clients {
			c.Close()
		}
	})
}
