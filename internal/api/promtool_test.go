package api

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// promtoolCheck runs `promtool check metrics` (lint included) on an
// exposition. Without promtool it skips, unless IMSID_PROMTOOL_REQUIRED is
// set (CI), when it fails.
func promtoolCheck(t *testing.T, body []byte) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("IMSID_PROMTOOL_REQUIRED") != "" {
			t.Fatal("promtool not found (Debian: apt-get install prometheus) and IMSID_PROMTOOL_REQUIRED is set")
		}
		t.Skip("promtool not installed (Debian: apt-get install prometheus); exposition not linted")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s\n--- exposition:\n%s", err, out, body)
	}
}
