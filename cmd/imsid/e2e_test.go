package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/store"
)

// The end-to-end tests build the real binaries and run them against the
// simulator over a pty, in real time with short timeouts.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func binaries(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs binaries")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "imsid-e2e-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+"/", "./cmd/imsid", "./cmd/modemsim")
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for a writer process and a reading test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	done   chan struct{}
	code   int
}

func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, cmd: exec.Command(filepath.Join(binaries(t), name), args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		err := p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		_ = err
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s stdout:\n%s\n%s stderr (tail):\n%s", name, p.stdout.String(), name, tail(p.stderr.String(), 60))
		}
	})
	return p
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (p *proc) signal(sig syscall.Signal) {
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

func (p *proc) exit(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %s", p.cmd.Path, timeout)
		return -1
	}
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, f func() bool) {
	t.Helper()
	end := time.Now().Add(timeout)
	for !f() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func unixClient(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
}

type statusView struct {
	State  string  `json:"state"`
	Ready  bool    `json:"ready"`
	Active *string `json:"active_profile"`
	SIM    struct {
		IMSI *string `json:"imsi"`
	} `json:"sim"`
	Pin *struct {
		Profile string `json:"profile"`
	} `json:"pin"`
}

func getStatus(c *http.Client, base string) (statusView, error) {
	var st statusView
	resp, err := c.Get(base + "/v1/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return st, fmt.Errorf("status %d", resp.StatusCode)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func on(c *http.Client, base, profile string) func() bool {
	return func() bool {
		st, err := getStatus(c, base)
		return err == nil && st.Ready && st.State == "connected" && st.Active != nil && (profile == "" || *st.Active == profile)
	}
}

// bearer is a transport adding the API token.
type bearer string

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

func post(t *testing.T, c *http.Client, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// genConfigFor asks imsid for the config it would generate for scenario in
// dir, then applies edit.
func genConfigFor(t *testing.T, scenario, dir string, edit func(string) string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(binaries(t), "imsid"), "--simulate", scenario, "--state-dir", dir, "--print-config").Output()
	if err != nil {
		t.Fatalf("--print-config: %v", err)
	}
	path := filepath.Join(dir, "imsid.yaml")
	if err := os.WriteFile(path, []byte(edit(string(out))), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustReplace replaces the first old in s, and fails the test if there is
// none: an edit of the generated config that silently does nothing would
// test the defaults instead.
func mustReplace(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("generated config has no %q:\n%s", old, s)
	}
	return strings.Replace(s, old, new, 1)
}

// The scenario's identities, which must never appear in clear in a log.
var clearIdentities = []string{"262011234567890", "234150999999999", "310260123456789", "89490200001234567890"}

// upstreamServer refuses everything until open is closed, then records
// every event it accepts.
type upstreamServer struct {
	*httptest.Server
	mu      sync.Mutex
	open    chan struct{}
	events  []map[string]any
	bodies  bytes.Buffer
	refused int
}

func newUpstream(t *testing.T) *upstreamServer {
	u := &upstreamServer{open: make(chan struct{})}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/events") {
			w.WriteHeader(http.StatusNotFound) // advisories: none here
			return
		}
		select {
		case <-u.open:
		default:
			u.mu.Lock()
			u.refused++
			u.mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var batch []map[string]any
		if err := json.Unmarshal(b, &batch); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		u.mu.Lock()
		u.events = append(u.events, batch...)
		u.bodies.Write(b)
		u.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstreamServer) snapshot() ([]map[string]any, string, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]map[string]any(nil), u.events...), u.bodies.String(), u.refused
}

func TestE2ESimulate(t *testing.T) {
	dir := t.TempDir()
	up := newUpstream(t)
	const token = "e2e-token-0123456789abcdef"
	tokenFile := filepath.Join(dir, "api.token")
	upTokenFile := filepath.Join(dir, "up.token")
	os.WriteFile(tokenFile, []byte(token+"\n"), 0o600)
	os.WriteFile(upTokenFile, []byte("upstream-token-0123456789\n"), 0o600)
	good := ""
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcpAddr := l.Addr().String()
	l.Close()
	cfgPath := genConfigFor(t, "../../simulator/scenarios/basic.yaml", dir, func(s string) string {
		s = mustReplace(t, s, "api:\n", fmt.Sprintf("api:\n  listen: %q\n  token_file: %q\n", tcpAddr, tokenFile))
		s += fmt.Sprintf("upstream:\n  url: %q\n  token_file: %q\n  fleet_salt: \"e2e-fleet-salt-0001\"\n  heartbeat: 1h\n  batch_size: 5\n",
			up.URL+"/v1/events", upTokenFile)
		good = s
		return s
	})
	p := startProc(t, "imsid", "--simulate", "../../simulator/scenarios/basic.yaml", "--speed", "20", "--config", cfgPath)
	sock := filepath.Join(dir, "imsid.sock")
	uc := unixClient(sock)
	base := "http://imsid"
	waitFor(t, 20*time.Second, "connected over the unix socket", on(uc, base, "telekom-de"))

	// The socket's mode.
	var fi os.FileInfo
	fi, err = os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o660 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket mode %v, want 0660 socket", fi.Mode())
	}

	// Status over TCP needs the token by default, and so do mutations.
	tcp := "http://" + tcpAddr
	if _, err := getStatus(http.DefaultClient, tcp); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("status over TCP without a token: %v", err)
	}
	if !on(&http.Client{Transport: bearer(token)}, tcp, "telekom-de")() {
		t.Fatal("status over TCP")
	}
	if code, body := post(t, http.DefaultClient, tcp+"/v1/switch", "", `{"profile":"vodafone-uk","reason":"e2e"}`); code != http.StatusUnauthorized {
		t.Fatalf("switch over TCP without a token: %d %s", code, body)
	}
	if code, _ := post(t, http.DefaultClient, tcp+"/v1/switch", "wrong-token-0123456789", `{"profile":"vodafone-uk"}`); code != http.StatusUnauthorized {
		t.Fatalf("switch over TCP with a wrong token: %d", code)
	}
	if code, body := post(t, uc, base+"/v1/switch", "", `{"profile":"nope"}`); code/100 != 4 || !strings.Contains(body, "telekom-de") {
		t.Fatalf("unknown profile: %d %s", code, body)
	}

	// The SSE stream, subscribed before the switch.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sse := make(chan string, 256)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/events", nil)
		resp, err := uc.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			select {
			case sse <- sc.Text():
			default:
			}
		}
	}()
	// The server subscribes before it writes ": connected".
	for connected := false; !connected; {
		select {
		case line := <-sse:
			connected = line == ": connected"
		case <-time.After(5 * time.Second):
			t.Fatal("the SSE stream did not open")
		}
	}

	// A forced switch over TCP with the token.
	if code, body := post(t, http.DefaultClient, tcp+"/v1/switch", token, `{"profile":"vodafone-uk","reason":"e2e"}`); code/100 != 2 {
		t.Fatalf("switch: %d %s", code, body)
	}
	waitFor(t, 30*time.Second, "connected on vodafone-uk", on(uc, base, "vodafone-uk"))
	sawSwitch := false
	for !sawSwitch {
		select {
		case line := <-sse:
			sawSwitch = strings.HasPrefix(line, "data:") && strings.Contains(line, `"kind":"switch"`) && strings.Contains(line, "vodafone-uk")
		case <-time.After(5 * time.Second):
			t.Fatal("no switch decision on the SSE stream")
		}
	}

	// A pin over the socket.
	if code, body := post(t, uc, base+"/v1/pin", "", `{"profile":"vodafone-uk","for":"10m"}`); code/100 != 2 {
		t.Fatalf("pin: %d %s", code, body)
	}
	waitFor(t, 10*time.Second, "the pin in the status", func() bool {
		st, err := getStatus(uc, base)
		return err == nil && st.Pin != nil && st.Pin.Profile == "vodafone-uk"
	})
	// Metrics. The state gauge follows the transition through the
	// daemon's event queue, a moment after the status shows the pin.
	var mb []byte
	wants := []string{`imsid_state{state="held"} 1`, `imsid_switches_total{`, `imsid_at_command_duration_seconds_bucket`, `imsid_outbox_depth`, `imsid_probe_duration_seconds`}
	waitFor(t, 10*time.Second, "the metrics", func() bool {
		resp, err := uc.Get(base + "/metrics")
		if err != nil {
			return false
		}
		mb, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range wants {
			if !strings.Contains(string(mb), want) {
				return false
			}
		}
		return true
	})

	// SIGHUP with a broken config keeps the old one running, saying where.
	os.WriteFile(cfgPath, []byte(good+"bogus_field: 1\n"), 0o600)
	p.signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "the rejected reload in the log", func() bool {
		return strings.Contains(p.stderr.String(), "config rejected") && strings.Contains(p.stderr.String(), "imsid.yaml:")
	})
	if st, err := getStatus(uc, base); !p.running() || err != nil || !st.Ready {
		t.Fatalf("not serving after a bad reload: %v", err)
	}
	// So is a timer below its floor: a reload must not flood the modem.
	// (The generated config holds no timers since they became the product
	// defaults: the bad one goes under policy:.)
	if !strings.Contains(good, "\npolicy:\n") {
		t.Fatal("the generated config has no policy: section")
	}
	os.WriteFile(cfgPath, []byte(strings.Replace(good, "\npolicy:\n", "\npolicy:\n  signal_poll: 1ns\n", 1)), 0o600)
	p.signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "the rejected signal_poll reload in the log", func() bool {
		return strings.Contains(p.stderr.String(), "policy.signal_poll: 1ns is too short")
	})
	os.WriteFile(cfgPath, []byte(good), 0o600)
	p.signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "the good reload", func() bool { return strings.Contains(p.stderr.String(), "config reloaded") })

	// The upstream was down all along; now it comes back and must receive
	// every event, in order.
	if evs, _, _ := up.snapshot(); len(evs) != 0 {
		t.Fatalf("events accepted while down: %d", len(evs))
	}
	close(up.open)
	waitFor(t, 30*time.Second, "the switch event upstream", func() bool {
		evs, _, _ := up.snapshot()
		for _, e := range evs {
			if e["type"] == "io.imsid.switch" {
				return true
			}
		}
		return false
	})

	p.signal(syscall.SIGTERM)
	if code := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	evs, bodies, refused := up.snapshot()
	if refused == 0 {
		t.Error("the upstream never refused anything: the outage was not exercised")
	}
	checkUpstreamOrder(t, evs)
	logs := p.stderr.String() + p.stdout.String()
	for _, id := range clearIdentities {
		if strings.Contains(logs, id) {
			t.Errorf("identity %s…%s in clear in the logs", id[:4], id[len(id)-2:])
		}
		if strings.Contains(bodies, id) {
			t.Errorf("identity %s…%s in clear upstream", id[:4], id[len(id)-2:])
		}
	}
}

