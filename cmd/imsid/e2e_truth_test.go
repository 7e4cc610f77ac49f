package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// After a 2G downgrade the threats list, the status and the decision that
// left the network all name 2G, the cell and the network in a sentence
// (issue 15, item 1).
func TestE2EDowngradeNamesWhatWasSeen(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, "imsid", "--simulate", "../../simulator/scenarios/downgrade-2g.yaml", "--speed", "20", "--state-dir", dir)
	uc := unixClient(filepath.Join(dir, "imsid.sock"))
	base := "http://imsid"
	get := func(path string, v any) error {
		resp, err := uc.Get(base + path)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s: status %d", path, resp.StatusCode)
		}
		return json.NewDecoder(resp.Body).Decode(v)
	}
	type finding struct {
		Rule, Scope, Sentence string
		DecisionSeq           *uint64 `json:"decision_seq"`
	}
	var threats struct {
		Findings    []finding
		Quarantines []struct{ Kind, Key string }
	}
	var d1a finding
	waitFor(t, 30*time.Second, "a D1a finding linked to a decision, and its cell quarantined", func() bool {
		if get("/v1/threats", &threats) != nil {
			return false
		}
		for _, f := range threats.Findings {
			if f.Rule == "D1a" && f.DecisionSeq != nil {
				d1a = f
			}
		}
		return d1a.DecisionSeq != nil && len(threats.Quarantines) > 0
	})
	names := func(what, s string) {
		t.Helper()
		for _, w := range []string{"2G", "network 26201", "cell F1E"} {
			if !strings.Contains(s, w) {
				t.Errorf("%s does not name %q: %s", what, w, s)
			}
		}
	}
	names("the finding", d1a.Sentence)
	if d1a.Scope != "cell:26201/F1E" {
		t.Errorf("scope %q, want the cell in upper-case hex", d1a.Scope)
	}
	var cellQ bool
	for _, q := range threats.Quarantines {
		cellQ = cellQ || (q.Kind == "cell" && q.Key == "26201/F1E")
	}
	if !cellQ {
		t.Errorf("no cell quarantine listed: %+v", threats.Quarantines)
	}
	var st struct {
		Threat struct{ Top *finding }
	}
	if err := get("/v1/status", &st); err != nil || st.Threat.Top == nil {
		t.Fatalf("status: %v, top %+v", err, st.Threat.Top)
	}
	names("status's top finding", st.Threat.Top.Sentence)
	var page struct {
		Decisions []struct {
			Seq     uint64
			Trigger *string
			Finding *finding
		}
	}
	if err := get("/v1/decisions", &page); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range page.Decisions {
		if d.Seq == *d1a.DecisionSeq {
			found = true
			if d.Finding == nil {
				t.Fatalf("decision %d carries no finding", d.Seq)
			}
			names("the decision", d.Finding.Sentence)
		}
	}
	if !found {
		t.Fatalf("decision %d not in the log", *d1a.DecisionSeq)
	}
	// The log line and the console line carry the sentence too.
	waitFor(t, 5*time.Second, "the sentence in the log and on the console", func() bool {
		return strings.Contains(p.stderr.String(), "cell F1E") && strings.Contains(p.stdout.String(), "alert D1a (critical)") &&
			strings.Contains(p.stdout.String(), "network 26201")
	})

	// The threat quarantined network 26201, telekom-de's only one: the
	// profile shows that quarantine, and a switch back to it is refused
	// at once (it used to be accepted, rejected by the network, rolled
	// back, and the profile quarantined on top).
	var profs struct {
		Profiles []struct {
			Name       string
			Quarantine *struct {
				Until  time.Time
				Reason struct{ Code, Message string }
			}
		}
	}
	if err := get("/v1/profiles", &profs); err != nil {
		t.Fatal(err)
	}
	for _, pv := range profs.Profiles {
		if pv.Name == "telekom-de" && (pv.Quarantine == nil || !strings.Contains(pv.Quarantine.Reason.Message, "network 26201 quarantined")) {
			t.Errorf("telekom-de's network quarantine not shown on the profile: %+v", pv.Quarantine)
		}
	}
	code, body := post(t, uc, base+"/v1/switch", "", `{"profile":"telekom-de"}`)
	if code != 409 || !strings.Contains(body, `"code":"quarantined"`) || !strings.Contains(body, "network 26201 quarantined") ||
		!strings.Contains(body, `"retry_at"`) {
		t.Errorf("switch to telekom-de while 26201 is quarantined: %d %s", code, body)
	}
	code, body = post(t, uc, base+"/v1/pin", "", `{"profile":"telekom-de","for":"1h"}`)
	if code != 409 || !strings.Contains(body, `"code":"quarantined"`) {
		t.Errorf("pin on telekom-de while 26201 is quarantined: %d %s", code, body)
	}
}

