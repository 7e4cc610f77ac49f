package profiles_test

import (
	"errors"
	"os"
	"testing"

	"github.com/imsid/imsid/profiles"
)

// FuzzParse: no input crashes or hangs Parse, and every failure is a
// *ValidationError whose problems all name the file.
func FuzzParse(f *testing.F) {
	if example, err := os.ReadFile("../examples/imsid.yaml"); err == nil {
		f.Add(example)
	}
	f.Add([]byte(base))
	f.Add([]byte(withProfiles("euicc", "  - {name: a, iccid: \"8901260123456789012\", apn: x, mccs: [\"310\"]}\n")))
	f.Add([]byte("a: &a [*a, *a]\nb: *a\n"))
	f.Add([]byte("modem: {device: /dev/x, baud: 0x10}\nprofiles: [{index: -1}, {slot: 99999999999999999999}]\n"))
	f.Add([]byte("policy: {min_dwell: 1d1d, thresholds: {rsrp_floor: 1e400}}\n"))
	f.Add([]byte("---\n...\n"))
	f.Add([]byte("? [a]\n: b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := profiles.Parse("f.yaml", data)
		if err == nil {
			if cfg == nil || len(cfg.Profiles) == 0 {
				t.Fatalf("nil error but config %+v", cfg)
			}
			return
		}
		var ve *profiles.ValidationError
		if !errors.As(err, &ve) || len(ve.Errors) == 0 {
			t.Fatalf("error %v (%T) is not a non-empty *ValidationError", err, err)
		}
		for _, fe := range ve.Errors {
			if fe.File != "f.yaml" || fe.Msg == "" {
				t.Fatalf("bad problem %+v", fe)
			}
		}
	})
}

// Aliases that expand exponentially are cut off, not walked for ever.
func TestAliasBomb(t *testing.T) {
	src := "a: &a [x, x, x, x, x, x, x, x, x, x]\n" +
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n" +
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n" +
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n" +
		"profiles: [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n"
	_, err := profiles.Parse("bomb.yaml", []byte(src))
	var ve *profiles.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
}
