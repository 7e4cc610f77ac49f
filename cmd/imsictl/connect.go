package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/imsid/imsid/internal/api/wire"
	"github.com/imsid/imsid/internal/apiclient"
)

// globals are the flags every command accepts.
type globals struct {
	socket, url, token, tokenFile, caFile string
	timeout                               time.Duration
	json, noColor                         bool
}

// register adds the global flags to fs, keeping values already parsed
// (flags given before the command).
func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.socket, "socket", g.socket, "the daemon's unix socket `PATH` (env IMSICTL_SOCKET; default "+apiclient.DefaultSocket()+")")
	fs.StringVar(&g.url, "url", g.url, "reach the daemon over TCP at `URL` instead, e.g. http://gw:8787 (env IMSICTL_URL)")
	// The token's value is never a flag default: help would print it.
	fs.StringVar(&g.token, "token", g.token, "bearer `TOKEN` for --url (env IMSICTL_TOKEN; prefer --token-file: arguments show in ps)")
	fs.StringVar(&g.tokenFile, "token-file", g.tokenFile, "read the bearer token from `FILE` (env IMSICTL_TOKEN_FILE)")
	fs.StringVar(&g.caFile, "ca-file", g.caFile, "trust the CA certificates in `FILE` (PEM) for an https --url (env IMSICTL_CA_FILE)")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "give up on the daemon after `D` (default 10s)")
	fs.BoolVar(&g.json, "json", g.json, "print JSON (the API's documents) instead of text")
	fs.BoolVar(&g.noColor, "no-color", g.noColor, "no colour (also NO_COLOR); colour is only used on a terminal")
}

// connection resolves flags over environment variables.
type connection struct {
	opts      apiclient.Options
	tokenFrom string // where the token came from, for messages; never the token
}

// openWrtSocket is where the .ipk's config puts the socket.
const openWrtSocket = "/var/run/imsid/imsid.sock"

func (g *globals) resolve(e *env) (connection, error) {
	var c connection
	c.opts.Socket = firstNonEmpty(g.socket, e.getenv("IMSICTL_SOCKET"))
	c.opts.URL = firstNonEmpty(g.url, e.getenv("IMSICTL_URL"))
	if c.opts.Socket == "" && c.opts.URL == "" {
		// No system daemon at the default path: OpenWrt's (no /run, the
		// .ipk's config uses /var/run), else a try-out one (imsid
		// --simulate).
		if _, err := os.Stat(apiclient.DefaultSocket()); err != nil {
			if _, err := os.Stat(openWrtSocket); err == nil {
				c.opts.Socket = openWrtSocket
			} else if alt := wire.TryOutSocket(); trustedTryOut(alt, os.Getuid()) {
				c.opts.Socket = alt
			}
		}
	}
	c.opts.CAFile = firstNonEmpty(g.caFile, e.getenv("IMSICTL_CA_FILE"))
	c.opts.Timeout = g.timeout
	if g.timeout < 0 {
		return c, errors.New("--timeout must be positive")
	}
	c.opts.UserAgent = "imsictl/" + version
	switch {
	case g.token != "":
		c.opts.Token, c.tokenFrom = g.token, "--token"
	case g.tokenFile != "":
		t, err := readToken(g.tokenFile)
		if err != nil {
			return c, fmt.Errorf("--token-file: %w", err)
		}
		c.opts.Token, c.tokenFrom = t, "--token-file "+g.tokenFile
	case e.getenv("IMSICTL_TOKEN") != "":
		c.opts.Token, c.tokenFrom = strings.TrimSpace(e.getenv("IMSICTL_TOKEN")), "IMSICTL_TOKEN"
	case e.getenv("IMSICTL_TOKEN_FILE") != "":
		f := e.getenv("IMSICTL_TOKEN_FILE")
		t, err := readToken(f)
		if err != nil {
			return c, fmt.Errorf("IMSICTL_TOKEN_FILE: %w", err)
		}
		c.opts.Token, c.tokenFrom = t, "IMSICTL_TOKEN_FILE="+f
	}
	if c.opts.URL == "" {
		// The socket is protected by its file mode; a token there is never
		// needed, and not sending it keeps it off the wire.
		c.opts.Token = ""
	}
	if c.opts.Token != "" {
		if u, err := url.Parse(c.opts.URL); err == nil && strings.EqualFold(u.Scheme, "http") && !loopbackHost(u.Hostname()) {
			return c, fmt.Errorf("%w: %s is not a loopback address; use https:// (the daemon's api.tls_cert), or a tunnel to a loopback address", ErrPlaintextToken, u.Host)
		}
	}
	return c, nil
}

