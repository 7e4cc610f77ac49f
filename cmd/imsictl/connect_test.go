package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/apiclient"
)

// TestExplain covers the messages the binary tests cannot provoke here
// (the tests run as root, who ignores socket permissions).
func TestExplain(t *testing.T) {
	e := &env{now: func() time.Time { return docNow }}
	sock := connection{opts: apiclient.Options{Socket: "/run/imsid/imsid.sock"}}
	tcp := connection{opts: apiclient.Options{URL: "http://gw:8787", Token: testToken}, tokenFrom: "IMSICTL_TOKEN"}
	for _, tc := range []struct {
		name string
		conn connection
		err  error
		code int
		want []string
	}{
		{"permission", sock, &apiclient.UnreachableError{Target: "/run/imsid/imsid.sock", Reason: "permission", Err: syscall.EACCES}, 3,
			[]string{"permission denied on the daemon's socket /run/imsid/imsid.sock", "sudo", "group"}},
		{"timeout", sock, &apiclient.UnreachableError{Target: "/run/imsid/imsid.sock", Reason: "timeout", Err: errors.New("no answer")}, 3,
			[]string{"did not answer within 10s", "--timeout"}},
		{"wrong token", tcp, &apiclient.APIError{Op: "switch", Status: 401, Info: api.ErrorInfo{Code: api.CodeUnauthorized}}, 1,
			[]string{"did not accept the token from IMSICTL_TOKEN"}},
		{"unavailable", sock, &apiclient.APIError{Op: "status", Status: 503, Info: api.ErrorInfo{Code: api.CodeUnavailable, Message: "modem lost"}}, 1,
			[]string{"cannot answer now: modem lost", "try again"}},
		{"pinned", sock, &apiclient.APIError{Op: "switch", Status: 409, Info: api.ErrorInfo{Code: api.CodePinned, Message: "telekom is pinned"}}, 1,
			[]string{"refused: telekom is pinned", "imsictl unpin"}},
		{"other", sock, errors.New("boom"), 1, []string{"imsictl x: boom"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, code, text := explainDaemonErr(e, tc.conn, "x", tc.err, refusalHint)
			if code != tc.code || info.Code == "" {
				t.Errorf("code %d (%q), want %d", code, info.Code, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("%q lacks %q", text, w)
				}
			}
			if strings.Contains(text, testToken) {
				t.Error("token printed")
			}
		})
	}
}

// A full event-stream table is not a modem problem: the hint must not say so.
func TestExplainTooManyStreams(t *testing.T) {
	e := &env{now: func() time.Time { return docNow }}
	sock := connection{opts: apiclient.Options{Socket: "/run/imsid/imsid.sock"}}
	err := &apiclient.APIError{Op: "events", Status: 503, Info: api.ErrorInfo{Code: api.CodeTooManyStreams,
		Message: "already 32 event streams open on the unix socket; the limit is 32"}}
	_, code, text := explainDaemonErr(e, sock, "events", err, nil)
	if code != exitFail || strings.Contains(text, "modem") || !strings.Contains(text, "no event stream free") {
		t.Fatalf("%d %q", code, text)
	}
}

