package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/apiclient"
)

// TestE2EDaemonSimulate drives the real daemon (imsid --simulate, on the
// simulator over a pty) with the built imsictl: status, profiles, switch,
// pin, unpin, events and decisions, then the daemon going away.
func TestE2EDaemonSimulate(t *testing.T) {
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
	daemon := exec.Command(imsid, "--simulate", "../../simulator/scenarios/basic.yaml", "--speed", "20", "--state-dir", stateDir)
	var dlog lockedBuffer
	daemon.Stdout, daemon.Stderr = &dlog, &dlog
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			daemon.Process.Signal(syscall.SIGTERM)
			daemon.Wait()
		}
	}
	defer stop()
	r := runner{bin: ctl, socket: filepath.Join(stateDir, "imsid.sock")}
	ctl1 := func(args ...string) result { return r.run(t, []string{"IMSICTL_NOW="}, args...) }
	status := func() (api.Status, bool) {
		res := ctl1("status", "--json")
		var st api.Status
		return st, res.code == 0 && json.Unmarshal([]byte(res.stdout), &st) == nil
	}
	waitFor := func(what string, d time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; daemon log:\n%s", what, dlog.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	active := func(p string) func() bool {
		return func() bool {
			st, ok := status()
			return ok && st.State == "connected" && st.ActiveProfile != nil && *st.ActiveProfile == p
		}
	}
	waitFor("connected on telekom-de", 30*time.Second, active("telekom-de"))

	res := ctl1("status")
	if res.code != 0 || !strings.Contains(res.stdout, "telekom-de") || !strings.Contains(res.stdout, "signal") {
		t.Fatalf("status: %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = ctl1("profiles")
	if res.code != 0 || !strings.Contains(res.stdout, "* telekom-de") || !strings.Contains(res.stdout, "vodafone-uk") {
		t.Fatalf("profiles: %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = ctl1("switch", "nope")
	if res.code != 1 || !strings.Contains(res.stderr, "profiles: ") || !strings.Contains(res.stderr, "vodafone-uk") {
		t.Fatalf("switch nope: %d\n%s", res.code, res.stderr)
	}

	// Follow the events across the switch.
	// --after 1 replays all the daemon holds: the switch is seen however
	// late the follower subscribes.
	follow := exec.Command(ctl, "events", "--follow", "--after", "1", "--json")
	follow.Env = r.env([]string{"IMSICTL_NOW="})
	out, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var ferr lockedBuffer
	follow.Stderr = &ferr
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		follow.Process.Kill()
		follow.Wait()
	}()
	events := make(chan api.Event, 256)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ev api.Event
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				events <- ev
			}
		}
		close(events)
	}()
	res = ctl1("switch", "vodafone-uk", "--reason", "imsictl e2e")
	if res.code != 0 || !strings.Contains(res.stdout, "switch to vodafone-uk") {
		t.Fatalf("switch: %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	waitFor("connected on vodafone-uk", 40*time.Second, active("vodafone-uk"))
	sawSwitch := false
	timeout := time.After(10 * time.Second)
	for !sawSwitch {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the event stream ended; stderr:\n%s", ferr.String())
			}
			if ev.Type == api.EventDecision {
				var d api.Decision
				json.Unmarshal(ev.Data, &d)
				sawSwitch = d.Kind == "switch" && d.To != nil && *d.To == "vodafone-uk"
			}
		case <-timeout:
			t.Fatalf("no switch decision on the event stream; stderr:\n%s", ferr.String())
		}
	}

	res = ctl1("decisions", "--since", "1h")
	if res.code != 0 || !strings.Contains(res.stdout, "vodafone-uk") {
		t.Fatalf("decisions: %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = ctl1("pin", "vodafone-uk", "--for", "10m")
	if res.code != 0 || !strings.Contains(res.stdout, "pin on vodafone-uk until") {
		t.Fatalf("pin: %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	waitFor("the pin", 10*time.Second, func() bool {
		st, ok := status()
		return ok && st.Pin != nil && st.Pin.Profile == "vodafone-uk"
	})
	res = ctl1("status")
	if !strings.Contains(res.stdout, "pinned until") {
		t.Errorf("status does not show the pin:\n%s", res.stdout)
	}
	// An unpin is queued like a pin (#15 item 2): the answer says so, and
	// --wait follows it until the daemon's status shows the pin gone.
	res = ctl1("unpin", "--wait")
	if res.code != 0 || !strings.Contains(res.stdout, "unpin of vodafone-uk: queued, not yet done") ||
		!strings.Contains(res.stdout, "queued as r") || !strings.Contains(res.stdout, "done: the pin on vodafone-uk is released") {
		t.Fatalf("unpin --wait: %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if st, ok := status(); !ok || st.Pin != nil {
		t.Fatalf("after unpin --wait: %+v", st.Pin)
	}
	res = ctl1("unpin")
	if res.code != 0 || !strings.Contains(res.stdout, "unpin: done") || !strings.Contains(res.stdout, "nothing is pinned") {
		t.Fatalf("unpin with nothing pinned: %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = ctl1("events", "--last", "5")
	if res.code != 0 || strings.Count(res.stdout, "\n") == 0 {
		t.Errorf("events: %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	stop()
	res = ctl1("status")
	if res.code != 3 || !strings.Contains(res.stderr, "imsid is not running") {
		t.Errorf("after the daemon stopped: %d\n%s", res.code, res.stderr)
	}
	os.Remove(filepath.Join(stateDir, "imsid.sock"))
}

// TestE2ETryOutNoFlags is the README's "try the pieces by hand": imsid
// --simulate with no config and no state dir in one terminal, a bare
// `imsictl status` in another, no socket flag on either side.
func TestE2ETryOutNoFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: builds and runs the daemon")
	}
	if _, err := os.Stat(apiclient.DefaultSocket()); err == nil {
		t.Skip("a system imsid socket exists here; imsictl would rightly prefer it")
	}
	dir := t.TempDir()
	ctl := ctlBinary(t, dir)
	imsid := filepath.Join(dir, "imsid") // built by ctlBinary
	// Both processes share a private temporary directory, so this test's
	// try-out socket cannot meet a developer's.
	tmp, err := shortTempDir(t)
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "TMPDIR="+tmp)
	daemon := exec.Command(imsid, "--simulate", "../../simulator/scenarios/basic.yaml", "--speed", "20")
	daemon.Env = env
	var dlog lockedBuffer
	daemon.Stdout, daemon.Stderr = &dlog, &dlog
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { daemon.Process.Signal(syscall.SIGTERM); daemon.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		cmd := exec.Command(ctl, "status")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err == nil {
			if !strings.Contains(string(out), "state") {
				t.Fatalf("status output:\n%s", out)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bare imsictl status never reached the try-out daemon: %v\n%s\ndaemon log:\n%s", err, out, dlog.String())
		}
		time.Sleep(200 * time.Millisecond) // e2e: a real daemon starting
	}
}
