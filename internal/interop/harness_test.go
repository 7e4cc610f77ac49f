//go:build linux

package interop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests run third-party clients (ModemManager, gammu) against the
// modemsim binary on a pty, in real time. They are slow (tens of seconds a
// dialect) and need root and Debian packages, so `make interop` runs them
// (IMSID_INTEROP=1); `go test ./...` skips them with that hint. Under CI
// (CI=true, or IMSID_INTEROP_REQUIRED=1 as .ci/run sets) or as root, a
// missing client binary fails the test: .ci/run installs them. Only a
// machine that is not root skips, saying why.

func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func requireInterop(t *testing.T) {
	t.Helper()
	if os.Getenv("IMSID_INTEROP") == "" {
		t.Skip("third-party client interop: run by `make interop` (or IMSID_INTEROP=1 go test ./internal/interop)")
	}
	if testing.Short() {
		t.Skip("-short: real-time interop skipped")
	}
}

func inCI() bool {
	return os.Getenv("CI") == "true" || os.Getenv("IMSID_INTEROP_REQUIRED") == "1"
}

// requireBinary returns the path of a client binary; absent, it skips, or
// under CI fails.
func requireBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin"} {
		if c := filepath.Join(dir, name); isExec(c) {
			return c
		}
	}
	// Root can install it (and CI is root): only a machine that can't
	// skips.
	if inCI() || os.Geteuid() == 0 {
		t.Fatalf("%s not found: apt-get install %s (.ci/run does)", name, pkg)
	}
	t.Skipf("%s not found and not root to install it: apt-get install %s to run this check", name, pkg)
	return ""
}

func requireRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root (%s)", why)
	}
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

var (
	buildOnce sync.Once
	simBin    string
	buildErr  error
)

// modemsimBinary is $MODEMSIM, bin/modemsim when make has built it, or a
// fresh build.
func modemsimBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv("MODEMSIM"); p != "" {
			simBin = p
			return
		}
		dir, err := os.MkdirTemp("", "interop-modemsim")
		if err != nil {
			buildErr = err
			return
		}
		simBin = filepath.Join(dir, "modemsim")
		out, err := exec.Command("go", "build", "-o", simBin, filepath.Join(root(), "cmd", "modemsim")).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build modemsim: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return simBin
}

// dialectScenario writes basic.yaml with its dialect replaced.
func dialectScenario(t *testing.T, dialect string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(), "simulator", "scenarios", "basic.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := bytes.Replace(b, []byte("dialect: quectel-eg25\n"), []byte("dialect: "+dialect+"\n"), 1)
	if dialect != "quectel-eg25" && bytes.Equal(out, b) {
		t.Fatal("basic.yaml no longer starts with `dialect: quectel-eg25`")
	}
	p := filepath.Join(t.TempDir(), dialect+".yaml")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sim is a running modemsim.
type sim struct {
	pty     string
	control string
	stderr  *syncBuffer
}

func startSim(t *testing.T, scenario string, extra ...string) *sim {
	t.Helper()
	dir := t.TempDir()
	s := &sim{control: filepath.Join(dir, "ctl.sock"), stderr: &syncBuffer{}}
	args := append([]string{"--scenario", scenario, "--control", s.control}, extra...)
	cmd := exec.Command(modemsimBinary(t), args...)
	cmd.Stderr = s.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("modemsim stderr (last 4 kB):\n%s", tail(s.stderr.String(), 4096))
		}
	})
	// Registered after the process cleanup, so it runs first: on failure,
	// the last wire chunks as the simulator saw them.
	t.Cleanup(func() {
		if t.Failed() {
			if out, err := s.query("log 60"); err == nil {
				t.Logf("modemsim wire log (last 60 chunks):\n%s", out)
			}
		}
	})
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(l)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case s.pty = <-line:
	case <-time.After(10 * time.Second):
		t.Fatal("modemsim printed no pty path in 10 s")
	}
	if !strings.HasPrefix(s.pty, "/dev/") {
		t.Fatalf("modemsim's first line %q is not a device path", s.pty)
	}
	return s
}

// query sends one control command and returns its output, for use where
// failing the test is not wanted (cleanups).
func (s *sim) query(cmd string) (string, error) {
	c, err := net.DialTimeout("unix", s.control, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return "", err
	}
	var b strings.Builder
	r := bufio.NewReader(c)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return b.String(), err
		}
		if l == "ok\n" {
			return b.String(), nil
		}
		b.WriteString(l)
	}
}

// ctl sends one control command and fails the test unless it answers ok.
func (s *sim) ctl(t *testing.T, cmd string) []string {
	t.Helper()
	c, err := net.DialTimeout("unix", s.control, 5*time.Second)
	if err != nil {
		t.Fatalf("control: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		t.Fatalf("control %q: %v", cmd, err)
	}
	r := bufio.NewReader(c)
	var out []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("control %q: %v (got %q)", cmd, err, out)
		}
		l = strings.TrimSuffix(l, "\n")
		switch {
		case l == "ok":
			return out
		case strings.HasPrefix(l, "error: "):
			t.Fatalf("control %q: %s", cmd, l)
		default:
			out = append(out, l)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a process writer and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// runFor runs a command with a timeout and returns its combined output.
func runFor(ctx context.Context, d time.Duration, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// eventually polls cond every 250 ms until it returns "" or d passes; the
// last non-empty answer says what was missing.
func eventually(t *testing.T, d time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		miss := cond()
		if miss == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %s", what, d, miss)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
