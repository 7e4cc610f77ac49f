//go:build !noman

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestManPage: packaging/man/imsictl.1, which the .deb ships, is what the
// command table and the commands' flag sets produce (regenerate with `make
// man`), names every command and flag, and groff reads it without a warning.
func TestManPage(t *testing.T) {
	const path = "../../packaging/man/imsictl.1"
	var out, errb bytes.Buffer
	if code := runEnv(context.Background(), &env{stdout: &out, stderr: &errb}, []string{"__man"}); code != exitOK {
		t.Fatalf("imsictl __man: exit %d\n%s", code, errb.String())
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, out.Bytes()) {
		t.Errorf("%s is stale: run `make man`", path)
	}
	page := strings.ReplaceAll(out.String(), `\-`, "-")
	for _, c := range visibleCommands() {
		if !strings.Contains(page, ".SS imsictl "+c.name) {
			t.Errorf("the page has no section for %s", c.name)
		}
	}
	for _, f := range append(append([]string{}, globalFlags...), valueFlags...) {
		if !strings.Contains(page, `\fB`+f+`\fR`) {
			t.Errorf("the page does not describe %s", f)
		}
	}
	if _, err := exec.LookPath("groff"); err == nil {
		o, err := exec.Command("groff", "-man", "-ww", "-z", path).CombinedOutput()
		if err != nil || len(o) > 0 {
			t.Errorf("groff -man -ww %s: %v\n%s", path, err, o)
		}
	}
}
