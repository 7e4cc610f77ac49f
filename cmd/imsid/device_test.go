package main

import (
	"io"
	"testing"
)

// TestDeviceOverride: --device replaces modem.device (OpenWrt's UCI option
// device reaches the daemon this way), on start and on every reload, since
// both go through loadConfig.
func TestDeviceOverride(t *testing.T) {
	o, err := parseFlags([]string{"--config", "../../examples/imsid-openwrt.yaml", "--device", "/dev/ttyS1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(o)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Modem.Device != "/dev/ttyS1" {
		t.Errorf("modem.device = %q, want the --device override /dev/ttyS1", cfg.Modem.Device)
	}
	o.device = ""
	if cfg, _ = loadConfig(o); cfg.Modem.Device != "/dev/ttyUSB2" {
		t.Errorf("without --device modem.device = %q, want the file's /dev/ttyUSB2", cfg.Modem.Device)
	}
	if _, err := parseFlags([]string{"--simulate", "--device", "/dev/ttyS1"}, io.Discard); err == nil {
		t.Error("--simulate --device accepted")
	}
}