// checkUpstreamOrder: no duplicates, times never go back, the first link
// event says up, and the switch to vodafone-uk is there with its reason.
func checkUpstreamOrder(t *testing.T, evs []map[string]any) {
	t.Helper()
	seen := map[any]bool{}
	var last time.Time
	var types []string
	for _, e := range evs {
		if seen[e["id"]] {
			t.Errorf("duplicate event %v", e["id"])
		}
		seen[e["id"]] = true
		at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(e["time"]))
		if err != nil {
			t.Fatalf("event time %v: %v", e["time"], err)
		}
		if at.Before(last) {
			t.Errorf("event %v at %v before the previous one (%v): out of order", e["type"], at, last)
		}
		last = at
		types = append(types, fmt.Sprint(e["type"]))
	}
	if len(types) == 0 || types[0] != "io.imsid.link.changed" {
		t.Fatalf("first event %v, want the link coming up", types)
	}
	found := false
	for _, e := range evs {
		if e["type"] != "io.imsid.switch" {
			continue
		}
		d, _ := e["data"].(map[string]any)
		if d["to"] == "vodafone-uk" && d["trigger"] == "manual" && d["result"] == "ok" {
			found = true
			if imsi, _ := d["imsi"].(string); len(imsi) != 32 {
				t.Errorf("switch event IMSI %q: want a 32-hex-digit hash", imsi)
			}
		}
	}
	if !found {
		t.Errorf("no successful manual switch to vodafone-uk upstream; types %v", types)
	}
	var lastUp map[string]any
	for _, e := range evs {
		if d, _ := e["data"].(map[string]any); e["type"] == "io.imsid.link.changed" && d["up"] == true {
			lastUp = d
		}
	}
	if lastUp == nil || lastUp["profile"] != "vodafone-uk" || lastUp["ip"] == nil || lastUp["plmn"] != "23415" {
		t.Errorf("the last link-up event %v: want vodafone-uk on 23415 with an address", lastUp)
	}
}

