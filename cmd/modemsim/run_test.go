package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestRunUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "--scenario is required"},
		{[]string{"--scenario", basicScenario, "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"--scenario", basicScenario, "--speed", "-1"}, exitUsage, "--speed -1"},
		{[]string{"--scenario", basicScenario, "--log-level", "loud"}, exitUsage, `--log-level "loud"`},
		{[]string{"--scenario", basicScenario, "--baud", "-9600"}, exitUsage, "--baud -9600"},
		{[]string{"--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"--help"}, exitOK, "usage: modemsim"},
		{[]string{"--scenario", "does-not-exist.yaml"}, exitFail, "does-not-exist.yaml"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("run(%q) = %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), tt.code, tt.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("run(%q) wrote to stdout: %q", tt.args, stdout.String())
		}
	}
}

func TestRunBadScenarioNamesFileAndLine(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("dialect: quectel-eg25\nnetworks:\n  - plmn: 12\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--scenario", bad}, &stdout, &stderr); code != exitFail {
		t.Fatalf("exit %d, want %d", code, exitFail)
	}
	if !strings.Contains(stderr.String(), "bad.yaml:") {
		t.Errorf("error does not name the file and line: %s", stderr.String())
	}
}

func TestPrintExpected(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--scenario", basicScenario, "--print-expected", "--speed", "100"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got := stdout.String()
	for _, want := range []string{"manufacturer=Quectel\n", "imsi=262011234567890\n", "creg=+CREG: 0,1\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("--print-expected output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n"); n != len(expectedQueries) {
		t.Errorf("%d lines, want %d:\n%s", n, len(expectedQueries), got)
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "ctl.sock")
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		defer pw.Close()
		done <- run(ctx, []string{"--scenario", basicScenario, "--log-level", "error", "--control", sock}, pw, &stderr)
	}()
	line := make([]byte, 64)
	n, err := pr.Read(line)
	if err != nil || !strings.HasPrefix(string(line[:n]), "/dev/pts/") {
		t.Fatalf("first output %q, %v", line[:n], err)
	}
	// A control client still connected must not hold up the exit.
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d after cancel: %s", code, stderr.String())
	}
	// run waits for everything it started.
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d before run, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}
