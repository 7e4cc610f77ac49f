package main

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// TestManPage: packaging/man/imsid.8, which the .deb ships, is what the
// flags' definitions produce (regenerate with `make man`), and groff reads
// it without a warning.
func TestManPage(t *testing.T) {
	const path = "../../packaging/man/imsid.8"
	var out bytes.Buffer
	if code := run(t.Context(), []string{"--man"}, &out, &out, nil); code != exitOK {
		t.Fatalf("imsid --man: exit %d\n%s", code, out.String())
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, out.Bytes()) {
		t.Errorf("%s is stale: run `make man`", path)
	}
	checkRoff(t, path)
}

func checkRoff(t *testing.T, path string) {
	t.Helper()
	if _, err := exec.LookPath("groff"); err != nil {
		t.Log("groff not installed; the page's roff not checked")
		return
	}
	out, err := exec.Command("groff", "-man", "-ww", "-z", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("groff -man -ww %s: %v\n%s", path, err, out)
	}
}
