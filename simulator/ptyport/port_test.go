//go:build linux

package ptyport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// Real ptys and real time: every wait is on a condition with this deadline.
const waitFor = 5 * time.Second

// replyHandler answers each CR-terminated line with "\r\nOK\r\n", then
// reports the line on got; on "DROP" it asks for a port drop instead.
func replyHandler(got chan<- string, down time.Duration) Handler {
	return func(ctx context.Context, rw io.ReadWriter) error {
		var line []byte
		buf := make([]byte, 256)
		for {
			n, err := rw.Read(buf)
			if err != nil {
				return err
			}
			for _, b := range buf[:n] {
				line = append(line, b)
				if b != '\r' {
					continue
				}
				drop := string(line) == "DROP\r"
				if !drop {
					if _, err := rw.Write([]byte("\r\nOK\r\n")); err != nil {
						return err
					}
				}
				if got != nil {
					select {
					case got <- string(line):
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				if drop {
					return Drop(down, errors.New("test drop"))
				}
				line = line[:0]
			}
		}
	}
}

type served struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error // valid once done is closed
}

func serve(t *testing.T, p *Port, h Handler) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = p.Serve(ctx, h)
	}()
	t.Cleanup(func() {
		cancel()
		p.Close()
		<-s.done
	})
	return s
}

func (s *served) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case <-s.done:
		return s.err
	case <-time.After(waitFor):
		t.Fatal("Serve did not return after cancel")
		return nil
	}
}

