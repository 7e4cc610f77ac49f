package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/demo"
)

// TestDemoFast is `make demo` in CI: the real imsid and imsictl, built
// from this tree, run the store day in --fast mode, and the summary must
// tell the story: the failover, the move away from the catcher, no switch
// while jammed, the return for cost, and the operator's pin.
func TestDemoFast(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: builds and runs the daemon for about 30 s")
	}
	root := repoRoot(t)
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(os.PathSeparator), "./cmd/imsid", "./cmd/imsictl")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	svg := filepath.Join(t.TempDir(), "timeline.svg")
	work := t.TempDir()
	defer func() {
		if t.Failed() {
			logDecisions(t, filepath.Join(work, "imsid.log"))
		}
	}()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"--fast", "--json", "--bin", bin, "--scenario", filepath.Join(root, "simulator/scenarios/store-day.yaml"), "--svg", svg, "--workdir", work}, &stdout, &stderr)
	wall := time.Since(start)
	if code != 0 {
		t.Fatalf("demo exited %d\nstderr:\n%s", code, stderr.String())
	}
	t.Logf("fast demo: %v wall", wall.Round(time.Millisecond))
	// The day is 14 h at 720x = 70 s; the bound leaves room for a busy
	// machine, and stays well under make demo's 2 minutes.
	if wall > 100*time.Second {
		t.Errorf("fast demo took %v, want under 100 s", wall)
	}

	var s demo.Summary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, stdout.String())
	}
	if len(s.Profiles) != 3 {
		t.Fatalf("want 3 profiles, got %+v", s.Profiles)
	}
	cheap, fallback := s.Profiles[0].Profile, s.Profiles[1].Profile
	const (
		outage   = 2 * time.Hour // 09:00
		catcher  = 3*time.Hour + 30*time.Minute
		jamStart = 5*time.Hour + 30*time.Minute
		jamEnd   = 5*time.Hour + 50*time.Minute
		back     = 7 * time.Hour // 14:00
		pinAt    = 9 * time.Hour // 16:00
		// Offsets are estimated from the outside (see recorder); the
		// story's events are hours apart, so a generous slack is safe.
		slack = 15 * time.Minute
	)
	find := func(what string, ok func(demo.SwitchSummary) bool) demo.SwitchSummary {
		t.Helper()
		for _, x := range s.Switches {
			if ok(x) {
				return x
			}
		}
		t.Errorf("no %s among the switches: %+v", what, s.Switches)
		return demo.SwitchSummary{}
	}
	within := func(x demo.SwitchSummary, from, to time.Duration) bool { return x.At >= from && x.At <= to }
	find("failover from the cheap profile at the outage", func(x demo.SwitchSummary) bool {
		return x.Kind == "switch" && x.From == cheap && x.To != cheap && x.Trigger == "hard" && within(x, outage-slack, outage+slack)
	})
	// Where to is the daemon's call (the roaming profile, or the cheap one
	// if it has no fresh evidence that it is still down).
	find("move away from the catcher on the fallback", func(x demo.SwitchSummary) bool {
		return x.Kind == "switch" && x.From == fallback && x.To != fallback && x.Trigger == "threat" && within(x, catcher-slack, catcher+slack)
	})
	for _, x := range s.Switches {
		if within(x, jamStart, jamEnd) {
			t.Errorf("switch during jamming: %+v", x)
		}
	}
	find("return to the cheap profile for cost", func(x demo.SwitchSummary) bool {
		return x.To == cheap && x.Trigger == "soft" && strings.Contains(strings.Join(x.Reasons, ","), "better_profile") && within(x, back-slack, back+time.Hour)
	})
	find("the operator's pin", func(x demo.SwitchSummary) bool {
		return x.To == fallback && x.Trigger == "manual" && within(x, pinAt-slack, pinAt+slack)
	})
	if len(s.Pins) != 1 || !strings.Contains(s.Pins[0], "imsictl pin "+fallback) || !strings.Contains(s.Pins[0], "accepted") {
		t.Errorf("want one accepted imsictl pin of %s, got %q", fallback, s.Pins)
	}
	jamAlert := false
	for _, a := range s.Alerts {
		if a.At >= jamStart && a.At <= jamEnd {
			jamAlert = true
		}
	}
	if !jamAlert {
		t.Errorf("no alert during jamming: %+v", s.Alerts)
	}
	if s.MaxThreat != "critical" && s.MaxThreat != "high" {
		t.Errorf("max threat %q, want high or critical (the catcher)", s.MaxThreat)
	}
	if s.TotalCost <= 0 || s.Currency == "" {
		t.Errorf("no cost: %v %q", s.TotalCost, s.Currency)
	}
	// Bounds on the outcome, loose enough for the daemon's own choices.
	if s.Profiles[0].Active < 3*time.Hour {
		t.Errorf("the cheap profile carried only %v of the day", s.Profiles[0].Active)
	}
	if s.Downtime > time.Hour {
		t.Errorf("downtime %v, want well under an hour", s.Downtime)
	}
	pic, err := os.ReadFile(svg)
	if err != nil || !bytes.Contains(pic, []byte("<svg")) || !bytes.Contains(pic, []byte("profile in use")) {
		t.Errorf("timeline picture: %v (%d bytes)", err, len(pic))
	}
	if !strings.Contains(stderr.String(), "OPERATOR imsictl pin") || !strings.Contains(stderr.String(), "Timeline picture: "+svg) {
		t.Errorf("progress lacks the pin or the picture's path:\n%s", stderr.String())
	}
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"extra"}, &out, &errb); code != 2 {
		t.Errorf("an argument: exit %d, want 2", code)
	}
	if code := run(context.Background(), []string{"--bin", t.TempDir()}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "make build") {
		t.Errorf("no binaries: exit %d, want 1 with a hint; stderr %q", code, errb.String())
	}
}

// logDecisions shows what the daemon decided and why, from its log.
func logDecisions(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("daemon log: %v", err)
		return
	}
	var keep []string
	for _, l := range strings.Split(string(data), "\n") {
		if (strings.HasPrefix(l, "[+") && !strings.Contains(l, " state ")) || strings.Contains(l, "level=ERROR") {
			keep = append(keep, l)
		}
	}
	t.Logf("daemon's progress without state changes (%s):\n%s", path, strings.Join(keep, "\n"))
}

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", "..", ".."))
}
