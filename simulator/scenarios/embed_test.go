package scenarios

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Every scenario file in the directory is embedded and found by each of
// its names.
func TestEveryScenarioEmbedded(t *testing.T) {
	onDisk, _ := filepath.Glob("*.yaml")
	if len(onDisk) == 0 || len(Names()) != len(onDisk) {
		t.Fatalf("%d on disk, %d embedded", len(onDisk), len(Names()))
	}
	for _, f := range onDisk {
		want, _ := os.ReadFile(f)
		for _, n := range []string{f, f[:len(f)-5], "simulator/scenarios/" + f, "../../simulator/scenarios/" + f} {
			if _, got, ok := Lookup(n); !ok || !slices.Equal(got, want) {
				t.Errorf("Lookup(%q) = %v", n, ok)
			}
		}
	}
	if _, _, ok := Lookup("/etc/basic.yaml"); ok {
		t.Error("a path elsewhere must not fall back to the embedded file")
	}
	if Summary("basic") == "" {
		t.Error("basic has no summary")
	}
}
