package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/simulator"
)

// simDialects are the simulator's vendor dialects (one registered name per
// dialect, aliases left out), each with the modem family the daemon must
// detect on it. The reference families without a simulator dialect
// (huawei, sierra, ublox) have no modem to run the daemon on; their probe is
// covered by cmd/imsictl's TestProbeEveryReferenceFamily.
var simDialects = map[string]string{
	"quectel-eg25":   "quectel",
	"quectel-ec25":   "quectel",
	"simcom-sim7600": "simcom",
	"telit-le910":    "telit",
}

// Issue 13, "must demonstrably work": the daemon starts and connects on each
// simulator dialect. The real imsid binary runs `--simulate` on the basic
// world seen through each dialect, with dialect auto-detection (the
// generated config forces none), until GET /v1/status says connected, ready,
// link up with a PDP address, on the modem family the dialect belongs to.
// The dialects run in parallel; each is a separate process with its own
// state directory and socket.
func TestE2EDaemonConnectsOnEveryDialect(t *testing.T) {
	// A dialect added to the simulator must be added here.
	covered := map[string]bool{}
	for _, f := range simDialects {
		covered[f] = true
	}
	for _, n := range simulator.Dialects() {
		if fam, _, _ := strings.Cut(n, "-"); n != "generic" && !covered[fam] {
			t.Errorf("simulator dialect %q (family %q) is not in simDialects", n, fam)
		}
	}
	base, err := os.ReadFile("../../simulator/scenarios/basic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	binaries(t) // build once, before the parallel subtests
	for dialect, family := range simDialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			scen := filepath.Join(dir, "scenario.yaml")
			text := mustReplace(t, string(base), "\ndialect: quectel-eg25\n", "\ndialect: "+dialect+"\n")
			if err := os.WriteFile(scen, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			cfgPath := genConfigFor(t, scen, dir, func(s string) string { return s })
			if cfg, _ := os.ReadFile(cfgPath); strings.Contains(string(cfg), "dialect:") {
				t.Fatalf("generated config forces a dialect; this test needs detection:\n%s", cfg)
			}
			p := startProc(t, "imsid", "--simulate", scen, "--speed", "20", "--config", cfgPath)
			c := unixClient(filepath.Join(dir, "imsid.sock"))
			var last dialectStatus
			waitFor(t, 30*time.Second, "connected with a PDP address", func() bool {
				if !p.running() {
					t.Fatalf("imsid exited (%d) before connecting; last status %+v", p.code, last)
				}
				var st dialectStatus
				resp, err := c.Get("http://imsid/v1/status")
				if err != nil {
					return false
				}
				defer resp.Body.Close()
				if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&st) != nil {
					return false
				}
				last = st
				return st.State == "connected" && st.Ready && st.Link.Up && st.Link.IP != ""
			})
			if last.Modem.Dialect != family {
				t.Errorf("daemon detected dialect %q on %s, want %q", last.Modem.Dialect, dialect, family)
			}
			if last.Modem.Manufacturer == "" || last.Modem.Model == "" {
				t.Errorf("modem identity not read: %+v", last.Modem)
			}
			t.Logf("%s: connected as %s %s (%s), PDP address %s", dialect, last.Modem.Manufacturer, last.Modem.Model, last.Modem.Dialect, last.Link.IP)
		})
	}
}

type dialectStatus struct {
	State string `json:"state"`
	Ready bool   `json:"ready"`
	Modem struct {
		Manufacturer string `json:"manufacturer"`
		Model        string `json:"model"`
		Dialect      string `json:"dialect"`
	} `json:"modem"`
	Link struct {
		Up bool   `json:"up"`
		IP string `json:"ip"`
	} `json:"link"`
}
