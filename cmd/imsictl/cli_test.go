package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imsid/imsid/internal/api"
)

var update = flag.Bool("update", false, "rewrite the generated examples in docs/cli.md")

// ctlBinary builds imsictl, and imsid beside it, once per test into dir.
func ctlBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "imsictl")
	out, err := exec.Command("go", "build", "-ldflags", "-X main.version=v0.4.2", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// imsid beside it: imsictl runs it for probe --device and config validate.
	if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "imsid"), "../imsid").CombinedOutput(); err != nil {
		t.Fatalf("cannot build imsid: %v\n%s", err, out)
	}
	return bin
}

type result struct {
	code           int
	stdout, stderr string
}

// runner execs the built binary with a clean, reproducible environment.
type runner struct {
	bin    string
	socket string
}

func (r runner) env(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "IMSICTL_") || strings.HasPrefix(kv, "NO_COLOR=") || strings.HasPrefix(kv, "TZ=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "TZ=UTC", "IMSICTL_NOW="+docNow.Format(time.RFC3339))
	if r.socket != "" {
		env = append(env, "IMSICTL_SOCKET="+r.socket)
	}
	return append(env, extra...)
}

func (r runner) run(t *testing.T, extraEnv []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(r.bin, args...)
	cmd.Env = r.env(extraEnv)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %q: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

type cliCase struct {
	name  string
	args  []string
	env   []string
	setup func(t *testing.T, s *served)
	code  int
	// out and errOut are substrings stdout and stderr must hold.
	out, errOut []string
	// quietErr: nothing on stderr.
	quietErr bool
	// doc names the docs/cli.md example this run generates.
	doc   string
	check func(t *testing.T, s *served, r result)
}

// TestCLI runs every command of the built binary against the real API
// server backed by a fake daemon, over the unix socket and over TCP.
func pinTelekom(t *testing.T, s *served) { s.fake.Pin(t.Context(), "telekom", 0) }

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	bin := ctlBinary(t, dir)
	examples := map[string]string{}

	for _, tc := range cliCases(dir) {
		t.Run(tc.name, func(t *testing.T) {
			s := serveFake(t, true)
			if tc.setup != nil {
				tc.setup(t, s)
			}
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				a = strings.ReplaceAll(a, "$URL", s.url)
				args[i] = strings.ReplaceAll(a, "$SOCKET", s.socket)
			}
			env := make([]string, len(tc.env))
			for i, a := range tc.env {
				env[i] = strings.ReplaceAll(a, "$URL", s.url)
			}
			r := runner{bin: bin, socket: s.socket}.run(t, env, args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, w := range tc.out {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tc.errOut {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if tc.quietErr && r.stderr != "" {
				t.Errorf("stderr not empty:\n%s", r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, testToken) {
				t.Errorf("the token was printed:\n%s\n%s", r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout, "\x1b[") {
				t.Errorf("colour codes without a terminal:\n%s", r.stdout)
			}
			if tc.check != nil {
				tc.check(t, s, r)
			}
			if tc.doc != "" {
				// The port changes per run; the docs show a stable URL.
				ex := docExample(args, r)
				if s.url != "" {
					ex = strings.ReplaceAll(ex, s.url, "http://gw1.example.net:8787")
				}
				examples[tc.doc] = ex
			}
		})
	}
	// The examples of commands that ask the daemon come from the real one
	// (TestCLIRealDaemon); this run still checks them against the fake.
	t.Run("docs", func(t *testing.T) {
		checkDocs(t, examples, func(name string) bool { return !realExamples[name] }, func(a, b string) bool { return a == b })
	})
}

func cliCases(dir string) []cliCase {
	goodToken := filepath.Join(dir, "token")
	badToken := filepath.Join(dir, "bad-token")
	os.WriteFile(goodToken, []byte(testToken+"\n"), 0o600)
	os.WriteFile(badToken, []byte("not-the-token-at-all\n"), 0o600)
	badConfig := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badConfig, []byte("modem:\n  device: /dev/ttyUSB2\n  baud: fast\nsim:\n  method: teleport\n"), 0o600)
	// The shipped example with its TCP listener turned on but no token file
	// yet: the daemon would exit at start, so validate must refuse it.
	example, _ := os.ReadFile("../../examples/imsid.yaml")
	noToken := filepath.Join(dir, "no-token.yaml")
	os.WriteFile(noToken, []byte(strings.Replace(string(example), "  # listen: \"8787\"", "  listen: \"8787\"\n  token_file: missing.token", 1)), 0o600)

	return []cliCase{
		// status
		{name: "status", args: []string{"status"}, doc: "status", quietErr: true,
			out: []string{"connected", "telekom", "Telekom.de (26201), LTE, home", "▮▮▮▮▯ 4/5", "RSRP -88 dBm",
				"up, 10.64.3.17", "none", "vodafone → telekom 12m ago (11:48 UTC, soft trigger): telekom scores 82.5"}},
		{name: "status-json", args: []string{"status", "--json"}, doc: "status-json", quietErr: true,
			check: func(t *testing.T, s *served, r result) {
				var got api.Status
				if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
					t.Fatal(err)
				}
				want, _ := s.fake.Status(t.Context())
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("status --json differs from the daemon's status (-want +got):\n%s", d)
				}
			}},
		{name: "status-json-before-command", args: []string{"--json", "status"}, out: []string{`"state": "connected"`}},
		{name: "status-pinned", args: []string{"status"},
			setup: func(t *testing.T, s *served) { s.fake.Pin(t.Context(), "telekom", 2*time.Hour) },
			out:   []string{"telekom (pinned until 14:00 UTC, in 2h; previous vodafone)"}},
		{name: "status-hostile-operator", args: []string{"status"},
			// A broadcast operator name is the network's to choose: a fake
			// base station can put escape sequences and bidi overrides in it.
			setup: func(t *testing.T, s *served) {
				s.fake.mu.Lock()
				s.fake.operator = "Evil\x1b]0;pwned\x07\x1b[2J\u202eliah\u009b"
				s.fake.mu.Unlock()
			},
			out: []string{`Evil\x1b]0;pwned\x07\x1b[2J\u202eliah\u009b (26201)`},
			check: func(t *testing.T, _ *served, r result) {
				if strings.ContainsAny(r.stdout, "\x1b\x07\u202e\u009b") {
					t.Errorf("raw control or bidi characters printed:\n%q", r.stdout)
				}
			}},
		{name: "events-hostile", args: []string{"events"},
			setup: func(t *testing.T, s *served) {
				s.fake.publish(docNow, api.EventState, api.StateChange{From: "connected", To: "x\x1b[8mhidden", Event: "\u202eevil"})
			},
			out: []string{`x\x1b[8mhidden`, `\u202eevil`},
			check: func(t *testing.T, _ *served, r result) {
				if strings.ContainsAny(r.stdout, "\x1b\u202e") {
					t.Errorf("raw control or bidi characters printed:\n%q", r.stdout)
				}
			}},
		{name: "status-dropped", args: []string{"status"},
			setup: func(t *testing.T, s *served) {
				s.fake.mu.Lock()
				s.fake.dropped = api.Dropped{Decisions: 3, UpstreamEvents: 7}
				s.fake.mu.Unlock()
			},
			out: []string{"not written", "3 decisions, 7 upstream events", "is the disk full?"}},
		{name: "status-tcp", args: []string{"--url", "$URL", "--token-file", goodToken, "status"}, out: []string{"Telekom.de"}},
		{name: "status-tcp-no-token", args: []string{"--url", "$URL", "status"}, code: 1, errOut: []string{"wants a bearer token"}},
		{name: "status-waiting-external", args: []string{"status"},
			setup: func(t *testing.T, s *served) {
				s.fake.mu.Lock()
				defer s.fake.mu.Unlock()
				s.fake.link = func(l *api.Link) {
					*l = api.Link{Owner: "external", Interface: api.Ptr("wwan0"), ProbesBound: true,
						Waiting:  api.Ptr("registered, waiting for the data session owned by external on wwan0: probes fail: timeout"),
						LastHook: &api.HookRun{Hook: "50-nmcli", Event: "link-reconnect", At: docNow.Add(-time.Minute), Result: "ok"}}
				}
			},
			out: []string{"owned by external on wwan0, probes bound; last hook 50-nmcli link-reconnect: ok, 1m ago",
				"registered, waiting for the data session owned by external on wwan0: probes fail: timeout"}},
		{name: "status-timeout", args: []string{"status", "--timeout", "300ms"}, code: 3,
			setup: func(t *testing.T, s *served) {
				s.fake.mu.Lock()
				s.fake.block = make(chan struct{})
				s.fake.mu.Unlock()
			},
			errOut: []string{"did not answer within 300ms", "journalctl -u imsid"}},

		// daemon unreachable
		{name: "not-running", args: []string{"status"}, env: []string{"IMSICTL_SOCKET=" + filepath.Join(dir, "run/imsid/imsid.sock")}, code: 3, doc: "not-running",
			errOut: []string{"imsid is not running", "/run/imsid/imsid.sock", "systemctl start imsid", "imsid --simulate"}},
		{name: "not-running-json", args: []string{"profiles", "--json", "--socket", "/nonexistent/imsid.sock"}, code: 3,
			out: []string{`"code": "unreachable"`}, errOut: []string{"systemctl start imsid"}},
		{name: "tcp-refused", args: []string{"status", "--url", "http://127.0.0.1:1"}, code: 3,
			errOut: []string{"cannot reach imsid at http://127.0.0.1:1", "api.listen"}},

		// threats
		{name: "threats", args: []string{"threats"}, doc: "threats", quietErr: true,
			out: []string{"critical D1a on cell:26201/F1E: active", "seen on 2G (GSM), network 26201 (Telekom.de)", "cell F1E",
				"response: alert, leave_now", "cell 26201/F1E until 12:40 UTC (in 40m)"}},

		// profiles
		{name: "profiles", args: []string{"profiles"}, doc: "profiles", quietErr: true,
			out: []string{"* telekom", "82.5", "quarantined until 12:45 UTC (in 45m)", "1.2 GB / 5.0 GB", "-109 dBm", "9.90 EUR/mo",
				"6.20 EUR", "registration rejected (EMM cause 15)", "the cap runs out Sat 21 Mar 18:00 UTC"}},
		{name: "profiles-json", args: []string{"profiles", "--json"}, doc: "profiles-json", quietErr: true,
			check: func(t *testing.T, s *served, r result) {
				var got api.ProfileList
				if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
					t.Fatal(err)
				}
				want, _ := s.fake.Profiles(t.Context())
				if d := cmp.Diff(want, got.Profiles); d != "" {
					t.Errorf("(-want +got):\n%s", d)
				}
			}},

		// switch
		{name: "switch", args: []string{"switch", "vodafone", "--reason", "field test"}, doc: "switch",
			out: []string{"switch to vodafone: queued, not yet done"},
			check: func(t *testing.T, s *served, r result) {
				s.fake.mu.Lock()
				defer s.fake.mu.Unlock()
				if got := s.fake.switches; len(got) != 1 || got[0] != "vodafone/field test" {
					t.Errorf("daemon got switches %q", got)
				}
			}},
		{name: "switch-json", args: []string{"--json", "switch", "--reason", "field test", "vodafone"}, doc: "switch-json",
			out: []string{`"op": "switch"`, `"profile": "vodafone"`, `"reason": "field test"`, `"status": "accepted"`}},
		{name: "switch-already", args: []string{"switch", "telekom"}, out: []string{"switch to telekom: done"}},
		{name: "switch-unknown", args: []string{"switch", "tmobile"}, code: 1, doc: "switch-unknown",
			errOut: []string{`no profile "tmobile"`, "profiles: telekom, vodafone, o2"}},
		{name: "switch-unknown-json", args: []string{"switch", "tmobile", "--json"}, code: 1,
			out: []string{`"code": "unknown_profile"`, `"profiles": [`}},
		{name: "switch-cap", args: []string{"switch", "vodafone"}, code: 1, doc: "switch-cap",
			setup:  capExhausted,
			errOut: []string{"refused: 3 switches in the last 1h", "allowed from 12:12 UTC (in 12m)", "switch cap"}},
		{name: "switch-cap-json", args: []string{"switch", "vodafone", "--json"}, code: 1, doc: "switch-cap-json",
			setup: capExhausted,
			out:   []string{`"code": "switch_cap"`, `"retry_at": "2026-03-01T12:12:00Z"`, `"retry_after_s": 720`}},
		{name: "switch-quarantined", args: []string{"switch", "o2"}, code: 1, doc: "switch-quarantined",
			errOut: []string{"refused: o2 is quarantined", "allowed from 12:45 UTC (in 45m)", "imsictl profiles"}},
		{name: "switch-no-profile", args: []string{"switch"}, code: 2, errOut: []string{"name one profile", "usage: imsictl switch PROFILE"}},
		{name: "switch-two-profiles", args: []string{"switch", "a", "b"}, code: 2},

		// TCP and tokens
		{name: "tcp-no-token", args: []string{"--url", "$URL", "switch", "vodafone"}, code: 1, doc: "tcp-no-token",
			errOut: []string{"wants a bearer token", "--token-file FILE or IMSICTL_TOKEN", "api.token_file"}},
		{name: "tcp-wrong-token", args: []string{"--url", "$URL", "--token-file", badToken, "switch", "vodafone"}, code: 1,
			errOut: []string{"did not accept the token from --token-file"}},
		{name: "tcp-token-file", args: []string{"--url", "$URL", "--token-file", goodToken, "switch", "vodafone"},
			out: []string{"accepted"}},
		{name: "tcp-token-env", args: []string{"switch", "vodafone"}, env: []string{"IMSICTL_URL=$URL", "IMSICTL_TOKEN=" + testToken},
			out: []string{"accepted"}},
		{name: "tcp-token-flag-url-env", args: []string{"--token", testToken, "pin", "vodafone"}, env: []string{"IMSICTL_URL=$URL"},
			out: []string{"pin on vodafone"}},
		{name: "tcp-token-file-env", args: []string{"unpin"}, env: []string{"IMSICTL_URL=$URL", "IMSICTL_TOKEN_FILE=" + goodToken},
			out: []string{"unpin: done", "nothing is pinned"}},
		{name: "token-file-missing", args: []string{"--url", "$URL", "--token-file", filepath.Join(dir, "nope"), "status"}, code: 2,
			errOut: []string{"--token-file", "no such file"}},
		{name: "bad-url", args: []string{"--url", "ftp://gw", "status"}, code: 2, errOut: []string{"want http:// or https://"}},

		// pin / unpin
		{name: "pin", args: []string{"pin", "vodafone", "--for", "2h"}, doc: "pin", out: []string{"pin on vodafone until 14:00 UTC (in 2h): queued, not yet done"}},
		{name: "pin-json", args: []string{"pin", "vodafone", "--for", "2h", "--json"}, doc: "pin-json",
			out: []string{`"op": "pin"`, `"until": "2026-03-01T14:00:00Z"`}},
		{name: "pin-forever", args: []string{"pin", "telekom"}, out: []string{"until 'imsictl unpin'"}},
		{name: "pin-bad-for", args: []string{"pin", "telekom", "--for", "soon"}, code: 2, errOut: []string{"--for \"soon\": want a duration such as 90s, 2h or 7d"}},
		{name: "pin-unknown", args: []string{"pin", "tmobile"}, code: 1, errOut: []string{"profiles: telekom, vodafone, o2"}},
		// unpin is queued like pin and switch: "done" only when nothing was pinned.
		{name: "unpin", args: []string{"unpin"}, doc: "unpin", setup: pinTelekom,
			out: []string{"unpin of telekom: queued, not yet done", "queued as r4"}},
		{name: "unpin-json", args: []string{"unpin", "--json"}, doc: "unpin-json", setup: pinTelekom,
			out: []string{`"op": "unpin"`, `"status": "accepted"`, `"request_id": "r4"`}},
		{name: "unpin-wait", args: []string{"unpin", "--wait"}, setup: pinTelekom,
			out: []string{"queued, not yet done", "done: the pin on telekom is released"}},
		{name: "unpin-nothing", args: []string{"unpin"}, out: []string{"unpin: done", "nothing is pinned"}},

		// threat ack
		{name: "threat-ack", args: []string{"threat", "ack", "--reason", "modem replaced by J. Doe, ticket 4711"}, doc: "threat-ack",
			out: []string{"tamper alarm acknowledged"},
			check: func(t *testing.T, s *served, r result) {
				s.fake.mu.Lock()
				defer s.fake.mu.Unlock()
				if len(s.fake.acked) != 1 || s.fake.acked[0] != "modem replaced by J. Doe, ticket 4711" {
					t.Fatalf("daemon got %q", s.fake.acked)
				}
			}},
		{name: "threat-ack-no-reason", args: []string{"threat", "ack"}, code: 2, errOut: []string{"--reason is required"}},
		{name: "threat-bad-sub", args: []string{"threat", "clear"}, code: 2, errOut: []string{"want: imsictl threat ack --reason TEXT"}},

		// decisions
		{name: "decisions", args: []string{"decisions"}, doc: "decisions", quietErr: true,
			out: []string{"SEQ", "41", "switch", "vodafone → telekom", "soft", "telekom scores 82.5", "37"}},
		{name: "decisions-limit", args: []string{"decisions", "--limit", "2"},
			check: func(t *testing.T, s *served, r result) {
				if n := strings.Count(r.stdout, "\n"); n != 3 || !strings.Contains(r.stdout, "\n40 ") || !strings.Contains(r.stdout, "\n41 ") {
					t.Errorf("want the header and decisions 40, 41:\n%s", r.stdout)
				}
			}},
		{name: "decisions-since", args: []string{"decisions", "--since", "1h", "--json"}, doc: "decisions-json",
			check: func(t *testing.T, s *served, r result) {
				var p api.DecisionPage
				if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
					t.Fatal(err)
				}
				if len(p.Decisions) != 2 || p.Decisions[0].Seq != 40 || p.Decisions[1].Seq != 41 || p.More {
					t.Errorf("got %+v", p)
				}
			}},
		{name: "decisions-since-time", args: []string{"decisions", "--since", "2026-03-01T11:00:00Z"}, out: []string{"\n41 "}},
		{name: "decisions-bad-since", args: []string{"decisions", "--since", "yesterday"}, code: 2, errOut: []string{`--since "yesterday"`}},
		{name: "decisions-empty", args: []string{"decisions", "--since", "1m"}, errOut: []string{"no decisions in that period"}},

		// events (the stream itself: TestEventsFollow)
		{name: "events", args: []string{"events"}, doc: "events", quietErr: true,
			setup: func(t *testing.T, s *served) { s.fake.seedEvents() },
			out:   []string{"state     connected → switching (switch)", "decision  #41 switch vodafone → telekom (soft)", "link      up 10.64.3.17"}},
		{name: "events-json", args: []string{"events", "--json", "--last", "2"}, doc: "events-json", quietErr: true,
			setup: func(t *testing.T, s *served) { s.fake.seedEvents() },
			check: func(t *testing.T, s *served, r result) {
				lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
				if len(lines) != 2 {
					t.Fatalf("want 2 JSON lines:\n%s", r.stdout)
				}
				var ev api.Event
				if err := json.Unmarshal([]byte(lines[1]), &ev); err != nil || ev.Type != api.EventLink || ev.ID == 0 {
					t.Errorf("%v %+v", err, ev)
				}
			}},
		{name: "events-follow-daemon-down", args: []string{"events", "--follow"}, code: 3,
			env: []string{"IMSICTL_SOCKET=/nonexistent/imsid.sock"}, errOut: []string{"imsid is not running"}},
		{name: "events-after-without-follow", args: []string{"events", "--after", "5"}, code: 2, errOut: []string{"--after goes with --follow"}},
		{name: "events-none", args: []string{"events"}, errOut: []string{"no recent events"}},

		// config validate
		{name: "config-valid", args: []string{"config", "validate", "../../examples/imsid.yaml"}, doc: "config-valid",
			out: []string{"../../examples/imsid.yaml: valid"}},
		{name: "config-missing-token-file", args: []string{"config", "validate", noToken}, code: 1,
			errOut: []string{"api.token_file: " + filepath.Join(dir, "missing.token") + " does not exist"}},
		{name: "config-invalid", args: []string{"config", "validate", badConfig}, code: 1, doc: "config-invalid",
			errOut: []string{badConfig + ":3: modem.baud"}},
		{name: "config-invalid-json", args: []string{"config", "validate", "--json", badConfig}, code: 1, doc: "config-invalid-json",
			out: []string{`"valid": false`, `"line": 3`, `"path": "modem.baud"`}},
		{name: "config-missing", args: []string{"config", "validate", filepath.Join(dir, "nope.yaml")}, code: 1, errOut: []string{"no such file"}},
		{name: "config-usage", args: []string{"config", "check", "x"}, code: 2},

		// version, help, completion
		{name: "version", args: []string{"version"}, out: []string{"imsictl v0.4.2\n"}, doc: "version"},
		{name: "version-json", args: []string{"version", "--json"}, out: []string{`"version": "v0.4.2"`}},
		{name: "help", args: []string{"help"}, out: []string{"commands:", "exit codes: 0 ok, 1 failed or refused, 2 usage, 3 daemon unreachable"}, doc: "help"},
		{name: "help-json", args: []string{"help", "--json"}, out: []string{`"name": "status"`}},
		{name: "help-switch", args: []string{"help", "switch"}, out: []string{"usage: imsictl switch PROFILE", "--reason TEXT"}},
		{name: "help-probe", args: []string{"help", "probe"}, out: []string{"-device"}},
		{name: "dash-h", args: []string{"status", "-h"}, errOut: []string{"usage: imsictl status"}},
		{name: "no-args", args: nil, code: 2, errOut: []string{"usage: imsictl"}},
		{name: "unknown-command", args: []string{"stauts"}, code: 2, errOut: []string{`unknown command "stauts"`}},
		{name: "unknown-flag", args: []string{"status", "--jsno"}, code: 2, errOut: []string{"flag provided but not defined: -jsno"}},
		{name: "completion-bash", args: []string{"completion", "bash"}, out: []string{"complete -F _imsictl imsictl", "__complete profiles"},
			check: func(t *testing.T, s *served, r result) {
				shellSyntax("bash")(t, s, r)
				bashComplete(t, dir, s, r.stdout)
			}},
		{name: "completion-zsh", args: []string{"completion", "zsh"}, out: []string{"#compdef imsictl"}, check: shellSyntax("zsh")},
		{name: "completion-fish", args: []string{"completion", "fish"}, out: []string{"complete -c imsictl"}, check: shellSyntax("fish")},
		{name: "completion-json", args: []string{"completion", "bash", "--json"}, out: []string{`"shell": "bash"`}},
		{name: "completion-bad", args: []string{"completion", "tcsh"}, code: 2},
		{name: "complete-profiles", args: []string{"__complete", "profiles"}, out: []string{"telekom\nvodafone\no2\n"}, quietErr: true},
		{name: "complete-profiles-down", args: []string{"__complete", "profiles", "--socket", "/nonexistent/s"}, code: 1, quietErr: true},
		{name: "probe-still-there", args: []string{"probe", "--device", filepath.Join(dir, "no-such-tty")}, code: 1,
			errOut: []string{"cannot open the port"}},
	}
}

