package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func unixClient(path string) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

func get(t *testing.T, c *http.Client, method, url, body, token string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func startServer(t *testing.T, f *fakeBackend, mod func(*Config)) (*Server, string, *logBuf) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "run", "imsid.sock")
	s, logs := newTestServer(t, f, func(c *Config) {
		c.Socket = sock
		if mod != nil {
			mod(c)
		}
	})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s, sock, logs
}

func TestUnixSocketModeAndServe(t *testing.T) {
	s, sock, logs := startServer(t, newFake(), func(c *Config) { c.SocketMode = 0o640 })
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o640 {
		t.Fatalf("socket mode %v, want socket 0640", fi.Mode())
	}
	// The socket needs no token, mutations included.
	c := unixClient(sock)
	if code, _, b := get(t, c, "GET", "http://imsid/v1/status", "", ""); code != 200 {
		t.Fatal(code, string(b))
	}
	if code, _, b := get(t, c, "POST", "http://imsid/v1/switch", `{"profile":"roam"}`, ""); code != 202 {
		t.Fatal(code, string(b))
	}
	if want := fmt.Sprintf("peer_uid=%d", os.Getuid()); !strings.Contains(logs.String(), want) {
		t.Errorf("socket mutation not logged with %s: %s", want, logs)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(sock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket left behind after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestUnixSocketDefaultMode(t *testing.T) {
	_, sock, _ := startServer(t, newFake(), func(c *Config) { c.Listen = "" })
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("mode %v err %v, want 0660", fi.Mode(), err)
	}
}

func TestUnixSocketStaleAndLive(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "imsid.sock")
	// A stale socket: bound, then its owner died without unlinking.
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	first, _ := newTestServer(t, newFake(), func(c *Config) { c.Socket = sock; c.Listen = "" })
	if err := first.Start(); err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	// A live daemon: the second one must not steal its socket.
	second, _ := newTestServer(t, newFake(), func(c *Config) { c.Socket = sock; c.Listen = "" })
	if err := second.Start(); !errors.Is(err, ErrSocketInUse) {
		t.Fatalf("second daemon: %v, want ErrSocketInUse", err)
	}
	if code, _, _ := get(t, unixClient(sock), "GET", "http://imsid/healthz", "", ""); code != 200 {
		t.Fatal("first daemon lost its socket")
	}
	// Not a socket at all: refuse rather than delete someone's file.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("keep me"), 0o600)
	third, _ := newTestServer(t, newFake(), func(c *Config) { c.Socket = file; c.Listen = "" })
	if err := third.Start(); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("regular file: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Fatal("regular file clobbered")
	}
}

func TestTCPAuth(t *testing.T) {
	for _, forReads := range []bool{false, true} {
		f := newFake()
		s, _, logs := startServer(t, f, func(c *Config) { c.PublicReads, c.Hosts = !forReads, []string{"127.0.0.1"} })
		base := "http://" + s.TCPAddr().String()
		c := &http.Client{Timeout: 5 * time.Second}
		for _, tc := range []struct {
			method, path, body, token string
			want                      int
		}{
			{"POST", "/v1/switch", `{"profile":"roam"}`, "", 401},
			{"POST", "/v1/switch", `{"profile":"roam"}`, "wrong-token-wrong-token", 401},
			{"POST", "/v1/pin", `{"profile":"roam"}`, "", 401},
			{"POST", "/v1/unpin", ``, "", 401},
			// The AT pass-through needs the token even with public reads.
			{"POST", "/v1/at", `{"command":"AT+CSQ"}`, "", 401},
			{"POST", "/v1/at", `{"command":"AT+CSQ"}`, testToken, 404}, // the fake has no modem
			{"POST", "/v1/switch", `{"profile":"roam"}`, testToken, 202},
			{"GET", "/v1/status", "", "", map[bool]int{false: 200, true: 401}[forReads]},
			{"GET", "/v1/events", "", "", map[bool]int{false: 200, true: 401}[forReads]},
			{"GET", "/metrics", "", "", map[bool]int{false: 200, true: 401}[forReads]},
			{"GET", "/v1/status", "", testToken, 200},
			{"GET", "/healthz", "", "", 200},
			{"GET", "/readyz", "", "", 200},
		} {
			if tc.path == "/v1/events" && tc.want == 200 {
				continue // streams; covered by the SSE tests
			}
			code, hdr, body := get(t, c, tc.method, base+tc.path, tc.body, tc.token)
			if code != tc.want {
				t.Errorf("forReads=%v %s %s token=%q: %d, want %d: %s", forReads, tc.method, tc.path, tc.token, code, tc.want, body)
			}
			if code == 401 {
				var e ErrorBody
				json.Unmarshal(body, &e)
				if hdr.Get("WWW-Authenticate") == "" || e.Error.Code != CodeUnauthorized {
					t.Errorf("401 without WWW-Authenticate or JSON body: %v %s", hdr, body)
				}
			}
		}
		if len(f.switches) != 1 {
			t.Errorf("forReads=%v: switches %v, want only the authenticated one", forReads, f.switches)
		}
		l := logs.String()
		if !strings.Contains(l, "refused unauthenticated request") {
			t.Error("refusal not logged")
		}
		if strings.Contains(l, testToken) || strings.Contains(l, "wrong-token") {
			t.Error("a token reached the log")
		}
		s.Close()
	}
}

func TestAuthHeaderForms(t *testing.T) {
	s, _ := newTestServer(t, newFake(), nil)
	for hdr, want := range map[string]int{
		"Bearer " + testToken:        202,
		"bearer " + testToken:        202,
		"Bearer  " + testToken + " ": 202,
		"Basic " + testToken:         401,
		testToken:                    401,
		"Bearer " + testToken + "x":  401,
		"Bearer " + testToken[:10]:   401,
		"Bearer ":                    401,
		"Bearer":                     401,
	} {
		rec := do(s.RemoteHandler(), "POST", "/v1/switch", `{"profile":"roam"}`, "Authorization", hdr)
		if rec.Code != want {
			t.Errorf("Authorization %q: %d, want %d", hdr, rec.Code, want)
		}
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	s, _, _ := startServer(t, newFake(), func(c *Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	pemBytes, _ := os.ReadFile(certFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + s.TCPAddr().String()
	if code, _, b := get(t, c, "GET", base+"/v1/status", "", testToken); code != 200 {
		t.Fatal(code, string(b))
	}
	if code, _, _ := get(t, c, "POST", base+"/v1/unpin", "", ""); code != 401 {
		t.Fatal("TLS mutation without token:", code)
	}
	if code, _, _ := get(t, c, "POST", base+"/v1/unpin", "", testToken); code != 200 {
		t.Fatal("TLS mutation with token:", code)
	}
	// Plain HTTP to the TLS port does not get through.
	if resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + s.TCPAddr().String() + "/v1/status"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP served on the TLS port")
		}
	}
	// A bad key pair fails Start, leaving nothing bound.
	bad, _ := newTestServer(t, newFake(), func(c *Config) {
		c.Socket = filepath.Join(dir, "b.sock")
		c.TLSCert, c.TLSKey = certFile, certFile
	})
	if err := bad.Start(); err == nil {
		t.Fatal("bad key accepted")
	}
	if _, err := os.Lstat(filepath.Join(dir, "b.sock")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("failed Start left the socket bound")
	}
}

func writeSelfSigned(t *testing.T, dir string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "imsid test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	cf, kf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cf, kf
}

func TestConfigFrom(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte(testToken+"\n"), 0o600)
	a := apiSection(dir, tok)
	c, err := ConfigFrom(a)
	if err != nil || c.Token != testToken || c.SocketMode != 0o660 || c.PublicReads {
		t.Fatalf("%+v %v", c, err)
	}
	os.WriteFile(tok, []byte(" \n"), 0o600)
	if _, err := ConfigFrom(a); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatal(err)
	}
	a.TokenFile = filepath.Join(dir, "missing")
	if _, err := ConfigFrom(a); err == nil || !strings.Contains(err.Error(), "api.token_file") {
		t.Fatal(err)
	}
}

func TestLifecycle(t *testing.T) {
	s, _, _ := startServer(t, newFake(), nil)
	if err := s.Start(); err == nil {
		t.Fatal("second Start accepted")
	}
	done := make(chan error, 2)
	go func() { done <- s.Close() }()
	go func() { done <- s.Shutdown(context.Background()) }()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-s.done: // every serve goroutine has returned
	default:
		t.Fatal("Close returned before the serve goroutines ended")
	}
	if err := s.Start(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
	// Closing a server that never started is fine too.
	idle, _ := newTestServer(t, newFake(), nil)
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRemoteHandlerWithoutTokenFailsClosed(t *testing.T) {
	s, _ := newTestServer(t, newFake(), func(c *Config) { c.Listen, c.Token, c.Socket = "", "", "/nonexistent/x.sock" })
	for _, hdr := range []string{"", "Bearer ", "Bearer x"} {
		if rec := do(s.RemoteHandler(), "POST", "/v1/unpin", "", "Authorization", hdr); rec.Code != 401 {
			t.Errorf("Authorization %q: %d", hdr, rec.Code)
		}
	}
}

// Idle TCP connections past the limit wait in the backlog: they hold no
// slot, and the unix socket is always served (its own server, no limit).
func TestIdleTCPConnectionsLeaveUnixSocketServed(t *testing.T) {
	s, sock, _ := startServer(t, newFake(), func(c *Config) { c.MaxTCPConns = 4 })
	for range 40 {
		c, err := net.Dial("tcp", s.TCPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	if code, _, b := get(t, unixClient(sock), "GET", "http://imsid/v1/status", "", ""); code != 200 {
		t.Fatal(code, string(b))
	}
}

// Reads on TCP need the token unless public reads are configured, and those
// need Hosts: a request naming another Host (DNS rebinding) is refused.
func TestTCPReadsAndHostCheck(t *testing.T) {
	s, _ := newTestServer(t, newFake(), nil)
	if rec := do(s.RemoteHandler(), "GET", "/v1/status", ""); rec.Code != 401 {
		t.Fatalf("default: unauthenticated TCP read answered %d", rec.Code)
	}
	if _, err := New(newFake(), Config{Listen: "127.0.0.1:0", Token: testToken, PublicReads: true}); err == nil {
		t.Fatal("public reads without hosts accepted")
	}
	pub, _ := newTestServer(t, newFake(), func(c *Config) { c.PublicReads, c.Hosts = true, []string{"gw.lan", "192.0.2.7"} })
	for host, want := range map[string]int{
		"gw.lan": 200, "GW.lan.:8787": 200, "192.0.2.7:8787": 200,
		"attacker.example": 421, "attacker.example:8787": 421, "": 421, "gw.lan.attacker.example": 421,
		"10.0.0.1:8787": 200, "[::1]:8787": 200, // an IP literal cannot be rebound
	} {
		req := httptest.NewRequest("GET", "/v1/status", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		pub.RemoteHandler().ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %q: %d, want %d", host, rec.Code, want)
		}
		if want == 421 && errInfo(t, rec).Code != CodeWrongHost {
			t.Errorf("Host %q: %s", host, rec.Body)
		}
	}
	// The token does not excuse a wrong Host, and health stays open.
	req := httptest.NewRequest("POST", "/v1/unpin", nil)
	req.Host = "attacker.example"
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	pub.RemoteHandler().ServeHTTP(rec, req)
	if rec.Code != 421 {
		t.Errorf("wrong Host with token: %d", rec.Code)
	}
	if rec := do(pub.RemoteHandler(), "GET", "/healthz", ""); rec.Code != 200 {
		t.Errorf("healthz: %d", rec.Code)
	}
}

// A TCP listener off loopback needs TLS unless InsecurePlaintext.
func TestNonLoopbackListenerNeedsTLS(t *testing.T) {
	for addr, ok := range map[string]bool{"0.0.0.0:0": false, "192.0.2.1:8787": false, "[::]:0": false,
		"127.0.0.1:0": true, "[::1]:0": true, "localhost:0": true} {
		_, err := New(newFake(), Config{Listen: addr, Token: testToken})
		if (err == nil) != ok {
			t.Errorf("%s without TLS: err %v", addr, err)
		}
	}
	if _, err := New(newFake(), Config{Listen: "0.0.0.0:0", Token: testToken, InsecurePlaintext: true}); err != nil {
		t.Errorf("insecure_plaintext: %v", err)
	}
	if _, err := New(newFake(), Config{Listen: "0.0.0.0:0", Token: testToken, TLSCert: "c.pem", TLSKey: "k.pem"}); err != nil {
		t.Errorf("with TLS: %v", err)
	}
}

// Issue 16's acceptance: 40 unauthenticated TCP event streams (public
// reads on) and 2000 idle TCP connections leave the unix socket serving
// status and the event stream.
func TestTCPFloodLeavesUnixSocketServed(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	s, sock, _ := startServer(t, newFake(), func(c *Config) {
		c.PublicReads = true
		c.Hosts = []string{"127.0.0.1"}
	})
	addr := s.TCPAddr().String()
	// 40 unauthenticated event streams: each either holds one of the TCP
	// listener's own slots or is turned away; none takes a unix slot.
	for range 40 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET /v1/events HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", addr)
	}
	// 2000 idle connections that never send a byte.
	for i := range 2000 {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
	}
	uc := unixClient(sock)
	if code, _, b := get(t, uc, "GET", "http://imsid/v1/status", "", ""); code != 200 {
		t.Fatalf("status on the unix socket: %d %s", code, b)
	}
	req, _ := http.NewRequest("GET", "http://imsid/v1/events", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := uc.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("event stream on the unix socket: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
