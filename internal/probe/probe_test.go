package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
	var got string
	p := New(cfg(nil, []string{"192.0.2.1", "[2001:db8::1]", "192.0.2.2:53"}), WithDial(func(_ context.Context, _, addr string) (net.Conn, error) {
		got += addr + " "
		return nil, &net.OpError{Op: "dial", Err: errTest}
	}))
	r, err := p.Probe(context.Background(), "p")
	if err != nil || r.OK {
		t.Fatalf("%+v %v", r, err)
	}
	if got != "192.0.2.1:443 [2001:db8::1]:443 192.0.2.2:53 " {
		t.Fatalf("dialled %q", got)
	}
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
