package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imsid/imsid/profiles"
)

func cfg(http []string, tcp []string) profiles.Probes {
	return profiles.Probes{HTTP: http, ICMP: tcp, Timeout: profiles.Duration(2 * time.Second)}
}

func TestProbe(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer ok.Close()
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("top up here")) }))
	defer portal.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, ok.URL, http.StatusFound)
	}))
	defer redirect.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := closed.Addr().String()
	closed.Close()

	for _, tc := range []struct {
		name       string
		http, tcp  []string
		ok         bool
		detailPart string
	}{
		{"204 passes", []string{ok.URL}, nil, true, ""},
		{"captive portal fails", []string{portal.URL}, nil, false, "http 200, want 204"},
		{"a redirect is not followed", []string{redirect.URL}, nil, false, "http 302"},
		{"fallback to a later target", []string{portal.URL, ok.URL}, nil, true, ""},
		{"tcp connect passes", nil, []string{l.Addr().String()}, true, ""},
		{"tcp refused", nil, []string{refused}, false, "connection refused"},
		{"http fails, tcp passes", []string{portal.URL}, []string{l.Addr().String()}, true, ""},
		{"no targets", nil, nil, true, "no probe targets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(cfg(tc.http, tc.tcp)).Probe(context.Background(), "p")
			if err != nil {
				t.Fatal(err)
			}
			if r.OK != tc.ok || !strings.Contains(r.Detail, tc.detailPart) {
				t.Fatalf("got %+v", r)
			}
		})
	}
}

func TestProbeTCPDefaultPort(t *testing.T) {
	var mu sync.Mutex
	var got []string
	p := New(cfg(nil, []string{"192.0.2.1", "[2001:db8::1]", "192.0.2.2:53"}), WithDial(func(_ context.Context, _, addr string) (net.Conn, error) {
		mu.Lock()
		got = append(got, addr)
		mu.Unlock()
		return nil, &net.OpError{Op: "dial", Err: errTest}
	}))
	r, err := p.Probe(context.Background(), "p")
	if err != nil || r.OK {
		t.Fatalf("%+v %v", r, err)
	}
	slices.Sort(got)
	if want := []string{"192.0.2.1:443", "192.0.2.2:53", "[2001:db8::1]:443"}; !slices.Equal(got, want) {
		t.Fatalf("dialled %q, want %q", got, want)
	}
}

// The targets are probed at once: a dead path costs one timeout, not one
// per target, and the first answer ends the round.
func TestProbeTargetsInParallel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := cfg(nil, []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"})
		c.Timeout = profiles.Duration(5 * time.Second)
		hang := func(ctx context.Context, _, _ string) (net.Conn, error) { <-ctx.Done(); return nil, ctx.Err() }
		start := time.Now()
		r, err := New(c, WithDial(hang)).Probe(context.Background(), "p")
		if err != nil || r.OK {
			t.Fatalf("%+v %v", r, err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Fatalf("a dead path took %s for 3 targets, want one timeout (5s)", d)
		}
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		one := func(ctx context.Context, _, addr string) (net.Conn, error) {
			if addr == "192.0.2.2:443" {
				return a, nil
			}
			<-ctx.Done()
			return nil, ctx.Err()
		}
		start = time.Now()
		if r, err := New(c, WithDial(one)).Probe(context.Background(), "p"); err != nil || !r.OK {
			t.Fatalf("%+v %v", r, err)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("one live target took %s, want at once", d)
		}
	})
}

type testErr struct{}

func (testErr) Error() string { return "unreachable" }

var errTest = testErr{}

func TestProbeContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(cfg([]string{"http://192.0.2.1/"}, nil)).Probe(ctx, "p"); err == nil {
		t.Fatal("want the context's error")
	}
}

// countConn counts the TCP payload a round sends and receives.
type countConn struct {
	net.Conn
	sent, recv *int
	mu         *sync.Mutex
}

func (c countConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	*c.recv += n
	c.mu.Unlock()
	return n, err
}

func (c countConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.mu.Lock()
	*c.sent += n
	c.mu.Unlock()
	return n, err
}

// What a round costs in data, which docs/config.md quotes for
// probes.interval: the HTTP exchange of one round against a 204 endpoint
// (the default URL's length) is 224 B of TCP payload; with the TCP/IP
// headers of its ~10 packets (handshake, request, answer, close, acks)
// and a real endpoint's Date and policy headers, about 0.8 kB. The bound
// keeps the documented day and month figures true.
func TestProbeRoundBytes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	var sent, recv int
	var mu sync.Mutex
	d := &net.Dialer{}
	p := New(cfg([]string{"http://connectivitycheck.gstatic.com/generate_204"}, nil), WithDial(func(ctx context.Context, network, _ string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, srv.Listener.Addr().String())
		if err != nil {
			return nil, err
		}
		return countConn{Conn: c, sent: &sent, recv: &recv, mu: &mu}, nil
	}))
	r, err := p.Probe(context.Background(), "home")
	if err != nil || !r.OK {
		t.Fatalf("probe: %+v %v", r, err)
	}
	mu.Lock()
	defer mu.Unlock()
	// A real server adds a Date and maybe a Server header: allow for them.
	if total := sent + recv; total > 256 {
		t.Errorf("a round carries %d B of HTTP (sent %d, received %d); docs/config.md says about 224 B, 0.76 kB with TCP/IP", total, sent, recv)
	}
	t.Logf("HTTP payload per round: sent %d B, received %d B", sent, recv)
}
