package main

import (
	"path/filepath"
	"testing"

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

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"vodafone UK": "vodafone-uk", "T-Mobile": "t-mobile", "  ": "fb", "Telekom.de": "telekom-de"} {
		if got := slug(in, "fb"); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}