// kill -9 in the middle of a switch: the modem (modemsim, another process)
// finishes or not on its own; the restarted daemon reconciles with what the
// SIM carries and closes the journal entry. The first trial kills while the
// switch is in flight; later ones (IMSID_KILL_TRIALS, default 2 in all) at a
// random moment after the request, which may be before, during or after it.
func TestE2EKillDuringSwitch(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "modem")
	sim := startProc(t, "modemsim", "--scenario", "../../simulator/scenarios/basic.yaml", "--speed", "4", "--link", link)
	waitFor(t, 10*time.Second, "modemsim's pty", func() bool { return strings.Count(sim.stdout.String(), "\n") >= 2 })
	cfgPath := genConfigFor(t, "../../simulator/scenarios/basic.yaml", dir, func(s string) string {
		// Operator switches count against the cap, and the trials make many.
		return mustReplace(t, s, "policy:\n", "policy:\n  switch_cap: {max: 50, window: 1h}\n")
	})
	sock := filepath.Join(dir, "imsid.sock")
	uc := unixClient(sock)
	base := "http://imsid"
	prefix := map[string]string{"telekom-de": "26201", "vodafone-uk": "23415", "t-mobile": "310260"}
	trials := 2
	if n, err := strconv.Atoi(os.Getenv("IMSID_KILL_TRIALS")); err == nil && n > 0 {
		trials = n
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	p := startProc(t, "imsid", "--config", cfgPath)
	waitFor(t, 30*time.Second, "connected", on(uc, base, "telekom-de"))
	for trial := range trials {
		st, _ := getStatus(uc, base)
		target := "t-mobile"
		if *st.Active == target {
			target = "vodafone-uk"
		}
		if code, body := post(t, uc, base+"/v1/switch", "", `{"profile":"`+target+`","reason":"kill test"}`); code/100 != 2 {
			t.Fatalf("trial %d: switch: %d %s", trial, code, body)
		}
		if trial == 0 {
			waitFor(t, 20*time.Second, "the switch in flight", func() bool {
				st, err := getStatus(uc, base)
				return err == nil && (st.State == "switching" || st.State == "verifying")
			})
		} else {
			time.Sleep(time.Duration(rng.IntN(3000)) * time.Millisecond)
		}
		p.signal(syscall.SIGKILL)
		p.exit(5 * time.Second)

		p = startProc(t, "imsid", "--config", cfgPath)
		waitFor(t, 40*time.Second, "connected after the restart", on(uc, base, ""))
		st, _ = getStatus(uc, base)
		// The active profile is what the SIM carries (the masked IMSI keeps the prefix).
		if pf := prefix[*st.Active]; st.SIM.IMSI == nil || pf == "" || !strings.HasPrefix(*st.SIM.IMSI, pf) {
			t.Fatalf("trial %d: active %q but the SIM reports %v", trial, *st.Active, st.SIM.IMSI)
		}
		if trial == 0 {
			resp, err := uc.Get(base + "/v1/decisions?limit=100")
			if err != nil {
				t.Fatal(err)
			}
			db, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(db), `"code":"reconcile"`) {
				t.Fatalf("no reconcile decision after the restart:\n%s", db)
			}
		}
		// Stop cleanly and look at the state file: readable, nothing unfinished.
		p.signal(syscall.SIGTERM)
		if code := p.exit(15 * time.Second); code != 0 {
			t.Fatalf("trial %d: exit code %d", trial, code)
		}
		s, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if s.Recovered() != "" {
			t.Fatalf("trial %d: the state file was corrupt", trial)
		}
		un, err := s.Unfinished()
		j, _ := s.Journal(0)
		s.Close()
		if err != nil || len(un) != 0 {
			t.Fatalf("trial %d: unfinished switches after reconciliation: %v %v", trial, un, err)
		}
		if trial == 0 && (len(j) == 0 || j[len(j)-1].Outcome == nil || j[len(j)-1].Outcome.Result != "reconciled") {
			t.Fatalf("journal %+v", j)
		}
		p = startProc(t, "imsid", "--config", cfgPath)
		waitFor(t, 40*time.Second, "connected for the next trial", on(uc, base, ""))
	}
	p.signal(syscall.SIGTERM)
	p.exit(15 * time.Second)
}

