//go:build linux

package interop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/simulator"
)

// gammuWait bounds one gammu command (each takes 4-6 s against modemsim:
// gammu waits out its own init sequence, AT+CLIP/CRC/CCWA refusals
// included).
const gammuWait = 60 * time.Second

// TestGammu runs Debian's gammu (`identify`, `networkinfo`, `monitor 1`,
// its AT connection) against modemsim on a pty, once per simulator
// dialect, and compares what it prints with what the scenario says
// (`modemsim --print-expected`, the same source `make interop`'s modeminfo
// check uses) and with basic.yaml's serving cell.
func TestGammu(t *testing.T) {
	requireInterop(t)
	gammu := requireBinary(t, "gammu", "gammu")

	seen := map[string]string{} // expected identity -> first dialect with it
	for _, dialect := range simulator.Dialects() {
		scenario := dialectScenario(t, dialect)
		exp := printExpected(t, scenario)
		key := exp["manufacturer"] + "|" + exp["model"] + "|" + exp["imei"]
		if first, ok := seen[key]; ok {
			t.Logf("%s: an alias of %s, not run twice", dialect, first)
			continue
		}
		seen[key] = dialect
		t.Run(dialect, func(t *testing.T) {
			s := startSim(t, scenario)
			rc := filepath.Join(t.TempDir(), "gammurc")
			conf := fmt.Sprintf("[gammu]\ndevice = %s\nconnection = at\n", s.pty)
			if err := os.WriteFile(rc, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			run := func(args ...string) map[string]string {
				t.Helper()
				start := time.Now()
				out, err := runFor(context.Background(), gammuWait, nil, gammu, append([]string{"-c", rc}, args...)...)
				if err != nil {
					t.Fatalf("gammu %s: %v after %v\n%s", strings.Join(args, " "), err, time.Since(start).Round(time.Millisecond), out)
				}
				t.Logf("gammu %s: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
				return gammuFields(out)
			}

			id := run("identify")
			checkFields(t, "identify", id,
				"Manufacturer", exp["manufacturer"],
				"IMEI", exp["imei"],
				"SIM IMSI", exp["imsi"])
			// gammu prints a model it has no entry for as "unknown (<+CGMM>)".
			if m := id["Model"]; !strings.Contains(m, exp["model"]) {
				t.Errorf("identify: Model %q, want it to contain %q", m, exp["model"])
			}
			if id["Firmware"] == "" {
				t.Errorf("identify: no Firmware (+CGMR): %v", id)
			}

			// basic.yaml: home network 26201 "Telekom.de", LTE cell TAC DE10,
			// ECI 5A29C0B, attached.
			net := map[string]string{
				"Network state":        "home network",
				"Network":              "262 01 (Telekom, Germany), LAC DE10, CID 5A29C0B",
				"Name in phone":        `"Telekom.de"`,
				"Packet network state": "home network",
				"Packet network":       "262 01 (Telekom, Germany), LAC DE10, CID 5A29C0B",
				"GPRS":                 "attached",
			}
			ni := run("networkinfo")
			for k, v := range net {
				checkFields(t, "networkinfo", ni, k, v)
			}

			mon := run("monitor", "1")
			for k, v := range net {
				checkFields(t, "monitor 1", mon, k, v)
			}
			// +CSQ: <rssi> maps to -113 + 2*rssi dBm (27.007 §8.5).
			if csq := regexp.MustCompile(`^\+CSQ: (\d+),`).FindStringSubmatch(exp["csq"]); csq != nil {
				n, _ := strconv.Atoi(csq[1])
				checkFields(t, "monitor 1", mon, "Signal strength", fmt.Sprintf("%d dBm", -113+2*n))
			} else {
				t.Errorf("modemsim --print-expected csq=%q: not +CSQ: <rssi>,<ber>", exp["csq"])
			}
			if !strings.HasSuffix(mon["Network level"], "percent") {
				t.Errorf("monitor 1: Network level %q", mon["Network level"])
			}
			// AT+CLIP=1, AT+CRC=1 and AT+CCWA=1 (startup-calls.txt).
			checkFields(t, "monitor 1", mon, "Enabling info about calls", "No error.")
			if mon["Battery level"] == "" {
				t.Errorf("monitor 1: no Battery level (+CBC): %v", mon)
			}
		})
	}
}

// printExpected is `modemsim --scenario <scenario> --print-expected` as a map.
func printExpected(t *testing.T, scenario string) map[string]string {
	t.Helper()
	out, err := exec.Command(modemsimBinary(t), "--scenario", scenario, "--print-expected").Output()
	if err != nil {
		t.Fatalf("modemsim --print-expected: %v", err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	for _, k := range []string{"manufacturer", "model", "imei", "imsi", "csq"} {
		if m[k] == "" {
			t.Fatalf("modemsim --print-expected has no %s:\n%s", k, out)
		}
	}
	return m
}

// gammuFields reads gammu's "Name<spaces>: value" lines (the first of
// each name).
func gammuFields(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(l, " : ")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if _, dup := m[k]; !dup {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

func checkFields(t *testing.T, what string, m map[string]string, kv ...string) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if got := m[kv[i]]; got != kv[i+1] {
			t.Errorf("%s: %s %q, want %q", what, kv[i], got, kv[i+1])
		}
	}
}