// The try-out socket lives in the shared temporary directory: only one the
// caller owns and nobody else can reach is trusted.
func TestTrustedTryOut(t *testing.T) {
	uid := os.Getuid()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	listen := func(path string, mode os.FileMode) string {
		l, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	private := listen(filepath.Join(dir, "p.sock"), 0o600)
	shared := listen(filepath.Join(dir, "s.sock"), 0o666)
	file := filepath.Join(dir, "f.sock")
	os.WriteFile(file, nil, 0o600)
	privDir := filepath.Join(dir, "priv")
	os.Mkdir(privDir, 0o700)
	inPrivDir := listen(filepath.Join(privDir, "x.sock"), 0o660)
	for _, tc := range []struct {
		path string
		uid  int
		want bool
	}{
		{private, uid, true},
		{inPrivDir, uid, true},
		{shared, uid, false},
		{private, uid + 1, false}, // someone else's
		{file, uid, false},
		{filepath.Join(dir, "missing.sock"), uid, false},
	} {
		if got := trustedTryOut(tc.path, tc.uid); got != tc.want {
			t.Errorf("%s uid %d: %v, want %v", tc.path, tc.uid, got, tc.want)
		}
	}
}

// The bearer token never goes over plain http to another host.
func TestTokenNotSentInClear(t *testing.T) {
	e := &env{getenv: func(string) string { return "" }, now: func() time.Time { return docNow }}
	for u, ok := range map[string]bool{
		"http://192.0.2.1:8787": false, "http://gw.lan:8787": false, "HTTP://gw.lan": false,
		"http://127.0.0.1:8787": true, "http://localhost:8787": true, "http://[::1]:8787": true,
		"https://gw.lan:8787": true,
	} {
		g := &globals{url: u, token: testToken}
		_, err := g.resolve(e)
		if (err == nil) != ok || (!ok && !errors.Is(err, ErrPlaintextToken)) {
			t.Errorf("%s: %v", u, err)
		}
		if err != nil && strings.Contains(err.Error(), testToken) {
			t.Error("token in the error")
		}
	}
	// Without a token nothing secret is sent: allowed.
	if _, err := (&globals{url: "http://192.0.2.1:8787"}).resolve(e); err != nil {
		t.Error(err)
	}
}

// The real daemon's refusals already say what to do and which profiles
// exist: the answer does not say it twice.
func TestExplainSaysItOnce(t *testing.T) {
	e := &env{now: func() time.Time { return docNow }}
	sock := connection{opts: apiclient.Options{Socket: "/run/imsid/imsid.sock"}}
	unknown := &apiclient.APIError{Op: "switch", Status: 422, Info: api.ErrorInfo{Code: api.CodeUnknownProfile,
		Message: `no profile "tmobile"; known: t-mobile, telekom-de, vodafone-uk`, Profiles: []string{"telekom-de", "vodafone-uk", "t-mobile"}}}
	_, _, text := explainDaemonErr(e, sock, "switch", unknown, refusalHint)
	if want := "imsictl switch: no profile \"tmobile\"\n  profiles: telekom-de, vodafone-uk, t-mobile\n"; text != want {
		t.Errorf("unknown profile:\n%s\nwant:\n%s", text, want)
	}
	pinned := &apiclient.APIError{Op: "switch", Status: 409, Info: api.ErrorInfo{Code: api.CodePinned,
		Message: `"vodafone-uk" is pinned; 'imsictl unpin' first, or 'imsictl pin t-mobile' to move the pin`}}
	_, _, text = explainDaemonErr(e, sock, "switch", pinned, refusalHint)
	if strings.Count(text, "imsictl unpin") != 1 {
		t.Errorf("pinned says it twice:\n%s", text)
	}
}

// "allowed from ... (in ...)" counts on the daemon's clock (retry_after_s),
// like every relative time imsictl shows, not on this machine's.
func TestRefusalRelativeToTheDaemon(t *testing.T) {
	e := &env{now: func() time.Time { return docNow }} // this machine: 2 minutes behind
	sock := connection{opts: apiclient.Options{Socket: "/run/imsid/imsid.sock"}}
	after := int64(3600)
	err := &apiclient.APIError{Op: "switch", Status: 409, Info: api.ErrorInfo{Code: api.CodeSwitchCap, Message: "budget used up",
		RetryAt: api.Ptr(docNow.Add(62 * time.Minute)), RetryAfter: &after}}
	_, _, text := explainDaemonErr(e, sock, "switch", err, refusalHint)
	if !strings.Contains(text, "(in 1h)") {
		t.Errorf("want the daemon's 1h:\n%s", text)
	}
}
