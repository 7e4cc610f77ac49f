package sim

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigYAML(t *testing.T) {
	raw, err := os.ReadFile("testdata/euicc-card.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg CardConfig
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	c := mustCard(t, cfg)
	if got := c.IMSI(); got != "26201123456789" {
		t.Errorf("IMSI = %s", got)
	}
	if c.ICCID() != iccidA || c.EID() != eidA || !c.IsEUICC() || c.ActiveIndex() != 1 {
		t.Errorf("ICCID/EID/ActiveIndex = %s/%s/%d", c.ICCID(), c.EID(), c.ActiveIndex())
	}
	if c.SPN() != "Roam DE" || c.MNCLength() != 2 {
		t.Errorf("SPN/MNC = %s/%d", c.SPN(), c.MNCLength())
	}
	if cfg.Applet.Rotation.RotateAfter != 150*time.Second || c.appletQ != RefreshNAAInit || c.maxCh != 4 {
		t.Errorf("applet/channels = %+v %x %d", cfg.Applet, c.appletQ, c.maxCh)
	}
	ps := c.Profiles()
	if len(ps) != 2 || !ps[0].Enabled || ps[1].Enabled || ps[1].Class != "test" || len(ps[0].IMSIs) != 2 || ps[0].Active != 1 {
		t.Errorf("Profiles = %+v", ps)
	}
	if got := hexU(ps[1].AID); got != "A0000005591010FFFFFFFF8900001100" {
		t.Errorf("default ISD-P AID = %s", got)
	}
	if got := c.IMSIs(); len(got) != 2 || got[0] != "310260123456789" {
		t.Errorf("IMSIs = %v", got)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*CardConfig)
		field string
	}{
		{"no imsis", func(c *CardConfig) { c.IMSIs = nil }, "profiles"},
		{"bad imsi", func(c *CardConfig) { c.IMSIs[1].IMSI = "2620112345678a" }, "imsis[1].imsi"},
		{"long imsi", func(c *CardConfig) { c.IMSIs[0].IMSI = "3102601234567890" }, "imsis[0].imsi"},
		{"bad iccid", func(c *CardConfig) { c.ICCID = "8900012345678901234Z" }, "iccid"},
		{"short iccid", func(c *CardConfig) { c.ICCID = "8900" }, "iccid"},
		{"bad eid", func(c *CardConfig) { c.EID = "1234" }, "eid"},
		{"mnc", func(c *CardConfig) { c.IMSIs[2].MNCLength = 4 }, "imsis[2].mnc_length"},
		{"spn charset", func(c *CardConfig) { c.IMSIs[0].SPN = "Öp" }, "imsis[0].spn"},
		{"spn length", func(c *CardConfig) { c.IMSIs[0].SPN = strings.Repeat("x", 17) }, "imsis[0].spn"},
		{"fplmn", func(c *CardConfig) { c.IMSIs[0].FPLMN = []string{"2620"} }, "imsis[0].fplmn[0]"},
		{"active", func(c *CardConfig) { c.ActiveIMSI = 3 }, "active_imsi"},
		{"enabled", func(c *CardConfig) { c.EnabledProfile = -1 }, "enabled_profile"},
		{"both", func(c *CardConfig) { c.Profiles = []ProfileConfig{{IMSIs: c.IMSIs}} }, "imsis"},
		{"two profiles no eid", func(c *CardConfig) {
			c.Profiles = []ProfileConfig{{IMSIs: c.IMSIs}, {ICCID: iccidB, IMSIs: c.IMSIs}}
			c.IMSIs = nil
		}, "profiles"},
		{"rotation", func(c *CardConfig) { c.Applet.Rotation.RotateAfter = 0 }, "applet.rotation.rotate_after"},
		{"refresh", func(c *CardConfig) { c.Applet.Refresh = "reboot" }, "applet.refresh"},
		{"applet aid", func(c *CardConfig) { c.Applet.AID = "F0" }, "applet.aid"},
		{"channels", func(c *CardConfig) { c.MaxChannels = 20 }, "max_channels"},
		{"limit", func(c *CardConfig) { c.ResponseLimit = 300 }, "response_limit"},
		{"iccid needed", func(c *CardConfig) { c.ICCID = "" }, "iccid"},
		{"profile imsi", func(c *CardConfig) {
			c.Profiles = []ProfileConfig{{IMSIs: c.IMSIs}}
			c.IMSIs = nil
			c.Profiles[0].IMSIs[1].IMSI = "1"
		}, "profiles[0].imsis[1].imsi"},
		{"profile iccid", func(c *CardConfig) {
			c.Profiles = []ProfileConfig{{ICCID: "12", IMSIs: c.IMSIs}}
			c.IMSIs = nil
		}, "profiles[0].iccid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := plainConfig()
			tc.edit(&cfg)
			_, err := NewCard(cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ConfigError", err)
			}
			if ce.Field != tc.field {
				t.Errorf("field = %q, want %q (%v)", ce.Field, tc.field, err)
			}
			// Identities never appear in errors.
			for _, s := range []string{"2620112345678", "310260123456789", "89000123456789"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error leaks an identity: %v", err)
				}
			}
		})
	}
}

func TestEUICCConfigErrors(t *testing.T) {
	cfg := euiccConfig()
	cfg.Profiles[1].ICCID = iccidA
	if _, err := NewCard(cfg); err == nil || !strings.Contains(err.Error(), "profiles[1].iccid") {
		t.Errorf("duplicate ICCID: %v", err)
	}
	cfg = euiccConfig()
	cfg.Profiles[0].Class = "weird"
	if _, err := NewCard(cfg); err == nil || !strings.Contains(err.Error(), "profiles[0].class") {
		t.Errorf("class: %v", err)
	}
	cfg = euiccConfig()
	cfg.EnabledProfile = -1
	c := mustCard(t, cfg)
	if c.IMSI() != "" || c.ActiveIndex() != -1 || c.ICCID() != cfg.ICCID || c.IMSIs() != nil {
		t.Errorf("no profile: IMSI %q idx %d ICCID %s", c.IMSI(), c.ActiveIndex(), c.ICCID())
	}
}

func TestRotateAfterAtLeastASecond(t *testing.T) {
	var cfg CardConfig
	if err := yaml.Unmarshal([]byte("iccid: \"89000123456789012341\"\nimsis: [{imsi: \"310260123456789\"}, {imsi: \"26201123456789\"}]\napplet: {rotation: {enabled: true, rotate_after: 500ms}}\n"), &cfg); err != nil {
		t.Fatal(err)
	}
	_, err := NewCard(cfg)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != "applet.rotation.rotate_after" {
		t.Errorf("sub-second period accepted: %v", err)
	}
}

// A zero Card must not panic (callers should use NewCard).
func TestZeroCard(t *testing.T) {
	var c Card
	if r := c.Transmit([]byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0x6F, 0x07}); len(r) != 2 {
		t.Errorf("Transmit = % X", r)
	}
	if c.IMSI() != "" || c.ActiveIndex() != -1 || c.FPLMN() != nil {
		t.Error("zero card has an identity")
	}
	if _, err := c.OpenChannel([]byte(ISDRAID)); err == nil {
		t.Error("zero card opened a channel")
	}
	c.ObserveRegistration(t0, false)
	c.Tick(t0.Add(time.Hour))
	if _, sw := c.CRSM(176, FidIMSI, 0, 0, 9, nil); sw != SWFileNotFound {
		t.Errorf("CRSM = %s", sw)
	}
}
