package profiles

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultsApplied(t *testing.T) {
	src := `modem:
  device: /dev/ttyUSB2
sim:
  method: applet
profiles:
  - name: home
    index: 0
    apn: internet
    plmns: ["310260"]
  - name: backup
    index: 1
    apn: internet
    mccs: ["310"]
policy:
  site:
    country_mcc: "310"
`
	got, err := Parse("/etc/imsid/imsid.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	want.Modem.Device = "/dev/ttyUSB2"
	want.SIM.Method = MethodApplet
	zero, one := 0, 1
	home, backup := DefaultProfile(0), DefaultProfile(1)
	home.Name, home.Index, home.APN, home.PLMNs = "home", &zero, "internet", []PLMN{"310260"}
	backup.Name, backup.Index, backup.APN, backup.MCCs = "backup", &one, "internet", []MCC{"310"}
	want.Profiles = []Profile{home, backup}
	want.Policy.Site.CountryMCC = "310"
	if d := cmp.Diff(&want, got); d != "" {
		t.Errorf("defaults (-want +got):\n%s", d)
	}
	if got.Profiles[1].Priority != 2 {
		t.Errorf("second profile priority = %d, want its position 2", got.Profiles[1].Priority)
	}
	if !reflect.DeepEqual(got.Profiles[0].RATs, []RAT{RATLTE, RATNR}) {
		t.Errorf("default RATs = %v: 2G must be off by default", got.Profiles[0].RATs)
	}
}

// Defaults() must not share slices between calls: a config that appends to
// its probe list must not change the next one's defaults.
func TestDefaultsAreFresh(t *testing.T) {
	a := Defaults()
	a.SIM.Applet.AID[0] = 0
	a.SIM.Applet.ExpectSW[0] = "6A82"
	p := DefaultProfile(0)
	p.RATs[0] = RATGSM
	b := Defaults()
	if b.SIM.Applet.AID[0] != 0xF0 || b.SIM.Applet.ExpectSW[0] != "9000" || DefaultProfile(0).RATs[0] != RATLTE {
		t.Fatal("Defaults share mutable state between calls")
	}
}

func TestRelativePathsResolveAgainstConfigDir(t *testing.T) {
	src := `modem: {device: /dev/ttyUSB2}
sim: {method: applet, apn: internet}
profiles: [{name: a, index: 0, mccs: ["310"]}]
policy: {site: {country_mcc: "310"}}
state_dir: state
api: {listen: ":8787", token_file: secrets/api.token}
`
	cfg, err := Parse("/etc/imsid/imsid.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StateDir != "/etc/imsid/state" || cfg.API.TokenFile != "/etc/imsid/secrets/api.token" {
		t.Errorf("state_dir = %q, token_file = %q", cfg.StateDir, cfg.API.TokenFile)
	}
	if cfg.API.Listen != "127.0.0.1:8787" {
		t.Errorf("listen = %q", cfg.API.Listen)
	}
	if cfg.Profiles[0].APN != "internet" {
		t.Errorf("apn not inherited from sim.apn: %q", cfg.Profiles[0].APN)
	}
}

// Every config field has a row in docs/config.md, so the reference cannot
// silently fall behind the code.
func TestDefaultsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			p := prefix + name
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[Money]() && ft.PkgPath() == reflect.TypeFor[Config]().PkgPath():
				walk(ft, p+".")
			case ft.Kind() == reflect.Slice && ft.Elem() == reflect.TypeFor[Profile]():
				walk(ft.Elem(), p+"[].")
			default:
				paths = append(paths, p)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	fields, removed, _ := strings.Cut(string(doc), "\n## Removed fields\n")
	removed, _, _ = strings.Cut(removed, "\n## ")
	for _, p := range paths {
		if !strings.Contains(fields, "| `"+p+"` |") {
			t.Errorf("docs/config.md has no row for `%s`", p)
		}
	}
	// And the other way: a row is a field the code has, or one it
	// refuses as removed.
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9_.\\[\\]]+)` \\|")
	for _, m := range row.FindAllStringSubmatch(fields, -1) {
		if !slices.Contains(paths, m[1]) {
			t.Errorf("docs/config.md documents `%s`, which is not a field", m[1])
		}
	}
	var listed []string
	for _, m := range row.FindAllStringSubmatch(removed, -1) {
		listed = append(listed, m[1])
		if _, ok := removedFields[m[1]]; !ok {
			t.Errorf("docs/config.md lists `%s` as removed; profiles does not refuse it", m[1])
		}
	}
	for p := range removedFields {
		if !slices.Contains(listed, p) {
			t.Errorf("docs/config.md: removed field `%s` missing from \"Removed fields\"", p)
		}
		if slices.Contains(paths, p) {
			t.Errorf("`%s` is both a field and removed", p)
		}
	}
}