// ErrPlaintextToken: the bearer token would cross the network in clear.
var ErrPlaintextToken = errors.New("refusing to send the bearer token over plain http")

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// trustedTryOut reports whether the try-out socket at path (in the shared
// temporary directory, where any local user can create files) is the
// caller's own: a socket owned by uid that no other user can reach (mode
// 0600, or inside a directory only uid may enter). Anything else could be
// another user impersonating the daemon, and is not used.
func trustedTryOut(path string, uid int) bool {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != fs.ModeSocket {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) != uid {
		return false
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return true
	}
	di, err := os.Lstat(filepath.Dir(path))
	if err != nil || !di.IsDir() {
		return false
	}
	ds, ok := di.Sys().(*syscall.Stat_t)
	return ok && int(ds.Uid) == uid && di.Mode().Perm()&0o077 == 0
}

func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return t, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// dial builds the client for a daemon command, or reports why it cannot.
func dial(e *env, g *globals, name string) (*apiclient.Client, connection, int) {
	conn, err := g.resolve(e)
	if err == nil {
		var cl *apiclient.Client
		cl, err = apiclient.New(conn.opts)
		if err == nil {
			return cl, conn, exitOK
		}
	}
	fmt.Fprintf(e.stderr, "imsictl %s: %v\n", name, err)
	return nil, conn, exitUsage
}

// failure explains err for a person on stderr (and, with --json, as
// {"error": ...} on stdout) and returns the exit code.
func failure(e *env, g *globals, conn connection, name string, err error, hint func(*apiclient.APIError) string) int {
	info, code, text := explainDaemonErr(e, conn, name, err, hint)
	if g.json {
		writeJSON(e.stdout, wire.ErrorBody{Error: info})
	}
	fmt.Fprint(e.stderr, text)
	return code
}