func TestE2EUsage(t *testing.T) {
	bin := filepath.Join(binaries(t), "imsid")
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--version"}, exitOK},
		{[]string{}, exitUsage},
		{[]string{"stray"}, exitUsage},
		{[]string{"--simulate", "a.yaml", "b.yaml"}, exitUsage},
		{[]string{"--config", "/nonexistent/imsid.yaml"}, exitConfig},
		{[]string{"--simulate", "/nonexistent/scenario.yaml"}, exitConfig},
	} {
		err := exec.Command(bin, tc.args...).Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != tc.code {
			t.Errorf("imsid %v: exit %d, want %d", tc.args, code, tc.code)
		}
	}
}

// The simulator's fault scenario (no answer, late answer, duplicate OK,
// truncated and garbage lines, split writes, a modem reset, a port loss)
// against the daemon, with JSON logs: it recovers, keeps serving, stops
// cleanly, and no identity reaches the log in clear.
func TestE2EFaults(t *testing.T) {
	dir := t.TempDir()
	scen := "../../simulator/scenarios/faults.yaml"
	cfgPath := genConfigFor(t, scen, dir, func(s string) string {
		return s + "log: {format: json}\n"
	})
	// Long enough after the port loss (300 s) for the connect guard (20 s
	// real) to start over should the session start wedge.
	p := startProc(t, "imsid", "--simulate", scen, "--speed", "40", "--duration", "24m", "--config", cfgPath)
	if code := p.exit(90 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	out, logs := p.stdout.String(), p.stderr.String()
	if !strings.Contains(out, "modem_lost -> starting (reopened)") {
		t.Fatalf("the port loss was not recovered:\n%s", out)
	}
	if i := strings.LastIndex(out, "-> "); i < 0 || !strings.HasPrefix(out[i:], "-> connected") {
		t.Fatalf("not connected at the end:\n%s", out)
	}
	if !strings.Contains(out, "Summary after 00:24:0") {
		t.Fatalf("no summary:\n%s", out)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("not a JSON log line: %q", line)
		}
	}
	for _, id := range clearIdentities {
		if strings.Contains(logs+out, id) {
			t.Errorf("identity %s…%s in clear in the logs", id[:4], id[len(id)-2:])
		}
	}
	if strings.Contains(logs, "panic") {
		t.Fatal("panic in the log")
	}
}

