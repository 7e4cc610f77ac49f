package apiclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/imsid/imsid/internal/api/wire"
	"github.com/imsid/imsid/internal/modemreport"
)

// DefaultTimeout bounds each request (for an event stream: until the
// response headers arrive).
const DefaultTimeout = 10 * time.Second

// maxBody bounds a response body: the largest legitimate one is a page of
// 500 decisions, far below this.
const maxBody = 32 << 20

// Options say how to reach the daemon. The zero value is the default socket.
type Options struct {
	// URL, when set, reaches the daemon over TCP ("http://gw:8787",
	// "https://..."); Socket is then ignored.
	URL string
	// Socket is the unix socket path (default: the config default,
	// /run/imsid/imsid.sock).
	Socket string
	// Token is sent as "Authorization: Bearer" over TCP. It never appears
	// in an error or in Target.
	Token string
	// CAFile is a PEM file of CA certificates to trust for an https URL
	// (a gateway's self-signed certificate); empty: the system roots.
	CAFile string
	// Timeout bounds each request (default DefaultTimeout).
	Timeout time.Duration
	// UserAgent defaults to "imsid-apiclient".
	UserAgent string
}

// Client talks to one daemon. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	target  string
	token   string
	timeout time.Duration
	ua      string
	tcp     bool
	hc      *http.Client
	// wait sleeps between event-stream reconnects; tests replace it.
	wait func(ctx context.Context, d time.Duration) error
}

// New checks o and builds a Client. Nothing is dialled until a request.
func New(o Options) (*Client, error) {
	c := &Client{token: o.Token, timeout: o.Timeout, ua: o.UserAgent, wait: sleepCtx}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.ua == "" {
		c.ua = "imsid-apiclient"
	}
	tr := &http.Transport{
		MaxIdleConns:        4,
		IdleConnTimeout:     30 * time.Second,
		TLSHandshakeTimeout: c.timeout,
		ForceAttemptHTTP2:   true,
	}
	if o.URL != "" {
		u, err := url.Parse(o.URL)
		if err != nil {
			return nil, fmt.Errorf("apiclient: URL %q: %w", o.URL, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("apiclient: URL %q: want http:// or https://", o.URL)
		}
		if u.Host == "" {
			return nil, fmt.Errorf("apiclient: URL %q: no host", o.URL)
		}
		if u.User != nil {
			return nil, fmt.Errorf("apiclient: URL %q: put the token in Options.Token, not in the URL", u.Redacted())
		}
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				return nil, fmt.Errorf("apiclient: CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("apiclient: CA file %s: no PEM certificate in it", o.CAFile)
			}
			tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		u.RawQuery, u.Fragment = "", ""
		c.base, c.target, c.tcp = u, u.String(), true
		d := &net.Dialer{Timeout: c.timeout}
		tr.DialContext = d.DialContext
		tr.Proxy = http.ProxyFromEnvironment
	} else {
		sock := o.Socket
		if sock == "" {
			sock = DefaultSocket()
		}
		c.base = &url.URL{Scheme: "http", Host: "imsid"}
		c.target = sock
		d := &net.Dialer{Timeout: c.timeout}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", sock)
		}
	}
	c.hc = &http.Client{Transport: tr}
	return c, nil
}

// DefaultSocket is the socket the daemon listens on unless configured
// otherwise (profiles.Defaults().API.Socket, which TestDefaultSocket holds it
// to: this package does not import the config parser, so imsictl does not
// link it).
func DefaultSocket() string { return "/run/imsid/imsid.sock" }

// Target is the socket path or URL this client uses (never the token).
func (c *Client) Target() string { return c.target }

// OverTCP reports whether the client uses a URL rather than the socket.
func (c *Client) OverTCP() bool { return c.tcp }

// Close releases idle connections.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// Status is GET /v1/status.
func (c *Client) Status(ctx context.Context) (wire.Status, error) {
	var st wire.Status
	err := c.do(ctx, "status", http.MethodGet, "/v1/status", nil, nil, &st)
	return st, err
}

// Profiles is GET /v1/profiles.
func (c *Client) Profiles(ctx context.Context) ([]wire.ProfileView, error) {
	pl, err := c.ProfileList(ctx)
	return pl.Profiles, err
}

// ProfileList is GET /v1/profiles with the daemon's time of the answer.
func (c *Client) ProfileList(ctx context.Context) (wire.ProfileList, error) {
	var pl wire.ProfileList
	err := c.do(ctx, "profiles", http.MethodGet, "/v1/profiles", nil, nil, &pl)
	return pl, err
}

// Threats is GET /v1/threats: the findings and the quarantines in force.
func (c *Client) Threats(ctx context.Context) (wire.ThreatList, error) {
	var l wire.ThreatList
	err := c.do(ctx, "threats", http.MethodGet, "/v1/threats", nil, nil, &l)
	return l, err
}

// AT is POST /v1/at: one AT command through the daemon's command queue.
func (c *Client) AT(ctx context.Context, command string) (wire.ATReply, error) {
	var r wire.ATReply
	err := c.do(ctx, "at", http.MethodPost, "/v1/at", nil, map[string]string{"command": command}, &r)
	return r, err
}