func capExhausted(_ *testing.T, s *served) {
	s.fake.mu.Lock()
	defer s.fake.mu.Unlock()
	s.fake.capUntil = docNow.Add(12 * time.Minute)
}

// bashComplete runs the bash script's completion function on a few
// command lines, with the built binary on PATH asking the fake daemon for
// profile names.
func bashComplete(t *testing.T, dir string, s *served, script string) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Log("bash not installed")
		return
	}
	for line, want := range map[string]string{
		"imsictl sw":                    "switch",
		"imsictl switch vo":             "vodafone",
		"imsictl --json pin ":           "telekom vodafone o2",
		"imsictl events --fo":           "--follow",
		"imsictl completion z":          "zsh",
		"imsictl probe --dialect qu":    "quectel",
		"imsictl --socket /x/y status ": "",
	} {
		words := strings.Split(line, " ")
		prog := script + "\nCOMP_WORDS=(" + strings.Join(quoteAll(words), " ") + ")\nCOMP_CWORD=" +
			fmt.Sprint(len(words)-1) + "\n_imsictl\necho \"${COMPREPLY[*]}\"\n"
		cmd := exec.Command(bash, "--norc", "-c", prog)
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "IMSICTL_SOCKET="+s.socket)
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%q completes to %q (%v), want %q", line, out, err, want)
		}
	}
}

