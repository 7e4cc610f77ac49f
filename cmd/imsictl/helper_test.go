package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imsid/imsid/internal/offline"
)

// The tests run imsid's helper commands in process (with a fake port where
// they inject one); TestHelperExec* run the real binaries.
func init() { defaultHelper = inProcess(nil) }

// inProcess runs internal/offline as `imsid __probe|__validate` would,
// opening ports with open (nil: real serial ports).
func inProcess(open offline.Opener) helperRunner {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
		return offline.Main(ctx, args, stdout, stderr, open), nil
	}
}

func TestHelperCommandNames(t *testing.T) {
	if offlineProbe != offline.ProbeCommand || offlineValidate != offline.ValidateCommand {
		t.Errorf("imsictl runs imsid %s and %s; imsid knows %s and %s", offlineProbe, offlineValidate, offline.ProbeCommand, offline.ValidateCommand)
	}
}

// TestHelperMissing: without imsid, probe --device and config validate
// say what they need and fail; the daemon's commands do not care.
func TestHelperMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, args := range [][]string{
		{"probe", "--device", "/dev/ttyUSB2", "--socket", "/nonexistent.sock"},
		{"config", "validate", "../../examples/imsid.yaml"},
	} {
		var out, errb bytes.Buffer
		code := runEnv(t.Context(), &env{stdout: &out, stderr: &errb, helper: execImsid}, args)
		if code != exitFail || !strings.Contains(errb.String(), "needs imsid") || !strings.Contains(errb.String(), "imsid not found") ||
			!strings.Contains(errb.String(), "install imsid beside imsictl") {
			t.Errorf("imsictl %s: exit %d, stderr:\n%s", strings.Join(args, " "), code, errb.String())
		}
	}
}

// TestHelperExec runs the built imsictl, which finds the built imsid next
// to itself.
func TestHelperExec(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries")
	}
	bin, _ := buildBinaries(t)
	if _, err := os.Stat(filepath.Join(filepath.Dir(bin), "imsid")); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "PATH=/nonexistent")
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errb.String()
	}
	if code, out, errs := run("config", "validate", "../../examples/imsid.yaml"); code != 0 || !strings.Contains(out, "valid; ") {
		t.Errorf("config validate: exit %d\n%s%s", code, out, errs)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("modem:\n  baud: -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run("config", "validate", "--json", bad); code != 1 || !strings.Contains(out, `"valid": false`) {
		t.Errorf("config validate bad: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := run("probe", "--device", filepath.Join(t.TempDir(), "no-tty"), "--socket", "/nonexistent.sock"); code != 1 ||
		!strings.Contains(errs, "cannot open the port") {
		t.Errorf("probe --device: exit %d\n%s", code, errs)
	}
	// A port nobody holds: /dev/null is every daemon's stdin, and the holder
	// check saw an imsid of a test running beside this one (CI).
	port := filepath.Join(t.TempDir(), "port")
	if err := os.WriteFile(port, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run("probe", "--device", port, "--dialect", "nokia", "--socket", "/nonexistent.sock"); code != 2 ||
		!strings.Contains(errs, "--dialect") {
		t.Errorf("probe --dialect nokia: exit %d\n%s", code, errs)
	}
}

// TestExecImsid runs a stand-in imsid from PATH: its stdout and stderr
// reach the writers, and its exit code comes back.
func TestExecImsid(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\necho \"out $*\"\necho err >&2\nexit 3\n"
	if err := os.WriteFile(filepath.Join(dir, "imsid"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	var out, errb bytes.Buffer
	code, err := execImsid(t.Context(), []string{"__validate", "x.yaml"}, &out, &errb)
	if err != nil || code != 3 || out.String() != "out __validate x.yaml\n" || errb.String() != "err\n" {
		t.Errorf("code %d, err %v, stdout %q, stderr %q", code, err, out.String(), errb.String())
	}
}