func explainDaemonErr(e *env, conn connection, name string, err error, hint func(*apiclient.APIError) string) (wire.ErrorInfo, int, string) {
	var b strings.Builder
	prefix := "imsictl " + name + ": "
	var ue *apiclient.UnreachableError
	var ae *apiclient.APIError
	switch {
	case errors.As(err, &ue):
		info := wire.ErrorInfo{Code: "unreachable", Message: ue.Error()}
		target, cause := safe(ue.Target), safe(fmt.Sprint(ue.Err))
		tcp := conn.opts.URL != ""
		switch {
		case ue.Reason == "permission":
			fmt.Fprintf(&b, "%spermission denied on the daemon's socket %s\n", prefix, target)
			b.WriteString("  the socket is for root and the imsid group: run with sudo, or add yourself to the group\n")
		case ue.Reason == "timeout":
			fmt.Fprintf(&b, "%simsid at %s did not answer within %s\n", prefix, target, timeoutOf(conn))
			b.WriteString("  it may be busy or wedged: check 'systemctl status imsid' and 'journalctl -u imsid'; raise --timeout to wait longer\n")
		case tcp:
			fmt.Fprintf(&b, "%scannot reach imsid at %s: %s\n", prefix, target, cause)
			var uae x509.UnknownAuthorityError
			if errors.As(ue.Err, &uae) {
				b.WriteString("  the daemon's TLS certificate is not signed by a CA this machine trusts: pass it with --ca-file FILE\n")
			} else {
				b.WriteString("  is imsid running there with api.listen set, and is the port reachable from here?\n")
			}
		default:
			fmt.Fprintf(&b, "%simsid is not running (nothing answers on %s: %s)\n", prefix, target, cause)
			b.WriteString("  start it:        sudo systemctl start imsid\n")
			b.WriteString("  or try it out:   imsid --simulate   (a simulated modem; imsictl finds its socket)\n")
			b.WriteString("  another daemon?  --socket PATH or IMSICTL_SOCKET; over TCP: --url URL --token-file FILE\n")
		}
		return info, exitUnreachable, b.String()
	case errors.As(err, &ae):
		// The message and profile names come from the daemon (or whatever
		// answers at --url): printed safe, and the JSON error carries the
		// same text.
		info := ae.Info
		sanitize(&info)
		if info.Code == "" {
			info.Code = http.StatusText(ae.Status)
		}
		switch {
		case ae.Status == http.StatusUnauthorized:
			if conn.opts.Token == "" {
				fmt.Fprintf(&b, "%simsid at %s wants a bearer token for this request\n", prefix, conn.opts.URL)
				b.WriteString("  pass it with --token-file FILE or IMSICTL_TOKEN (the token is in the daemon's api.token_file)\n")
			} else {
				fmt.Fprintf(&b, "%simsid at %s did not accept the token from %s\n", prefix, conn.opts.URL, conn.tokenFrom)
				b.WriteString("  use the token in the daemon's api.token_file\n")
			}
		case info.Code == wire.CodeUnknownProfile:
			msg := info.Message
			// The list follows on its own line, in the config's order.
			for _, sep := range []string{" (known profiles:", "; known: "} {
				if i := strings.Index(msg, sep); i >= 0 && len(info.Profiles) > 0 {
					msg = msg[:i]
				}
			}
			fmt.Fprintf(&b, "%s%s\n", prefix, msg)
			if len(info.Profiles) > 0 {
				fmt.Fprintf(&b, "  profiles: %s\n", strings.Join(info.Profiles, ", "))
			}
		case ae.Refused():
			fmt.Fprintf(&b, "%srefused: %s\n", prefix, info.Message)
			if at := ae.RetryAt(); !at.IsZero() {
				now := e.now()
				if ra := info.RetryAfter; ra != nil {
					now = at.Add(-time.Duration(*ra) * time.Second) // the daemon's clock, as in status
				}
				fmt.Fprintf(&b, "  allowed from %s (%s)\n", clock(at, now), relative(at, now))
			}
			if hint != nil {
				// A hint the daemon's message already gives is not repeated.
				if h := hint(ae); h != "" && !(strings.Contains(h, "'imsictl unpin'") && strings.Contains(info.Message, "'imsictl unpin'")) {
					fmt.Fprintf(&b, "  %s\n", h)
				}
			}
		case info.Code == wire.CodeTooManyStreams:
			fmt.Fprintf(&b, "%simsid has no event stream free: %s\n", prefix, info.Message)
			b.WriteString("  other clients hold every stream slot; close one, or try again shortly\n")
		case ae.Status == http.StatusServiceUnavailable:
			fmt.Fprintf(&b, "%simsid cannot answer now: %s\n", prefix, info.Message)
			b.WriteString("  it may be starting or have lost the modem; try again shortly, or see 'journalctl -u imsid'\n")
		default:
			fmt.Fprintf(&b, "%s%s\n", prefix, info.Message)
		}
		return info, exitFail, b.String()
	default:
		fmt.Fprintf(&b, "%s%s\n", prefix, safe(err.Error()))
		return wire.ErrorInfo{Code: "failed", Message: err.Error()}, exitFail, b.String()
	}
}

func timeoutOf(c connection) time.Duration {
	if c.opts.Timeout > 0 {
		return c.opts.Timeout
	}
	return apiclient.DefaultTimeout
}
