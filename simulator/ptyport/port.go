package ptyport

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Handler serves one connection, e.g. (*simulator.Modem).Serve wrapped so
// that a dropped port comes back as an error implementing PortDowner. rw also
// implements io.Closer: closing it hangs up the client immediately.
type Handler func(ctx context.Context, rw io.ReadWriter) error

// Options configures a Port. The zero value is usable.
type Options struct {
	// Link, if set, is kept pointing at the current /dev/pts/N while the port
	// is up and removed while it is down, the way /dev/serial/by-id behaves.
	Link string
	// Logger receives port events; nil discards them.
	Logger *slog.Logger
	// Exclusive makes a second opener of the slave get EBUSY while a client
	// holds it (TIOCEXCL, as go.bug.st/serial and ModemManager set on real
	// ports). The kernel lets CAP_SYS_ADMIN through regardless.
	Exclusive bool
	// NewPath makes the port reappear under a different /dev/pts/N after a
	// drop, like ttyUSB2 re-enumerating as ttyUSB5.
	NewPath bool
	// WriteTimeout bounds how long a write waits for a client that stopped
	// reading before the bytes are dropped. Zero means 2s; negative waits
	// forever.
	WriteTimeout time.Duration
	// DrainTimeout bounds how long a port drop waits for the client to read
	// what was already sent before hanging up. Zero means 250ms; negative
	// hangs up at once.
	DrainTimeout time.Duration
	// Baud, if positive, paces output at that line rate (8N1: 10 bits a
	// byte), as a UART-attached modem would; USB modems ignore the rate, so
	// zero (unpaced) is the default.
	Baud int
	// Sleep waits out a port-down period; nil uses a real timer. Tests and
	// sped-up clocks inject their own.
	Sleep func(ctx context.Context, d time.Duration) error
	// Notify, if set, is called from Serve's goroutine when the port goes
	// down (Up false) or comes back (Up true, Path the new device).
	Notify func(Event)
}

// Event reports a port state change to Options.Notify.
type Event struct {
	Up   bool
	Path string
}

// Port is a pseudo-terminal standing in for a modem's USB serial port.
type Port struct {
	opts       Options
	log        *slog.Logger
	base       context.Context
	baseCancel context.CancelFunc

	mu      sync.Mutex
	cur     *tty   // nil while the port is down
	last    string // path before the last drop
	closed  bool
	busy    bool  // a Serve is running: one handler owns the wire
	lost    int64 // bytes dropped on ptys already closed
	serving sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// Open creates the pty (and the link, if asked for).
func Open(opts Options) (*Port, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = 2 * time.Second
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = 250 * time.Millisecond
	}
	if opts.Sleep == nil {
		opts.Sleep = realSleep
	}
	if opts.Link != "" {
		// Never clobber something that is not a link we could have made.
		if fi, err := os.Lstat(opts.Link); err == nil && fi.Mode()&os.ModeSymlink == 0 {
			return nil, &OpError{Op: "link", Path: opts.Link, Err: errors.New("exists and is not a symlink")}
		}
	}
	p := &Port{opts: opts, log: opts.Logger}
	p.base, p.baseCancel = context.WithCancel(context.Background())
	t, err := p.openTTY()
	if err != nil {
		p.baseCancel()
		return nil, err
	}
	if err := p.setLink(t.path); err != nil {
		t.Close()
		p.baseCancel()
		return nil, err
	}
	p.cur = t
	return p, nil
}

func (p *Port) openTTY() (*tty, error) {
	wait := p.opts.WriteTimeout
	if wait < 0 {
		wait = 0
	}
	return openTTY(p.opts.Exclusive, wait, p.opts.Baud, p.log)
}

// Path is the current slave device, e.g. /dev/pts/7; "" while the port is
// down.
func (p *Port) Path() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return ""
	}
	return p.cur.path
}

// DroppedBytes is how many bytes the handler wrote that no client received
// because none had the port open or one stopped reading, since Open.
func (p *Port) DroppedBytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.lost
	if p.cur != nil {
		n += p.cur.dropped.Load()
	}
	return n
}

// Link is the stable symlink from Options, or "".
func (p *Port) Link() string { return p.opts.Link }