func quoteAll(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = "'" + w + "'"
	}
	return out
}

// shellSyntax checks a completion script with the shell's own parser when
// that shell is installed.
func shellSyntax(shell string) func(*testing.T, *served, result) {
	return func(t *testing.T, _ *served, r result) {
		path, err := exec.LookPath(shell)
		if err != nil {
			t.Logf("%s not installed; syntax not checked", shell)
			return
		}
		cmd := exec.Command(path, "-n")
		if shell == "fish" {
			cmd = exec.Command(path, "--no-execute")
		}
		cmd.Stdin = strings.NewReader(r.stdout)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", shell, err, out)
		}
	}
}

func docExample(args []string, r result) string {
	var b strings.Builder
	b.WriteString("$ imsictl")
	for _, a := range args {
		if strings.ContainsAny(a, " ") {
			a = "'" + a + "'"
		}
		b.WriteString(" " + a)
	}
	b.WriteString("\n")
	b.WriteString(r.stdout)
	b.WriteString(r.stderr)
	if r.code != 0 {
		fmt.Fprintf(&b, "$ echo $?\n%d\n", r.code)
	}
	return b.String()
}

var exampleRe = regexp.MustCompile("(?s)<!-- example ([a-z0-9-]+) -->\n```[a-z]*\n(.*?)```\n<!-- /example -->")

