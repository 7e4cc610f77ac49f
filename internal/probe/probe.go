package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
)

// DefaultTCPPort is used for a TCP target given without a port.
const DefaultTCPPort = "443"

// DialFunc opens a connection; tests inject one, production uses net.Dialer.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Prober runs one probe round over the configured targets. It implements
// switcher.Prober. Safe for concurrent use.
type Prober struct {
	http    []string
	tcp     []string
	timeout time.Duration
	dial    DialFunc
	client  *http.Client
	now     func() time.Time
}

// Option configures a Prober.
type Option func(*options)

type options struct {
	iface string
	dial  DialFunc
	now   func() time.Time
}

// WithInterface binds every probe socket to the named interface (e.g.
// wwan0) with SO_BINDTODEVICE, so the probe tests the cellular path even
// when another uplink holds the default route. Linux only; it needs
// CAP_NET_RAW.
func WithInterface(name string) Option { return func(o *options) { o.iface = name } }

// WithDial replaces the dialer (tests).
func WithDial(d DialFunc) Option { return func(o *options) { o.dial = d } }

// WithNow sets the clock used to time probes (default time.Now).
func WithNow(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New builds a Prober from the config's probes section: HTTP URLs must
// answer 204; the "icmp" hosts are probed with a TCP connect to port 443
// (or the port given as host:port).
func New(p profiles.Probes, opts ...Option) *Prober {
	o := options{now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	timeout := p.Timeout.Std()
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	if o.dial == nil {
		dl := &net.Dialer{Timeout: timeout}
		if o.iface != "" {
			dl.Control = bindToDevice(o.iface)
		}
		o.dial = dl.DialContext
	}
	pr := &Prober{http: append([]string(nil), p.HTTP...), timeout: timeout, dial: o.dial, now: o.now}
	for _, h := range p.ICMP {
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(strings.Trim(h, "[]"), DefaultTCPPort)
		}
		pr.tcp = append(pr.tcp, h)
	}
	pr.client = &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:       o.dial,
			DisableKeepAlives: true, // each round must prove the path anew
			Proxy:             nil,  // a proxy would test another path
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return pr
}

// Probe runs one round: targets in order until one passes. The round
// passes if any target does; the latency is that target's. With no targets
// configured it passes (nothing to prove) and says so.
func (p *Prober) Probe(ctx context.Context, _ string) (switcher.ProbeResult, error) {
	if len(p.http) == 0 && len(p.tcp) == 0 {
		return switcher.ProbeResult{OK: true, Detail: "no probe targets configured"}, nil
	}
	// Every target at once: the first to answer proves the path and
	// cancels the rest; a dead path costs one timeout, not one per target.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		i   int
		lat time.Duration
		err error
	}
	n := len(p.http) + len(p.tcp)
	ch := make(chan answer, n)
	for i, u := range p.http {
		go func() { lat, err := p.probeHTTP(rctx, u); ch <- answer{i, lat, err} }()
	}
	for i, a := range p.tcp {
		go func() { lat, err := p.probeTCP(rctx, a); ch <- answer{len(p.http) + i, lat, err} }()
	}
	details := make([]string, n)
	var ok *answer
	for range n { // every goroutine is waited for before returning
		a := <-ch
		if a.err == nil && ok == nil {
			ok = &a
			cancel()
			continue
		}
		if a.err != nil {
			details[a.i] = a.err.Error()
		}
	}
	switch {
	case ok != nil:
		return switcher.ProbeResult{OK: true, Latency: ok.lat}, nil
	case ctx.Err() != nil:
		return switcher.ProbeResult{}, ctx.Err()
	}
	return switcher.ProbeResult{OK: false, Detail: strings.Join(slices.DeleteFunc(details, func(s string) bool { return s == "" }), "; ")}, nil
}

func (p *Prober) probeHTTP(ctx context.Context, u string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", u, err)
	}
	start := p.now()
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s: %s", u, classify(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		// A captive portal or a carrier's "top up" page answers 200.
		return 0, fmt.Errorf("%s: http %d, want 204", u, resp.StatusCode)
	}
	return p.now().Sub(start), nil
}

func (p *Prober) probeTCP(ctx context.Context, addr string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	start := p.now()
	c, err := p.dial(ctx, "tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("tcp %s: %s", addr, classify(err))
	}
	c.Close()
	return p.now().Sub(start), nil
}

// classify shortens an error to what an operator needs ("timeout",
// "connection refused", "no route"), keeping the text otherwise.
func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "no route"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "dns: " + dns.Err
	}
	return err.Error()
}
