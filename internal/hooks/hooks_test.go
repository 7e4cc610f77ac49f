package hooks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeHook(t *testing.T, dir, name, body string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), mode); err != nil {
		t.Fatal(err)
	}
}

func TestEnvContract(t *testing.T) {
	dir, out := t.TempDir(), filepath.Join(t.TempDir(), "env")
	writeHook(t, dir, "10-env", "env | grep '^IMSID_' | sort > "+out+"\n", 0o755)
	r := &Runner{Dir: dir, Timeout: 10 * time.Second}
	res := r.Run(context.Background(), Facts{Event: SwitchEnd, Profile: "roam", From: "home", To: "roam", APN: "iot.example",
		PLMN: "26201", Interface: "wwan0", Address: "10.0.0.2/24", Owner: "external", Reason: "probe_failed",
		Result: "verified\nIMSID_EVIL=1", Level: ""})
	if len(res) != 1 || !res[0].OK() {
		t.Fatalf("results: %+v", res)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{"IMSID_EVENT=switch-end", "IMSID_PROFILE=roam", "IMSID_FROM=home", "IMSID_TO=roam",
		"IMSID_APN=iot.example", "IMSID_PLMN=26201", "IMSID_INTERFACE=wwan0", "IMSID_ADDRESS=10.0.0.2/24",
		"IMSID_OWNER=external", "IMSID_REASON=probe_failed", "IMSID_RESULT=verifiedIMSID_EVIL=1", "IMSID_LEVEL="} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("env lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "IMSI=") || strings.Contains(got, "ICCID") || strings.Contains("\n"+got, "\nIMSID_EVIL=") {
		t.Errorf("env carries an identifier or an injected variable:\n%s", got)
	}
}

func TestOrderAndSkips(t *testing.T) {
	dir, log := t.TempDir(), filepath.Join(t.TempDir(), "log")
	for _, n := range []string{"20-b", "10-a", "30-c~", ".hidden", "40-d.dpkg-old", "50-e.bak"} {
		writeHook(t, dir, n, "echo "+n+" >> "+log+"\n", 0o755)
	}
	writeHook(t, dir, "15-noexec", "echo noexec >> "+log+"\n", 0o644)
	if err := os.Mkdir(filepath.Join(dir, "60-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := &Runner{Dir: dir, Timeout: 10 * time.Second}
	if res := r.Run(context.Background(), Facts{Event: LinkUp}); len(res) != 2 {
		t.Fatalf("ran %d hooks, want 2: %+v", len(res), res)
	}
	b, _ := os.ReadFile(log)
	if string(b) != "10-a\n20-b\n" {
		t.Errorf("ran %q", b)
	}
	if res := (&Runner{Dir: filepath.Join(dir, "missing")}).Run(context.Background(), Facts{}); res != nil {
		t.Errorf("a missing directory ran %v", res)
	}
}

func TestFailureAndBoundedOutput(t *testing.T) {
	dir := t.TempDir()
	writeHook(t, dir, "fail", "head -c 20000 /dev/zero | tr '\\0' x\necho oops >&2\nexit 3\n", 0o755)
	r := &Runner{Dir: dir, Timeout: 10 * time.Second}
	res := r.Run(context.Background(), Facts{Event: LinkDown})
	if len(res) != 1 {
		t.Fatal(res)
	}
	got := res[0]
	if !errors.Is(got.Err, ErrFailed) || got.ExitCode != 3 || got.Outcome() != "failed" {
		t.Errorf("err %v code %d outcome %s", got.Err, got.ExitCode, got.Outcome())
	}
	if len(got.Output) > MaxOutput+32 || !strings.HasSuffix(got.Output, "[truncated]") {
		t.Errorf("output not bounded: %d bytes", len(got.Output))
	}
}