// openClient opens the slave the way a serial library does, pollable so the
// test can bound its reads.
func openClient(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("open client %s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readExactly(t *testing.T, f *os.File, want string) {
	t.Helper()
	if err := f.SetReadDeadline(time.Now().Add(waitFor)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(f, got); err != nil {
		t.Fatalf("read: %v (got %q so far)", err, got)
	}
	if string(got) != want {
		t.Fatalf("client read %q, want %q", got, want)
	}
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitFor):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

func TestRoundTripIsRaw(t *testing.T) {
	p, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	s := serve(t, p, replyHandler(got, 0))
	c := openClient(t, p.Path())

	if _, err := c.Write([]byte("AT\r")); err != nil {
		t.Fatal(err)
	}
	// ICRNL would turn the CR into LF on the way in.
	if line := recv(t, got, "line at handler"); line != "AT\r" {
		t.Fatalf("handler read %q, want %q", line, "AT\r")
	}
	// No tty echo of "AT\r" and no ONLCR "\r\r\n": exactly the handler's bytes.
	readExactly(t, c, "\r\nOK\r\n")
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, _ := c.Read(make([]byte, 16)); n != 0 {
		t.Fatalf("%d unexpected extra bytes after the reply", n)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("Serve after cancel = %v, want nil", err)
	}
}

func TestOutputWithoutClientIsLost(t *testing.T) {
	p, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	got := make(chan string, 4)
	reply := replyHandler(got, 0)
	serve(t, p, func(ctx context.Context, rw io.ReadWriter) error {
		_, err := rw.Write([]byte("\r\nRDY\r\n"))
		wrote <- err
		return reply(ctx, rw)
	})
	if err := recv(t, wrote, "boot write"); err != nil {
		t.Fatalf("write with no client: %v", err)
	}
	if n := p.DroppedBytes(); n != int64(len("\r\nRDY\r\n")) {
		t.Errorf("DroppedBytes = %d, want %d", n, len("\r\nRDY\r\n"))
	}
	c := openClient(t, p.Path())
	if _, err := c.Write([]byte("AT\r")); err != nil {
		t.Fatal(err)
	}
	recv(t, got, "line at handler")
	readExactly(t, c, "\r\nOK\r\n") // not "\r\nRDY\r\n" first
}

func TestUnreadOutputDiscardedOnClientClose(t *testing.T) {
	p, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	serve(t, p, replyHandler(got, 0))

	c1, err := os.OpenFile(p.Path(), os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c1.Write([]byte("AT\r")); err != nil {
		t.Fatal(err)
	}
	recv(t, got, "first line") // the reply is in c1's input queue now
	c1.Close()

	c2 := openClient(t, p.Path())
	if _, err := c2.Write([]byte("ATI\r")); err != nil {
		t.Fatal(err)
	}
	recv(t, got, "second line")
	readExactly(t, c2, "\r\nOK\r\n")
	_ = c2.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, _ := c2.Read(make([]byte, 16)); n != 0 {
		t.Fatalf("second client saw %d stale bytes", n)
	}
}

func TestPortLossAndReappearance(t *testing.T) {
	link := filepath.Join(t.TempDir(), "modem")
	events := make(chan Event, 4)
	slept := make(chan time.Duration, 1)
	p, err := Open(Options{
		Link:    link,
		NewPath: true,
		Notify:  func(e Event) { events <- e },
		Sleep: func(ctx context.Context, d time.Duration) error {
			slept <- d
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	first := p.Path()
	if target, err := os.Readlink(link); err != nil || target != first {
		t.Fatalf("link -> %q, %v; want %q", target, err, first)
	}
	got := make(chan string, 4)
	serve(t, p, replyHandler(got, 7*time.Second))

	// go.bug.st/serial is what the daemon uses: it must see the loss at once.
	sp, err := serial.Open(link, &serial.Mode{BaudRate: 115200})
	if err != nil {
		t.Fatalf("serial.Open: %v", err)
	}
	defer sp.Close()
	readErr := make(chan error, 1)
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := sp.Read(buf)
			if err != nil {
				readErr <- err
				return
			}
			if n == 0 {
				readErr <- io.EOF
				return
			}
		}
	}()
	if _, err := sp.Write([]byte("DROP\r")); err != nil {
		t.Fatal(err)
	}
	recv(t, got, "DROP at handler")
	dropped := time.Now()
	err = recv(t, readErr, "client read failure")
	if lag := time.Since(dropped); lag > time.Second {
		t.Errorf("client noticed port loss after %v", lag)
	}
	// What imsid's driver keys on to rebuild its port (reference §6.4).
	var pe *serial.PortError
	if !errors.As(err, &pe) || pe.Code() != serial.PortClosed {
		t.Fatalf("client read error %v, want a serial.PortError with code PortClosed", err)
	}

	if e := recv(t, events, "down event"); e.Up || e.Path != first {
		t.Fatalf("event %+v, want down %s", e, first)
	}
	if d := recv(t, slept, "down period"); d != 7*time.Second {
		t.Fatalf("down for %v, want 7s", d)
	}
	e := recv(t, events, "up event")
	if !e.Up || e.Path == first {
		t.Fatalf("event %+v, want up on a new path (old %s)", e, first)
	}
	if p.Path() != e.Path {
		t.Fatalf("Path() = %q, event said %q", p.Path(), e.Path)
	}
	if target, err := os.Readlink(link); err != nil || target != e.Path {
		t.Fatalf("link -> %q, %v; want %q", target, err, e.Path)
	}
	if _, err := os.Stat(link + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary link left behind: %v", err)
	}

	c := openClient(t, link)
	if _, err := c.Write([]byte("AT\r")); err != nil {
		t.Fatal(err)
	}
	recv(t, got, "line after reappearance")
	readExactly(t, c, "\r\nOK\r\n")
}

func TestLinkRemovedWhileDown(t *testing.T) {
	link := filepath.Join(t.TempDir(), "modem")
	release := make(chan struct{})
	events := make(chan Event, 4)
	p, err := Open(Options{
		Link:   link,
		Notify: func(e Event) { events <- e },
		Sleep: func(ctx context.Context, d time.Duration) error {
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	s := serve(t, p, replyHandler(got, time.Minute))
	c := openClient(t, link)
	if _, err := c.Write([]byte("DROP\r")); err != nil {
		t.Fatal(err)
	}
	recv(t, got, "DROP")
	recv(t, events, "down event")
	if _, err := os.Lstat(link); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("link while down: %v, want it gone", err)
	}
	if p.Path() != "" {
		t.Fatalf("Path() while down = %q", p.Path())
	}
	// Stopping during the down period is a clean stop.
	if err := s.stop(t); err != nil {
		t.Fatalf("Serve = %v", err)
	}
	close(release)
}

func TestExclusiveOpen(t *testing.T) {
	if os.Getenv("PTYPORT_OPEN_HELPER") != "" {
		return
	}
	p, err := Open(Options{Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	serve(t, p, replyHandler(got, 0))
	path := p.Path()

	second := func() error {
		f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
		if err == nil {
			f.Close()
		}
		return err
	}
	if os.Geteuid() == 0 {
		// CAP_SYS_ADMIN bypasses TIOCEXCL, so the second opener must be an
		// unprivileged process.
		if err := os.Chmod(path, 0o666); err != nil {
			t.Fatal(err)
		}
		second = func() error {
			cmd := exec.Command("/bin/sh", "-c", `exec 3<>"$1" && echo opened`, "sh", path)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			out, err := cmd.CombinedOutput()
			if err == nil && strings.Contains(string(out), "opened") {
				return nil
			}
			if strings.Contains(string(out), "busy") {
				return syscall.EBUSY
			}
			return fmt.Errorf("%v: %s", err, out)
		}
	}
	// No client yet: anyone may open.
	if err := second(); err != nil {
		t.Fatalf("open with no client: %v", err)
	}

	c := openClient(t, path)
	if _, err := c.Write([]byte("AT\r")); err != nil {
		t.Fatal(err)
	}
	// The handler having read the line proves the watcher had time to see
	// the open only in the common case; the reply round trip below does not
	// either, so poll the condition with a deadline instead.
	recv(t, got, "line")
	readExactly(t, c, "\r\nOK\r\n")
	deadline := time.Now().Add(waitFor)
	for {
		err := second()
		if errors.Is(err, syscall.EBUSY) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("second open while a client holds the port: %v, want EBUSY", err)
		}
		runtime.Gosched()
	}
	c.Close()
	deadline = time.Now().Add(waitFor)
	for {
		err := second()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("open after the client closed: %v", err)
		}
		runtime.Gosched()
	}
}

func TestCloseIdempotentNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	link := filepath.Join(t.TempDir(), "modem")
	p, err := Open(Options{Link: link})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	got := make(chan string, 1)
	go func() { done <- p.Serve(context.Background(), replyHandler(got, 0)) }()
	c := openClient(t, p.Path())
	if _, err := c.Write([]byte("AT\r")); err != nil {
		t.Fatal(err)
	}
	recv(t, got, "line") // Serve is running
	readExactly(t, c, "\r\nOK\r\n")
	_ = c.SetReadDeadline(time.Time{})
	readErr := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 8))
		readErr <- err
	}()

	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close waits for Serve, so it has returned already.
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after Close = %v, want nil", err)
		}
	default:
		t.Fatal("Close returned before Serve did")
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := p.Serve(context.Background(), replyHandler(nil, 0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Serve after Close = %v, want ErrClosed", err)
	}
	if _, err := os.Lstat(link); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("link after Close: %v", err)
	}
	if err := recv(t, readErr, "client hang-up"); err == nil {
		t.Fatal("client read succeeded after Close")
	}
	c.Close()

	deadline := time.Now().Add(waitFor)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

func TestSecondServeIsBusy(t *testing.T) {
	p, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	serve(t, p, replyHandler(got, 0))
	c := openClient(t, p.Path())
	if _, err := c.Write([]byte("AT\r")); err != nil {
		t.Fatal(err)
	}
	recv(t, got, "line") // the first Serve is running
	if err := p.Serve(context.Background(), replyHandler(nil, 0)); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Serve = %v, want ErrBusy", err)
	}
}

func TestServeReturnsHandlerError(t *testing.T) {
	p, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	boom := errors.New("boom")
	err = p.Serve(context.Background(), func(context.Context, io.ReadWriter) error { return boom })
	var op *OpError
	if !errors.Is(err, boom) || !errors.As(err, &op) || op.Path != p.Path() {
		t.Fatalf("Serve = %v, want an OpError on %s wrapping boom", err, p.Path())
	}
}

func TestOpenRefusesToClobberFile(t *testing.T) {
	link := filepath.Join(t.TempDir(), "modem")
	if err := os.WriteFile(link, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Link: link}); err == nil {
		t.Fatal("Open replaced a regular file with a link")
	}
	if b, _ := os.ReadFile(link); !bytes.Equal(b, []byte("precious")) {
		t.Fatal("file was modified")
	}
}

