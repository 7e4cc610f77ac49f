//go:build nosimulate

package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestNoSimulator: a build without the simulator says so and how to try
// imsid out instead.
func TestNoSimulator(t *testing.T) {
	for _, args := range [][]string{{"--simulate"}, {"--simulate", "basic"}, {"--list-scenarios"}} {
		var out, errb bytes.Buffer
		code := run(t.Context(), args, &out, &errb, nil)
		if code != exitUsage || !strings.Contains(errb.String(), "built without the simulator") || !strings.Contains(errb.String(), "modemsim") {
			t.Errorf("imsid %s: exit %d, stderr:\n%s", strings.Join(args, " "), code, errb.String())
		}
	}
}
