package profiles_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imsid/imsid/profiles"
)

func TestExampleConfigLoadsClean(t *testing.T) {
	cfg, err := profiles.Load("../examples/imsid.yaml")
	if err != nil {
		t.Fatalf("examples/imsid.yaml:\n%v", err)
	}
	if got := len(cfg.Profiles); got != 3 {
		t.Fatalf("profiles = %d, want 3", got)
	}
	if p := cfg.Profile("last-resort"); p == nil || p.APN != "iot.example" || p.Cost.PerMB.Currency != "USD" {
		t.Fatalf("last-resort did not inherit sim.apn / currency: %+v", p)
	}
	// The packaged default (the .deb ships this file) names no file that
	// a fresh install lacks: Check, imsictl config validate, accepts it.
	for _, f := range []string{"../examples/imsid.yaml", "../examples/imsid-openwrt.yaml"} {
		if _, err := profiles.Check(f); err != nil {
			t.Errorf("%s, checked with its files:\n%v", f, err)
		}
	}
	if cfg.API.Listen != "" || cfg.Upstream.URL != "" {
		t.Errorf("the default config turns on TCP (%q) or upstream (%q): they need files a fresh install does not have", cfg.API.Listen, cfg.Upstream.URL)
	}
	// The shipped config keeps imsid's own session and binds nothing: an
	// interface name that is wrong for the gateway would fail every probe.
	if cfg.Link.Owner != profiles.LinkOwnerIMSID || cfg.Link.Interface != "" {
		t.Errorf("link = %+v", cfg.Link)
	}
}

func ExampleParse() {
	_, err := profiles.Parse("imsid.yaml", []byte(`modem:
  device: /dev/serial/by-id/usb-Quectel_EG25-G-if02-port0
sim:
  method: applet
profiles:
  - name: home
    plmns: ["310260"]
policy:
  min_dwell: 10
  site: {country_mcc: "310"}
upstream:
  batch_sise: 20
`))
	fmt.Println(err)
	// Output:
	// imsid.yaml:6: profiles[0].apn: required (or set sim.apn for all profiles)
	// imsid.yaml:6: profiles[0].index: required with method applet: the applet's IMSI index
	// imsid.yaml:9: policy.min_dwell: duration "10" has no unit; write e.g. 10s or 10m
	// imsid.yaml:12: upstream.batch_sise: unknown field (did you mean "batch_size"?)
}

func TestProfileAllowlists(t *testing.T) {
	cfg, err := profiles.Load("../examples/imsid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	home, last := cfg.Profile("home"), cfg.Profile("last-resort")
	for _, tt := range []struct {
		p    *profiles.Profile
		plmn profiles.PLMN
		want bool
	}{
		{home, "310260", true}, {home, "310410", true}, {home, "311480", false},
		{last, "311480", true}, {last, "26201", false},
	} {
		if got := tt.p.AllowsPLMN(tt.plmn); got != tt.want {
			t.Errorf("%s.AllowsPLMN(%s) = %v", tt.p.Name, tt.plmn, got)
		}
	}
	if !home.AllowsRAT(profiles.RATLTE) || home.AllowsRAT(profiles.RATGSM) {
		t.Error("home RATs: want lte allowed, gsm refused")
	}
	if !home.IMSIPrefix.Matches("310260123456789") || home.IMSIPrefix.Matches("204041234567890") {
		t.Error("IMSIPrefix.Matches")
	}
	if cfg.Profile("nope") != nil {
		t.Error("Profile(nope) != nil")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := profiles.Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), profiles.MaxFileSize/10+1), 0o600); err != nil {
		t.Fatal(err)
	}
	var ve *profiles.ValidationError
	if _, err := profiles.Load(big); !errors.As(err, &ve) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: err = %v", err)
	}
}
