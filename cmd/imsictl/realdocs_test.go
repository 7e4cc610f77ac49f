package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/api"
)

// realExamples are the docs/cli.md examples of commands that ask the
// daemon: TestCLIRealDaemon produces them from the real one (imsid
// --simulate downgrade-2g), not from the fake daemon TestCLI uses for error
// paths the simulator cannot stage on demand.
var realExamples = map[string]bool{
	"status": true, "status-json": true, "threats": true, "profiles": true, "profiles-json": true,
	"decisions": true, "decisions-json": true, "events": true, "events-json": true, "at": true,
	"switch-unknown": true, "switch-quarantined": true, "switch-pinned": true,
	"pin": true, "pin-json": true, "unpin": true, "unpin-json": true, "switch": true, "switch-json": true,
	"switch-cap": true, "switch-cap-json": true,
}

// Run to run, the real daemon's output differs in what time and the radio
// decide: times, counts, measurements, sizes and table widths. Everything
// else (the lines, their words, the reason codes, the JSON keys) must be
// what the page shows.
var (
	realDateRe     = regexp.MustCompile(`\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) `)
	realTimeRe     = regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?`)
	realDurationRe = regexp.MustCompile(`\b(\d+(\.\d+)?(ns|µs|ms|s|m|h|d))+\b`)
	realBytesRe    = regexp.MustCompile(`\b\d+(\.\d+)? (B|kB|MB|GB|TB)\b`)
	realNumberRe   = regexp.MustCompile(`\d+(\.\d+)?`)
	realSpaceRe    = regexp.MustCompile(`[ \t]+`)
)

func normalizeReal(s string) string {
	s = strings.ReplaceAll(s, "(now)", "(0s ago)")
	// A time on another day than now carries its date (clock): a run
	// late in the UTC day pins past midnight.
	s = realDateRe.ReplaceAllString(s, "")
	s = realTimeRe.ReplaceAllString(s, "TIME")
	s = realDurationRe.ReplaceAllString(s, "DUR")
	s = realBytesRe.ReplaceAllString(s, "BYTES")
	s = realNumberRe.ReplaceAllString(s, "N")
	return realSpaceRe.ReplaceAllString(s, " ")
}

// TestCLIRealDaemon runs the documented commands against the real daemon
// on the simulator's 2G downgrade and keeps docs/cli.md's examples of them
// equal to what they print, up to normalizeReal; -update rewrites them
// from this run.
func TestCLIRealDaemon(t *testing.T) {
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
	daemon := exec.Command(imsid, "--simulate", "downgrade-2g", "--speed", "20", "--state-dir", stateDir)
	var dlog lockedBuffer
	daemon.Stdout, daemon.Stderr = &dlog, &dlog
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { daemon.Process.Signal(syscall.SIGTERM); daemon.Wait() }()
	r := runner{bin: ctl, socket: filepath.Join(stateDir, "imsid.sock")}
	run := func(args ...string) result { return r.run(t, []string{"IMSICTL_NOW="}, args...) }
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(40 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; daemon log:\n%s", what, dlog.String())
			}
			time.Sleep(100 * time.Millisecond) // e2e: a real daemon at 20x
		}
	}
	status := func() api.Status {
		var st api.Status
		if res := run("status", "--json"); res.code == 0 {
			json.Unmarshal([]byte(res.stdout), &st)
		}
		return st
	}
	on := func(p string) func() bool {
		return func() bool {
			st := status()
			return st.State == "connected" && st.ActiveProfile != nil && *st.ActiveProfile == p
		}
	}
	pinned := func(want bool) func() bool {
		return func() bool { return (status().Pin != nil) == want }
	}

	// The downgrade is over: the daemon left 26201 on the 2G finding,
	// verified vodafone-uk, and the border network's finding is in.
	waitFor("the downgrade handled", func() bool {
		var tl api.ThreatList
		res := run("threats", "--json")
		if res.code != 0 || json.Unmarshal([]byte(res.stdout), &tl) != nil {
			return false
		}
		rules := map[string]bool{}
		for _, f := range tl.Findings {
			rules[f.Rule] = f.Rule != "D1a" || f.DecisionSeq != nil
		}
		st := status()
		used := false
		for _, u := range st.Usage {
			used = used || (u.Profile == "vodafone-uk" && u.UsedBytes > 0)
		}
		return rules["D1a"] && rules["D2b"] && on("vodafone-uk")() &&
			strings.Contains(run("decisions").stdout, "verified") && st.Link.LastProbe != nil && used
	})

	examples := map[string]string{}
	doc := func(name string, wantCode int, args ...string) result {
		t.Helper()
		res := run(args...)
		if res.code != wantCode {
			t.Errorf("%s: exit %d, want %d\n%s%s", strings.Join(args, " "), res.code, wantCode, res.stdout, res.stderr)
		}
		// The page shows imsid --simulate's default state directory.
		examples[name] = strings.ReplaceAll(docExample(args, res), stateDir, "/tmp/imsid-sim")
		return res
	}
	doc("status", 0, "status")
	doc("status-json", 0, "status", "--json")
	doc("threats", 0, "threats")
	doc("profiles", 0, "profiles")
	doc("profiles-json", 0, "profiles", "--json")
	doc("decisions", 0, "decisions")
	doc("decisions-json", 0, "decisions", "--since", "1h", "--json")
	doc("events", 0, "events", "--last", "4")
	doc("events-json", 0, "events", "--json", "--last", "2")
	doc("at", 0, "at", "AT+CSQ")

	// One clock per mode: a decision's event carries the decision's time
	// (under --simulate the scenario's, which runs 20 times faster than
	// the wall clock, so a mix-up shows at once).
	for _, line := range strings.Split(strings.TrimSpace(run("events", "--json", "--last", "50").stdout), "\n") {
		var ev api.Event
		var d api.Decision
		if json.Unmarshal([]byte(line), &ev) != nil || ev.Type != api.EventDecision || json.Unmarshal(ev.Data, &d) != nil {
			continue
		}
		if gap := ev.Time.Sub(d.Time); gap < -5*time.Second || gap > 5*time.Second {
			t.Errorf("decision #%d at %s, its event at %s: two clocks", d.Seq, d.Time, ev.Time)
		}
	}

	doc("switch-unknown", 1, "switch", "tmobile")
	doc("switch-quarantined", 1, "switch", "telekom-de")
	doc("pin-json", 0, "pin", "vodafone-uk", "--for", "2h", "--json")
	waitFor("the pin", pinned(true))
	doc("switch-pinned", 1, "switch", "t-mobile")
	doc("unpin-json", 0, "unpin", "--json")
	waitFor("no pin", pinned(false))
	doc("pin", 0, "pin", "vodafone-uk", "--for", "2h")
	waitFor("the pin", pinned(true))
	doc("unpin", 0, "unpin")
	waitFor("no pin", pinned(false))
	doc("switch", 0, "switch", "t-mobile", "--reason", "field test", "--wait")
	doc("switch-json", 0, "--json", "switch", "--reason", "field test", "vodafone-uk")
	waitFor("back on vodafone-uk", on("vodafone-uk"))
	// The operator's switch budget (3 per hour) is spent: the next switch
	// is refused until a slot frees.
	if res := run("switch", "t-mobile", "--wait"); res.code != 0 && !strings.Contains(res.stderr, "budget") {
		t.Fatalf("third switch: %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	doc("switch-cap", 1, "switch", "vodafone-uk")
	doc("switch-cap-json", 1, "switch", "vodafone-uk", "--json")

	for name := range realExamples {
		if _, ok := examples[name]; !ok {
			t.Errorf("example %q is not produced", name)
		}
	}
	checkDocs(t, examples, func(name string) bool { return realExamples[name] },
		func(page, got string) bool { return normalizeReal(page) == normalizeReal(got) })
}
