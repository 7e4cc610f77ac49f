package daemon

import (
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/imsid/imsid/internal/store"
	"github.com/imsid/imsid/profiles"
)

func TestDeviceID(t *testing.T) {
	dir := t.TempDir()
	mid := filepath.Join(dir, "machine-id")
	os.WriteFile(mid, []byte("0123456789abcdef0123456789abcdef\n"), 0o444)
	old := machineIDFiles
	t.Cleanup(func() { machineIDFiles = old })

	st, err := store.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{st: st, log: slog.New(slog.DiscardHandler)}
	cfg := &profiles.Config{}

	// Configured wins.
	cfg.Upstream.DeviceID = "store-0042"
	if got := d.deviceID(cfg); got != "store-0042" {
		t.Fatalf("configured: %q", got)
	}
	cfg.Upstream.DeviceID = ""

	// From the machine id: stable, shaped, not the machine id.
	machineIDFiles = []string{filepath.Join(dir, "missing"), mid}
	a := d.deviceID(cfg)
	if a != d.deviceID(cfg) || !regexp.MustCompile(`^imsid-[0-9a-f]{16}$`).MatchString(a) || a == "imsid-0123456789abcdef" {
		t.Fatalf("from machine id: %q", a)
	}
	os.WriteFile(mid, []byte("fedcba9876543210fedcba9876543210\n"), 0o444)
	if b := d.deviceID(cfg); b == a {
		t.Fatal("two machine ids gave one device id")
	}
	for _, bad := range []string{"", "uninitialized", "00000000000000000000000000000000", "short"} {
		if id := idFromMachineID(bad); id != "" {
			t.Errorf("machine id %q gave %q", bad, id)
		}
	}

	// No machine id (OpenWrt): a random one, kept in the state file.
	machineIDFiles = []string{filepath.Join(dir, "missing")}
	r := d.deviceID(cfg)
	if !regexp.MustCompile(`^imsid-[0-9a-f]{16}$`).MatchString(r) || r != d.deviceID(cfg) {
		t.Fatalf("random: %q", r)
	}
	st.Close()
	st, err = store.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d.st = st
	if got := d.deviceID(cfg); got != r {
		t.Fatalf("after a restart %q, was %q", got, r)
	}
}