// With no modem on the configured port, the service is READY for systemd
// as soon as it serves its API, status answers at once with the device and
// the error, and the log says so once (issue 15, item 3).
func TestE2ENoModem(t *testing.T) {
	dir := t.TempDir()
	notifyPath := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	device := filepath.Join(dir, "ttyUSB9")
	cfgPath := genConfigFor(t, "../../simulator/scenarios/basic.yaml", dir, func(s string) string {
		return regexp.MustCompile(`device: .*`).ReplaceAllString(s, "device: "+device)
	})
	p := &proc{t: t, cmd: exec.Command(filepath.Join(binaries(t), "imsid"), "--config", cfgPath), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notifyPath)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { defer close(p.done); _ = p.cmd.Wait() }()
	defer func() { p.cmd.Process.Kill(); <-p.done }()

	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	for ready := false; !ready; {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no READY=1 without a modem: %v; stderr:\n%s", err, p.stderr.String())
		}
		ready = strings.Contains(string(buf[:n]), "READY=1")
	}
	uc := unixClient(filepath.Join(dir, "imsid.sock"))
	uc.Timeout = time.Second
	var st struct {
		State string
		Ready bool
		Modem struct {
			Device    *string
			LastError *string `json:"last_error"`
			NextRetry *string `json:"next_retry"`
		}
	}
	waitFor(t, 5*time.Second, "status naming the device and the error", func() bool {
		start := time.Now()
		resp, err := uc.Get("http://imsid/v1/status")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if took := time.Since(start); took > time.Second {
			t.Fatalf("status took %s", took)
		}
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&st) != nil {
			return false
		}
		return st.Modem.LastError != nil
	})
	if st.Ready || st.State != "modem_lost" || st.Modem.Device == nil || *st.Modem.Device != device ||
		!strings.Contains(*st.Modem.LastError, device) || st.Modem.NextRetry == nil {
		t.Errorf("status %+v", st)
	}
	// Several retries later, still one WARN and no INFO retry lines.
	time.Sleep(2 * time.Second)
	log := p.stderr.String()
	if n := strings.Count(log, "modem not available"); n != 1 || !strings.Contains(log, device) {
		t.Errorf("%d 'modem not available' lines, want 1 naming %s:\n%s", n, device, log)
	}
	if strings.Contains(log, "connect failed") {
		t.Errorf("retries logged:\n%s", log)
	}
	// The metrics say what status says: one imsid_state series is 1.
	resp, err := uc.Get("http://imsid/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `imsid_state{state="modem_lost"} 1`) || !strings.Contains(string(body), "imsid_modem_up 0") {
		t.Errorf("metrics without a modem:\n%s", regexp.MustCompile(`(?m)^imsid_(state|modem_up).*$`).FindAllString(string(body), -1))
	}
}

// imsid --simulate runs from any directory (the scenarios are built in),
// --list-scenarios names them, and a second try-out daemon takes its own
// socket instead of failing on the first one's (issue 15, item 9).
func TestE2ESimulateAnywhere(t *testing.T) {
	bin := filepath.Join(binaries(t), "imsid")
	elsewhere := t.TempDir()
	out, err := exec.Command(bin, "--list-scenarios").Output()
	if err != nil || !strings.Contains(string(out), "downgrade-2g ") || !strings.Contains(string(out), "basic ") {
		t.Fatalf("--list-scenarios: %v\n%s", err, out)
	}
	for _, sc := range []string{"downgrade-2g", "simulator/scenarios/basic.yaml"} {
		cmd := exec.Command(bin, "--simulate", sc, "--print-config")
		cmd.Dir = elsewhere
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "profiles:") {
			t.Errorf("--simulate %s from %s: %v\n%s", sc, elsewhere, err, out)
		}
	}
	tmp := t.TempDir()
	start := func() *proc {
		p := &proc{t: t, cmd: exec.Command(bin, "--simulate", "--speed", "20"), done: make(chan struct{})}
		p.cmd.Dir = elsewhere
		p.cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { defer close(p.done); _ = p.cmd.Wait() }()
		t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
		return p
	}
	first := start()
	sock1 := filepath.Join(tmp, fmt.Sprintf("imsid-sim-%d.sock", os.Getuid()))
	waitFor(t, 20*time.Second, "the first try-out daemon serving", func() bool {
		_, err := getStatus(unixClient(sock1), "http://imsid")
		return err == nil
	})
	second := start()
	sock2 := filepath.Join(tmp, fmt.Sprintf("imsid-sim-%d-2.sock", os.Getuid()))
	waitFor(t, 20*time.Second, "the second try-out daemon on its own socket", func() bool {
		_, err := getStatus(unixClient(sock2), "http://imsid")
		return err == nil && strings.Contains(second.stdout.String(), "imsictl --socket "+sock2)
	})
	if !first.running() || !second.running() {
		t.Fatal("a try-out daemon stopped")
	}
}