// systemd's notify protocol from the real binary: READY=1 once the modem is
// up, STATUS= lines, WATCHDOG=1 while the loop runs, STOPPING=1 at the end.
func TestE2ESystemdNotify(t *testing.T) {
	dir := t.TempDir()
	sockPath := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sockPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got := make(chan string, 256)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(got)
				return
			}
			for _, l := range strings.Split(string(buf[:n]), "\n") {
				if l != "" {
					got <- l
				}
			}
		}
	}()
	p := &proc{t: t, cmd: exec.Command(filepath.Join(binaries(t), "imsid"), "--simulate", "../../simulator/scenarios/basic.yaml",
		"--speed", "20", "--state-dir", filepath.Join(dir, "state")), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sockPath, "WATCHDOG_USEC=1000000")
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { defer close(p.done); _ = p.cmd.Wait(); p.code = p.cmd.ProcessState.ExitCode() }()
	defer func() {
		if p.running() {
			p.cmd.Process.Kill()
			<-p.done
		}
	}()
	want := func(prefix string) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case l := <-got:
				if strings.HasPrefix(l, prefix) {
					return
				}
			case <-deadline:
				t.Fatalf("no %s from the daemon; stderr:\n%s", prefix, tail(p.stderr.String(), 30))
			}
		}
	}
	want("STATUS=")
	want("READY=1")
	want("WATCHDOG=1")
	p.signal(syscall.SIGTERM)
	want("STOPPING=1")
	if code := p.exit(15 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
