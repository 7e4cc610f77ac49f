package main

import (
	"encoding/json"
	"github.com/imsid/imsid/internal/modemreport"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/api"
)

// startDaemon runs imsid --simulate SCENARIO in a fresh state directory and
// returns a runner on its socket and the state directory.
func startDaemon(t *testing.T, scenario string) (runner, string, *lockedBuffer) {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e: builds and runs the daemon")
	}
	dir := t.TempDir()
	ctl := ctlBinary(t, dir)
	imsid := filepath.Join(dir, "imsid") // built by ctlBinary
	stateDir, err := shortTempDir(t)
	if err != nil {
		t.Fatal(err)
	}
	daemon := exec.Command(imsid, "--simulate", scenario, "--speed", "20", "--state-dir", stateDir)
	dlog := &lockedBuffer{}
	daemon.Stdout, daemon.Stderr = dlog, dlog
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		daemon.Process.Signal(syscall.SIGTERM)
		daemon.Wait()
		if t.Failed() {
			t.Logf("daemon log:\n%s", dlog.String())
		}
	})
	return runner{bin: ctl, socket: filepath.Join(stateDir, "imsid.sock")}, stateDir, dlog
}

func waitUntil(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// imsictl probe on the daemon's own port refuses within a second, naming
// the daemon, and the daemon notices nothing (issue 15, item 5).
func TestE2EProbeRefusesTheDaemonsPort(t *testing.T) {
	r, stateDir, _ := startDaemon(t, "../../simulator/scenarios/basic.yaml")
	status := func() api.Status {
		res := r.run(t, []string{"IMSICTL_NOW="}, "status", "--json")
		var st api.Status
		json.Unmarshal([]byte(res.stdout), &st)
		return st
	}
	waitUntil(t, "connected", 30*time.Second, func() bool { return status().State == "connected" })
	// Usage is sampled at every poll that reads the counters (issue 15,
	// item 3), not every five persist rounds.
	waitUntil(t, "usage counted within seconds", 10*time.Second, func() bool {
		for _, u := range status().Usage {
			if u.Profile == "telekom-de" && u.UsedBytes > 0 && u.Spend != "" {
				return true
			}
		}
		return false
	})
	decisions := func() int {
		res := r.run(t, nil, "decisions", "--json", "--since", "all")
		var p api.DecisionPage
		json.Unmarshal([]byte(res.stdout), &p)
		return len(p.Decisions)
	}
	before := decisions()
	for _, args := range [][]string{
		{"probe", "--device", filepath.Join(stateDir, "modem")},
		// Without the daemon's socket in the environment: the open file
		// descriptor still names it.
		{"probe", "--device", filepath.Join(stateDir, "modem"), "--socket", "/nonexistent.sock"},
	} {
		start := time.Now()
		env := []string{}
		if len(args) > 3 {
			env = append(env, "IMSICTL_SOCKET=")
		}
		res := r.run(t, env, args...)
		if took := time.Since(start); took > time.Second {
			t.Errorf("%v took %s", args, took)
		}
		if res.code != exitFail || !strings.Contains(res.stderr, "in use by imsid (pid ") {
			t.Errorf("%v: exit %d, stderr:\n%s", args, res.code, res.stderr)
		}
	}
	// The daemon's own queue answers instead, identities masked.
	res := r.run(t, nil, "at", "AT+CSQ")
	if res.code != exitOK || !strings.Contains(res.stdout, "+CSQ: ") || !strings.HasSuffix(res.stdout, "OK\n") {
		t.Errorf("at AT+CSQ: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = r.run(t, nil, "at", "AT+CIMI")
	if res.code != exitOK || strings.Contains(res.stdout, "262011234567890") || !strings.Contains(res.stdout, "262011*******90") {
		t.Errorf("at AT+CIMI: exit %d, IMSI not masked:\n%s", res.code, res.stdout)
	}
	if res = r.run(t, nil, "at", "AT+NOPE"); res.code != exitFail {
		t.Errorf("at AT+NOPE: exit %d", res.code)
	}
	// Without --device, probe asks the daemon, which probes through its own
	// queue and prints what a direct probe prints, identities masked.
	res = r.run(t, nil, "probe")
	if res.code != exitOK || !strings.Contains(res.stdout, "registration\n") || !strings.Contains(res.stdout, "262011*******90") ||
		!strings.Contains(res.stdout, "dialect") || strings.Contains(res.stdout, "262011234567890") {
		t.Errorf("probe through the daemon: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = r.run(t, nil, "probe", "--json")
	var rep modemreport.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil || res.code != exitOK || !rep.Masked || rep.SIM.IMSI == nil || rep.Registration.PLMN == nil {
		t.Errorf("probe --json through the daemon: exit %d, %v\n%s%s", res.code, err, res.stdout, res.stderr)
	}
	if res = r.run(t, nil, "probe", "--reveal"); res.code != exitUsage || !strings.Contains(res.stderr, "--reveal need --device") {
		t.Errorf("probe --reveal through the daemon: exit %d\n%s", res.code, res.stderr)
	}
	time.Sleep(time.Second)
	if st := status(); st.State != "connected" || !st.Modem.Responding {
		t.Errorf("the daemon noticed: state %s, responding %v", st.State, st.Modem.Responding)
	}
	if after := decisions(); after != before {
		t.Errorf("%d decisions after the probe, %d before", after, before)
	}
}

// Mutations answer their real outcome: --wait follows a switch to
// verified; a switch away from a pin is refused (409 pinned); pin --for 0
// is refused; pin takes the config's duration syntax (issue 15, item 2).
func TestE2EHonestMutations(t *testing.T) {
	r, _, _ := startDaemon(t, "../../simulator/scenarios/basic.yaml")
	status := func() api.Status {
		res := r.run(t, []string{"IMSICTL_NOW="}, "status", "--json")
		var st api.Status
		json.Unmarshal([]byte(res.stdout), &st)
		return st
	}
	waitUntil(t, "connected", 30*time.Second, func() bool { return status().State == "connected" })

	res := r.run(t, []string{"IMSICTL_NOW="}, "switch", "vodafone-uk", "--wait", "--wait-timeout", "60s")
	if res.code != exitOK || !strings.Contains(res.stdout, "queued") || !strings.Contains(res.stdout, "min_dwell (10m)") ||
		!strings.Contains(res.stdout, "verified at decision #") {
		t.Fatalf("switch --wait: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if st := status(); st.ActiveProfile == nil || *st.ActiveProfile != "vodafone-uk" {
		t.Fatalf("after switch --wait: %+v", st.ActiveProfile)
	}
	res = r.run(t, nil, "pin", "vodafone-uk", "--for", "0")
	if res.code != exitUsage || !strings.Contains(res.stderr, "no time") {
		t.Errorf("pin --for 0: exit %d\n%s", res.code, res.stderr)
	}
	res = r.run(t, []string{"IMSICTL_NOW="}, "pin", "vodafone-uk", "--for", "1d", "--wait", "--wait-timeout", "60s")
	if res.code != exitOK || !strings.Contains(res.stdout, "done at decision #") {
		t.Fatalf("pin --for 1d --wait: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = r.run(t, nil, "switch", "telekom-de")
	if res.code != exitFail || !strings.Contains(res.stderr, "pinned") {
		t.Errorf("switch away from a pin: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if st := status(); st.Pin == nil || st.Pin.Profile != "vodafone-uk" || st.Pin.Until == nil {
		t.Errorf("the pin did not survive: %+v", st.Pin)
	}

	// status --watch refreshes until interrupted, then exits 0 (item 6).
	cmd := exec.Command(r.bin, "status", "--watch", "--every", "200ms")
	cmd.Env = r.env(nil)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "three refreshes", 10*time.Second, func() bool { return strings.Count(out.String(), "--- ") >= 3 })
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Errorf("status --watch after SIGINT: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "pinned until") {
		t.Errorf("status --watch output:\n%s", out.String())
	}
}