func TestOpenReplacesStaleLink(t *testing.T) {
	link := filepath.Join(t.TempDir(), "modem")
	if err := os.Symlink("/dev/pts/does-not-exist", link); err != nil {
		t.Fatal(err)
	}
	p, err := Open(Options{Link: link})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if target, _ := os.Readlink(link); target != p.Path() {
		t.Fatalf("link -> %q, want %q", target, p.Path())
	}
}

func TestDropErrorUnwraps(t *testing.T) {
	cause := errors.New("modem dropped the port")
	err := fmt.Errorf("serve: %w", Drop(3*time.Second, cause))
	var d PortDowner
	if !errors.As(err, &d) || d.PortDownFor() != 3*time.Second {
		t.Fatalf("PortDowner not found in %v", err)
	}
	if !errors.Is(err, cause) {
		t.Fatal("cause not reachable through Unwrap")
	}
}

func TestBaudPacing(t *testing.T) {
	const baud, size = 9600, 96 // 10 bits a byte: 100 ms on the wire
	p, err := Open(Options{Baud: baud})
	if err != nil {
		t.Fatal(err)
	}
	reply := bytes.Repeat([]byte("x"), size)
	serve(t, p, func(ctx context.Context, rw io.ReadWriter) error {
		if _, err := rw.Read(make([]byte, 16)); err != nil {
			return err
		}
		_, err := rw.Write(reply)
		if err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	})
	c := openClient(t, p.Path())
	start := time.Now()
	if _, err := c.Write([]byte("AT\r")); err != nil {
		t.Fatal(err)
	}
	readExactly(t, c, string(reply))
	// The first slice goes at once; the rest wait their turn on the line.
	if el, min := time.Since(start), 80*time.Millisecond; el < min {
		t.Fatalf("%d bytes at %d baud arrived in %v, want at least %v", size, baud, el, min)
	} else {
		t.Logf("%d bytes at %d baud took %v", size, baud, el)
	}
}

