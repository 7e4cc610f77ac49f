package soak

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Proc is an `imsid --simulate` child process with its own state directory.
type Proc struct {
	Cmd      *exec.Cmd
	StateDir string
	Log      string // its stdout and stderr
	done     chan struct{}
	err      error
}

// StartSimulated starts bin with --simulate scenario and extra args, its
// state (and API socket) in a fresh directory under dir. Stop it with Stop;
// it is also killed if ctx ends.
func StartSimulated(ctx context.Context, bin, scenario, dir string, args ...string) (*Proc, error) {
	p := &Proc{StateDir: filepath.Join(dir, "state"), Log: filepath.Join(dir, "imsid.log"), done: make(chan struct{})}
	if err := os.MkdirAll(p.StateDir, 0o750); err != nil {
		return nil, err
	}
	logf, err := os.Create(p.Log)
	if err != nil {
		return nil, err
	}
	argv := append([]string{"--simulate", scenario, "--state-dir", p.StateDir}, args...)
	p.Cmd = exec.Command(bin, argv...)
	p.Cmd.Stdout, p.Cmd.Stderr = logf, logf
	// Its own process group, so that a ^C to us is ours to pass on.
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.Cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	go func() {
		select {
		case <-ctx.Done():
			p.Stop()
		case <-p.done:
		}
	}()
	return p, nil
}

// Pid is the child's process id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Stop sends SIGTERM, and SIGKILL after 15 s; it returns once the process
// has exited. Safe to call more than once.
func (p *Proc) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Exited reports whether the process has exited, and how.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Tail returns the last n lines of the process's log.
func (p *Proc) Tail(n int) string {
	b, _ := os.ReadFile(p.Log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// SocketClient talks HTTP over the daemon's unix socket.
func SocketClient(socket string) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		}}}
}

// WaitReady polls GET url until it answers 200, the process exits or
// timeout passes.
func (p *Proc) WaitReady(ctx context.Context, c *http.Client, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("imsid exited before it was ready (%v):\n%s", err, p.Tail(20))
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("imsid not ready at %s after %s (last: %v):\n%s", url, timeout, errors.Join(err), p.Tail(20))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
