package main

import (
	"bytes"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 45 * time.Second: "45s", 90 * time.Second: "2m", 12 * time.Minute: "12m",
		time.Hour: "1h", 59*time.Minute + 50*time.Second: "1h", 65 * time.Minute: "1h05m", -12 * time.Minute: "12m", 30*24*time.Hour + 12*time.Hour: "30d12h", 72 * time.Hour: "3d",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%v) = %q, want %q", d, got, want)
		}
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if got := relative(now.Add(12*time.Minute), now); got != "in 12m" {
		t.Error(got)
	}
	if got := relative(now.Add(-3*time.Hour), now); got != "3h ago" {
		t.Error(got)
	}
	if got := ago(now.Add(time.Second), now); got != "now" {
		t.Error(got)
	}
	if got := relative(now, now); got != "now" {
		t.Error(got)
	}
}

func TestBytesAndBars(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 1_234_000_000: "1.2 GB", 5_000_000_000_000: "5.0 TB"} {
		if got := bytesHuman(n); got != want {
			t.Errorf("bytesHuman(%d) = %q, want %q", n, got, want)
		}
	}
	if bars(3) != "▮▮▮▯▯" || bars(-1) != "▯▯▯▯▯" || bars(9) != "▮▮▮▮▮" {
		t.Error(bars(3), bars(-1), bars(9))
	}
}

func TestColourOnlyOnATerminal(t *testing.T) {
	mk := func(tty bool, vars map[string]string) *env {
		return &env{tty: tty, getenv: func(k string) string { return vars[k] }}
	}
	for _, tc := range []struct {
		e    *env
		g    globals
		want bool
	}{
		{mk(true, nil), globals{}, true},
		{mk(false, nil), globals{}, false},
		{mk(true, map[string]string{"NO_COLOR": "1"}), globals{}, false},
		{mk(true, map[string]string{"TERM": "dumb"}), globals{}, false},
		{mk(true, nil), globals{noColor: true}, false},
	} {
		p := newPalette(tc.e, &tc.g)
		if p.on != tc.want {
			t.Errorf("%+v %+v: colour %v", tc.e, tc.g, p.on)
		}
		if got := p.red("x"); (got != "x") != tc.want {
			t.Errorf("red = %q", got)
		}
	}
}

// TestCompletionFlagsMatch keeps the completion scripts' flag lists equal to
// the flags each command really has.
func TestCompletionFlagsMatch(t *testing.T) {
	flagRe := regexp.MustCompile(`(?m)^\s+-{1,2}([a-z-]+)`)
	globalSet := map[string]bool{}
	for _, f := range globalFlags {
		globalSet[f] = true
	}
	for _, c := range visibleCommands() {
		var out bytes.Buffer
		runEnv(t.Context(), &env{stdout: &out, stderr: &out}, []string{"help", c.name})
		var got []string
		for _, m := range flagRe.FindAllStringSubmatch(out.String(), -1) {
			if f := "--" + m[1]; !globalSet[f] || c.name == "probe" {
				got = append(got, f)
			}
		}
		sort.Strings(got)
		want := append([]string(nil), commandFlags[c.name]...)
		sort.Strings(want)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: help lists %v, completion has %v", c.name, got, want)
		}
		for _, f := range want {
			if f != "--json" && f != "--reveal" && f != "--trace" && f != "--follow" && f != "--wait" && f != "--watch" && !contains(valueFlags, f) {
				t.Errorf("%s %s: a flag that takes a value must be in valueFlags", c.name, f)
			}
		}
	}
}

// Every command's help shows examples (issue 15, item 6).
func TestHelpHasExamples(t *testing.T) {
	for _, c := range visibleCommands() {
		var out bytes.Buffer
		runEnv(t.Context(), &env{stdout: &out, stderr: &out}, []string{"help", c.name})
		if !strings.Contains(out.String(), "\nexamples:\n  imsictl "+c.name) {
			t.Errorf("imsictl help %s has no examples:\n%s", c.name, out.String())
		}
	}
}