// Serve runs h on the pty master until ctx ends, the Port is closed, or h
// returns an error that does not ask for a port drop. When h's error
// implements PortDowner, Serve hangs up the client, keeps the port away for
// PortDownFor, opens a new pty, repoints the link and runs h again.
//
// Serve returns nil when stopped by ctx or Close, ErrClosed if the Port was
// already closed, ErrBusy if another Serve is running, and otherwise h's (or
// Options.Sleep's) error wrapped in an *OpError.
func (p *Port) Serve(ctx context.Context, h Handler) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	if p.busy {
		p.mu.Unlock()
		return ErrBusy
	}
	p.busy = true
	p.serving.Add(1)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.busy = false
		p.mu.Unlock()
		p.serving.Done()
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(p.base, cancel)()

	for {
		t, err := p.current(ctx)
		if err != nil || t == nil {
			return err
		}
		t.resetReadDeadline()
		stop := context.AfterFunc(ctx, t.unblockRead)
		err = h(ctx, t)
		stop()
		// p.base is checked directly: AfterFunc's cancel of ctx may not have
		// run yet when Close makes the handler fail.
		if ctx.Err() != nil || p.base.Err() != nil {
			return nil
		}
		var d PortDowner
		if !errors.As(err, &d) {
			if err == nil {
				return nil
			}
			return &OpError{Op: "serve", Path: t.path, Err: err}
		}
		down := d.PortDownFor()
		p.down(t, down)
		if err := p.opts.Sleep(ctx, down); err != nil {
			if ctx.Err() != nil || p.base.Err() != nil {
				return nil // stopped while the port was away: still a clean stop
			}
			return &OpError{Op: "port down", Path: t.path, Err: err}
		}
	}
}

// current returns the live tty, bringing the port back up if it is down.
// It returns nil, nil when the Port was closed meanwhile.
func (p *Port) current(ctx context.Context) (*tty, error) {
	t, reopened, err := p.reopen(ctx)
	if reopened {
		p.log.Info("port up", "path", t.path, "link", p.opts.Link)
		if p.opts.Notify != nil {
			p.opts.Notify(Event{Up: true, Path: t.path})
		}
	}
	return t, err
}

func (p *Port) reopen(ctx context.Context) (*tty, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || ctx.Err() != nil {
		return nil, false, nil
	}
	if p.cur != nil {
		return p.cur, false, nil
	}
	t, err := p.openTTY()
	if err != nil {
		return nil, false, err
	}
	if p.opts.NewPath && t.path == p.last {
		// Holding the old number while opening another guarantees a new one.
		t2, err := p.openTTY()
		t.Close()
		if err != nil {
			return nil, false, err
		}
		t = t2
	}
	if err := p.setLink(t.path); err != nil {
		t.Close()
		return nil, false, err
	}
	p.cur = t
	return t, true, nil
}

func (p *Port) down(t *tty, d time.Duration) {
	p.mu.Lock()
	if p.cur == t {
		p.cur = nil
	}
	p.last = t.path
	p.mu.Unlock()
	t.drain(p.opts.DrainTimeout)
	t.Close()
	p.mu.Lock()
	p.lost += t.dropped.Load()
	p.mu.Unlock()
	p.removeLink(t.path)
	p.log.Info("port down", "path", t.path, "for", d)
	if p.opts.Notify != nil {
		p.opts.Notify(Event{Up: false, Path: t.path})
	}
}

// Close hangs up any client, stops Serve, waits for it and removes the link.
// It is idempotent.
func (p *Port) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		t := p.cur
		p.cur = nil
		p.mu.Unlock()
		p.baseCancel()
		if t != nil {
			p.closeErr = t.Close()
			p.removeLink(t.path)
		}
		p.serving.Wait()
	})
	return p.closeErr
}

func (p *Port) setLink(target string) error {
	if p.opts.Link == "" {
		return nil
	}
	// Symlink then rename, so a client never sees the link missing or
	// half-made while it is being repointed.
	tmp := p.opts.Link + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return &OpError{Op: "link", Path: p.opts.Link, Err: err}
	}
	if err := os.Rename(tmp, p.opts.Link); err != nil {
		_ = os.Remove(tmp)
		return &OpError{Op: "link", Path: p.opts.Link, Err: err}
	}
	return nil
}

// removeLink removes the link only if it still points at target, so a link
// someone else repointed is left alone.
func (p *Port) removeLink(target string) {
	if p.opts.Link == "" {
		return
	}
	if cur, err := os.Readlink(p.opts.Link); err == nil && cur == target {
		_ = os.Remove(p.opts.Link)
	}
}

func realSleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