// The reply written just before a drop (the OK of AT+CFUN=1,1) must reach
// the client before the hang-up flushes its queue. Repeated because the
// loss it guards against was a race.
func TestLastReplyBeforeDropArrives(t *testing.T) {
	for i := range 20 {
		p, err := Open(Options{Sleep: func(ctx context.Context, d time.Duration) error {
			<-ctx.Done()
			return ctx.Err()
		}})
		if err != nil {
			t.Fatal(err)
		}
		s := serve(t, p, func(ctx context.Context, rw io.ReadWriter) error {
			if _, err := rw.Read(make([]byte, 64)); err != nil {
				return err
			}
			if _, err := rw.Write([]byte("\r\nOK\r\n")); err != nil {
				return err
			}
			return Drop(time.Second, nil)
		})
		c := openClient(t, p.Path())
		if _, err := c.Write([]byte("AT+CFUN=1,1\r")); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(waitFor))
		got, err := io.ReadAll(c)
		if string(got) != "\r\nOK\r\n" {
			t.Fatalf("run %d: client read %q then %v; want the OK, then the hang-up", i, got, err)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("run %d: no hang-up after the OK", i)
		}
		c.Close()
		s.stop(t)
		p.Close()
	}
}

// Without inotify (instance limit reached) the port still serves; it just
// stops emulating "nobody is listening".
func TestServesWithoutOpenWatch(t *testing.T) {
	startWatch = func(string) (*os.File, error) { return nil, syscall.EMFILE }
	p, err := Open(Options{Exclusive: true})
	startWatch = watchOpens
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	serve(t, p, replyHandler(got, 0))
	c := openClient(t, p.Path())
	if _, err := c.Write([]byte("AT\r")); err != nil {
		t.Fatal(err)
	}
	recv(t, got, "line")
	readExactly(t, c, "\r\nOK\r\n")
}