// checkDocs keeps docs/cli.md's examples that mine owns equal (by same) to
// what the binary printed; -update rewrites them.
func checkDocs(t *testing.T, examples map[string]string, mine func(name string) bool, same func(page, got string) bool) {
	const path = "../../docs/cli.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var stale []string
	out := exampleRe.ReplaceAllFunc(doc, func(m []byte) []byte {
		sub := exampleRe.FindSubmatch(m)
		name := string(sub[1])
		if !mine(name) {
			return m
		}
		seen[name] = true
		want, ok := examples[name]
		if !ok {
			t.Errorf("docs/cli.md has example %q that no test generates", name)
			return m
		}
		// Temp paths differ per run; the docs show a stable one.
		want = strings.ReplaceAll(want, "../../examples/", "examples/")
		want = tempPathRe.ReplaceAllStringFunc(want, func(p string) string {
			if strings.HasPrefix(p, "/tmp/imsid-sim/") {
				return p // imsid --simulate's own state directory
			}
			if strings.HasSuffix(p, "/run/imsid/") {
				return "/run/imsid/"
			}
			return "/etc/imsid/"
		})
		if !same(string(sub[2]), want) {
			stale = append(stale, name)
			t.Logf("example %s (-page +now):\n%s", name, cmp.Diff(strings.Split(string(sub[2]), "\n"), strings.Split(want, "\n")))
		}
		return []byte("<!-- example " + name + " -->\n```\n" + want + "```\n<!-- /example -->")
	})
	for name := range examples {
		if mine(name) && !seen[name] {
			t.Errorf("example %q is generated but docs/cli.md has no <!-- example %s --> block", name, name)
		}
	}
	if *update && !bytes.Equal(out, doc) {
		// -update rewrites the examples from this run, even where they
		// differ only in what same forgives.
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if len(stale) == 0 {
		return
	}
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/cli.md examples out of date: %v (go test ./cmd/imsictl -run '%s' -update)", stale, strings.Split(t.Name(), "/")[0])
}

var tempPathRe = regexp.MustCompile(`/tmp/[^ :"\n]*/`)

// TestEventsFollow streams events through the built binary, drops the
// stream and checks the binary resumes with Last-Event-ID without losing
// the event published while it was disconnected.
func TestEventsFollow(t *testing.T) {
	dir := t.TempDir()
	bin := ctlBinary(t, dir)
	s := serveFake(t, false)
	cmd := exec.Command(bin, "events", "--follow")
	cmd.Env = runner{bin: bin, socket: s.socket}.env(nil)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case l := <-lines:
			if !strings.Contains(l, want) {
				t.Fatalf("got line %q, want %q; stderr:\n%s", l, want, stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no line with %q; stderr:\n%s", want, stderr.String())
		}
	}
	waitSubs := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for s.fake.hub.Subscribers() < n {
			if time.Now().After(deadline) {
				t.Fatalf("the binary did not subscribe; stderr:\n%s", stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitSubs(1)
	first := s.fake.publish(docNow, api.EventState, api.StateChange{From: "connected", To: "switching", Event: "switch"})
	expect("connected → switching")
	s.fake.dropStreams()
	// Published while the binary is disconnected: the replay must bring it.
	s.fake.publish(docNow.Add(time.Second), api.EventLink, api.Link{Up: false, ProbeFailures: 3})
	waitSubs(1)
	expect("down (3 probe failures)")
	s.fake.publish(docNow.Add(2*time.Second), api.EventPin, nil)
	expect("unpinned")
	s.fake.mu.Lock()
	subs := append([]uint64(nil), s.fake.subs...)
	s.fake.mu.Unlock()
	if len(subs) != 2 || subs[0] != 0 || subs[1] != first.ID {
		t.Errorf("resume points %v, want [0 %d]", subs, first.ID)
	}
	if !strings.Contains(stderr.String(), "reconnecting in 2s") {
		t.Errorf("stderr: %q", stderr.String())
	}
	// Ctrl-C is the normal way to stop following.
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	if err != nil {
		t.Errorf("after SIGINT: %v; stderr:\n%s", err, stderr.String())
	}
}