// Probe is POST /v1/probe: the daemon probes the modem through its own
// command queue and answers with the report imsictl probe prints (IMSI
// and ICCID masked).
func (c *Client) Probe(ctx context.Context) (modemreport.Report, error) {
	var r modemreport.Report
	err := c.do(ctx, "probe", http.MethodPost, "/v1/probe", nil, struct{}{}, &r)
	return r, err
}

// DecisionQuery selects a page of GET /v1/decisions. Zero fields are left
// to the daemon's defaults.
type DecisionQuery struct {
	// Since is an RFC 3339 time or a Go duration back from the daemon's
	// now ("2h").
	Since string
	// Cursor is a previous page's NextCursor.
	Cursor string
	// Limit is 1 to wire.MaxDecisionLimit.
	Limit int
}

// Decisions is GET /v1/decisions.
func (c *Client) Decisions(ctx context.Context, q DecisionQuery) (wire.DecisionPage, error) {
	v := url.Values{}
	if q.Since != "" {
		v.Set("since", q.Since)
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var p wire.DecisionPage
	err := c.do(ctx, "decisions", http.MethodGet, "/v1/decisions", v, nil, &p)
	return p, err
}

// Switch is POST /v1/switch; reason may be empty.
func (c *Client) Switch(ctx context.Context, profile, reason string) (wire.Ack, error) {
	body := map[string]string{"profile": profile}
	if reason != "" {
		body["reason"] = reason
	}
	var ack wire.Ack
	err := c.do(ctx, "switch", http.MethodPost, "/v1/switch", nil, body, &ack)
	return ack, err
}

// Pin is POST /v1/pin; d 0 pins until Unpin.
func (c *Client) Pin(ctx context.Context, profile string, d time.Duration) (wire.Ack, error) {
	body := map[string]string{"profile": profile}
	if d > 0 {
		body["for"] = d.String()
	}
	var ack wire.Ack
	err := c.do(ctx, "pin", http.MethodPost, "/v1/pin", nil, body, &ack)
	return ack, err
}

// Unpin is POST /v1/unpin.
func (c *Client) Unpin(ctx context.Context) (wire.Ack, error) {
	var ack wire.Ack
	err := c.do(ctx, "unpin", http.MethodPost, "/v1/unpin", nil, struct{}{}, &ack)
	return ack, err
}

// AckThreat is POST /v1/threat/ack: a person acknowledges a latched
// tamper alarm (a modem or SIM changed on purpose); reason is required.
func (c *Client) AckThreat(ctx context.Context, reason string) (wire.Ack, error) {
	var ack wire.Ack
	err := c.do(ctx, "threat ack", http.MethodPost, "/v1/threat/ack", nil, map[string]string{"reason": reason}, &ack)
	return ack, err
}

// Ready is GET /readyz: nil when the daemon is ready.
func (c *Client) Ready(ctx context.Context) error {
	var h wire.Health
	return c.do(ctx, "readyz", http.MethodGet, "/readyz", nil, nil, &h)
}

func (c *Client) newRequest(ctx context.Context, method, path string, q url.Values, body any) (*http.Request, error) {
	u := *c.base
	u.Path += path
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("apiclient: encoding the request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("apiclient: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

func (c *Client) do(ctx context.Context, op, method, path string, q url.Values, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.newRequest(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return c.transportError(ctx, err)
	}
	if resp.StatusCode >= 300 {
		return responseError(op, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("apiclient: %s: decoding the daemon's answer: %w", op, err)
	}
	return nil
}

// responseError decodes an error body; a body that is not ours (a proxy's
// HTML page) still gives the status.
func responseError(op string, status int, data []byte) *APIError {
	e := &APIError{Op: op, Status: status}
	var eb wire.ErrorBody
	if json.Unmarshal(data, &eb) == nil && (eb.Error.Code != "" || eb.Error.Message != "") {
		e.Info = eb.Error
		return e
	}
	e.Info.Message = strings.TrimSpace(string(bytes.ToValidUTF8(data[:min(len(data), 200)], nil)))
	return e
}

// transportError classifies a failure to exchange a request. The caller's
// own cancellation (Ctrl-C) is passed through untouched.
func (c *Client) transportError(ctx context.Context, err error) error {
	if errors.Is(err, context.Canceled) && context.Cause(ctx) == context.Canceled {
		return context.Canceled
	}
	reason := "network"
	var ne net.Error
	switch {
	case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
		reason = "not_running"
	case errors.Is(err, os.ErrPermission), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		reason = "permission"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		reason = "timeout"
		err = fmt.Errorf("no answer within %s", c.timeout)
	}
	return &UnreachableError{Target: c.target, Reason: reason, Err: stripURL(err)}
}

// stripURL drops net/http's `Get "http://imsid/v1/status":` and the
// dialler's "dial unix PATH:" prefixes: the first shows a made-up host for
// the socket, and the caller names the target itself.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" && oe.Err != nil {
		err = oe.Err
	}
	return err
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
