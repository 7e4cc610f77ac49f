package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSizesFailsOverLimitOrMissing: the size check is what makes `make
// footprint` fail, so it must fail on a binary over its limit and on one
// that is missing, and pass when all are within.
func TestSizesFailsOverLimitOrMissing(t *testing.T) {
	dist := t.TempDir()
	write := func(target, cmd string, size int64) {
		t.Helper()
		dir := filepath.Join(dist, target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(dir, cmd))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	limits := map[string]float64{"imsid": 1, "imsictl": 0.5}
	write("linux-arm", "imsid", 1<<20)
	write("linux-arm", "imsictl", 1<<19)
	if got := sizes(dist, []string{"linux-arm"}, limits); got != 0 {
		t.Errorf("all at their limit: sizes = %d, want 0", got)
	}
	if got := sizes(dist, []string{"linux-arm", "linux-mipsle"}, limits); got != 1 {
		t.Errorf("linux-mipsle missing: sizes = %d, want 1", got)
	}
	write("linux-arm", "imsictl", 1<<19+1)
	if got := sizes(dist, []string{"linux-arm"}, limits); got != 1 {
		t.Errorf("imsictl one byte over: sizes = %d, want 1", got)
	}
	// A target not asserted is listed, not checked.
	if got := sizes(dist, []string{"linux-arm64"}, map[string]float64{"imsid": 1}); got != 1 {
		t.Errorf("linux-arm64 asserted but missing: sizes = %d, want 1", got)
	}
	if got := sizes(dist, nil, limits); got != 0 {
		t.Errorf("nothing asserted: sizes = %d, want 0", got)
	}
}
