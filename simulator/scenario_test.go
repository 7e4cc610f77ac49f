package simulator

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadLibrary(t *testing.T) {
	files, err := filepath.Glob("scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sc, err := LoadScenario(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := New(sc, WithClock(NewManualClock(testEpoch)))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
		})
	}
}

func TestScenarioErrors(t *testing.T) {
	const good = `dialect: quectel-eg25
sim:
  iccid: "89490200001234567890"
  imsis:
    - imsi: "262011234567890"
networks:
  - plmn: "26201"
    cells:
      - {rat: LTE, tac: "DE10", ci: "5A29C0B"}
`
	if _, err := ParseScenario("good.yaml", []byte(good)); err != nil {
		t.Fatalf("good scenario: %v", err)
	}
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", good + "colour: blue\n", "bad.yaml:10: colour: unknown key"},
		{"nested unknown key", strings.Replace(good, "    cells:", "    cels: []\n    cells:", 1), "bad.yaml:8: networks[0].cels: unknown key"},
		{"bad plmn", strings.Replace(good, `"26201"`, `"2620X"`, 1), "bad.yaml:7: networks[0].plmn: want 5 or 6 digits"},
		{"bad rat", strings.Replace(good, "rat: LTE", "rat: 6G", 1), "bad.yaml:9: networks[0].cells[0].rat: want LTE, WCDMA or GSM"},
		{"bad hex", strings.Replace(good, `tac: "DE10"`, `tac: "XYZ"`, 1), `bad.yaml:9: networks[0].cells[0].tac: "XYZ" is not a hex number`},
		{"bad duration", good + "timing:\n  attach_delay: soon\n", `bad.yaml:11: timing.attach_delay: "soon" is not a duration`},
		{"bad int", good + "slot: two\n", "bad.yaml:10: slot: cannot unmarshal"},
		{"bad dialect", strings.Replace(good, "quectel-eg25", "nokia-3310", 1), `bad.yaml:1: dialect: unknown dialect "nokia-3310"`},
		{"sim field", strings.Replace(good, `"262011234567890"`, `"26201X"`, 1), "bad.yaml:5: sim.imsis[0].imsi:"},
		{"sim unknown key", strings.Replace(good, "  imsis:", "  pin: 1234\n  imsis:", 1), "bad.yaml:4: sim.pin: unknown key"},
		{"event kind", good + "timeline:\n  - {at: 1s, event: earthquake}\n", `bad.yaml:11: timeline[0].event: unknown event "earthquake"`},
		{"event network", good + "timeline:\n  - at: 1s\n    event: outage\n    network: \"99999\"\n", `bad.yaml:13: timeline[0].network: no network with PLMN "99999"`},
		{"event fault", good + "timeline:\n  - {at: 1s, event: fault, fault: {kind: meltdown}}\n", `bad.yaml:11: timeline[0].fault.kind: unknown fault "meltdown"`},
		{"yaml syntax", good + "networks: [\n", "bad.yaml:"},
		{"twice", good + "dialect: generic\n", "bad.yaml:10: dialect: key given twice"},
	}
	for _, tt := range tests {
		_, err := ParseScenario("bad.yaml", []byte(tt.yaml))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want prefix %q", tt.name, err, tt.want)
		}
		var se *ScenarioError
		if err != nil && !errors.As(err, &se) {
			t.Errorf("%s: %T is not a *ScenarioError", tt.name, err)
		}
	}
}

func TestLoadScenarioMissingFile(t *testing.T) {
	if _, err := LoadScenario("scenarios/nope.yaml"); err == nil {
		t.Fatal("no error")
	}
}
