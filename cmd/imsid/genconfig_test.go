//go:build !nosimulate

package main

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/simulator"
)

// Every shipped scenario must yield a config that validates, so
// `imsid --simulate SCENARIO` works for each.
func TestGenConfigEveryScenario(t *testing.T) {
	files, err := filepath.Glob("../../simulator/scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sc, err := simulator.LoadScenario(f)
			if err != nil {
				t.Fatal(err)
			}
			text, err := genConfig(sc, "/dev/null", "/tmp/x")
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := profiles.Parse("gen", []byte(text))
			if err != nil {
				t.Fatalf("%v\n%s", err, text)
			}
			if len(cfg.Profiles) == 0 {
				t.Fatal("no profiles")
			}
		})
	}
}

// The generated config holds what the scenario dictates (device, method,
// profiles, site) and nothing else: every policy knob is the product's
// default, so `imsid --simulate` and `make demo` show what ships.
func TestGenConfigTakesProductDefaults(t *testing.T) {
	files, err := filepath.Glob("../../simulator/scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	def := profiles.Defaults()
	for _, f := range files {
		sc, err := simulator.LoadScenario(f)
		if err != nil {
			t.Fatal(err)
		}
		text, err := genConfig(sc, "/dev/null", "/tmp/x")
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := profiles.Parse("gen", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		got := *cfg
		// What the scenario and the run dictate.
		got.Modem.Device, got.SIM.Method, got.SIM.APN, got.Profiles = "", "", "", nil
		got.Policy.Site.CountryMCC, got.Policy.Site.BorderMCCs = "", nil
		got.API.Socket, got.StateDir = def.API.Socket, def.StateDir
		if d := cmp.Diff(def, got); d != "" {
			t.Errorf("%s: generated config departs from the product defaults (-default +generated):\n%s", filepath.Base(f), d)
		}
		for i, p := range cfg.Profiles {
			want := profiles.DefaultProfile(i)
			if p.PDPType != want.PDPType || p.APNAuth != want.APNAuth || p.BillingDay != want.BillingDay ||
				p.Priority != want.Priority || !slices.Equal(p.RATs, want.RATs) {
				t.Errorf("%s: profile %s departs from the profile defaults: %+v", filepath.Base(f), p.Name, p)
			}
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"vodafone UK": "vodafone-uk", "T-Mobile": "t-mobile", "  ": "fb", "Telekom.de": "telekom-de"} {
		if got := slug(in, "fb"); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}
