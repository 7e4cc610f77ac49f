package packagetest

import (
	"os"
	"strings"
	"testing"
)

// Probes bind to link.interface by default (SO_BINDTODEVICE), which needs
// CAP_NET_RAW before Linux 5.7: the unit grants exactly that capability,
// and nothing else.
func TestUnitGrantsBindToDevice(t *testing.T) {
	unit, err := os.ReadFile("../imsid.service")
	if err != nil {
		t.Fatal(err)
	}
	var ambient, bounding []string
	for _, l := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(l, "AmbientCapabilities="); ok {
			ambient = append(ambient, v)
		}
		if v, ok := strings.CutPrefix(l, "CapabilityBoundingSet="); ok {
			bounding = append(bounding, v)
		}
	}
	if strings.Join(ambient, " ") != "CAP_NET_RAW" || strings.Join(bounding, " ") != "CAP_NET_RAW" {
		t.Errorf("AmbientCapabilities=%q CapabilityBoundingSet=%q, want CAP_NET_RAW only", ambient, bounding)
	}
}
