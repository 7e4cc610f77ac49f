//go:build linux

package ptyport

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// tty is one pty pair: the master the handler talks to, a slave descriptor
// we keep open ourselves, and an inotify watch counting client opens.
//
// The keeper descriptor matters: without it the master reads EIO (and polls
// HUP in a tight loop) whenever no client has the slave open, and we could
// not set termios or TIOCEXCL on behalf of the client.
type tty struct {
	path      string
	master    *os.File
	keeper    *os.File
	notify    *os.File
	exclusive bool
	writeWait time.Duration
	baud      int // 0: unpaced
	log       *slog.Logger
	done      chan struct{} // closed by Close; ends pacing waits

	paceMu   sync.Mutex
	lineFree time.Time // pacing: when the last byte has left the "UART"

	eventMu  sync.Mutex
	eventBuf []byte
	clients  atomic.Int32
	dropped  atomic.Int64 // bytes lost because nobody had the port open or read it

	writeDeadline atomic.Pointer[time.Time] // set by SetWriteDeadline; nil: writeWait applies

	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

func openTTY(exclusive bool, writeWait time.Duration, baud int, log *slog.Logger) (t *tty, err error) {
	// O_NONBLOCK makes the master pollable, so Close takes effect while a
	// goroutine is parked in Read and the client sees the hang-up at once.
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &OpError{Op: "open", Path: "/dev/ptmx", Err: err}
	}
	defer func() {
		if err != nil {
			master.Close()
		}
	}()
	rc, err := master.SyscallConn()
	if err != nil {
		return nil, &OpError{Op: "open", Path: "/dev/ptmx", Err: err}
	}
	var n uint32
	var ioctlErr error
	if err := rc.Control(func(fd uintptr) {
		var unlock int32
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, fd, unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
			ioctlErr = e
			return
		}
		n, ioctlErr = unix.IoctlGetUint32(int(fd), unix.TIOCGPTN)
	}); err != nil {
		ioctlErr = err
	}
	if ioctlErr != nil {
		return nil, &OpError{Op: "unlock", Path: "/dev/ptmx", Err: ioctlErr}
	}
	path := "/dev/pts/" + strconv.FormatUint(uint64(n), 10)

	keeper, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &OpError{Op: "open", Path: path, Err: err}
	}
	defer func() {
		if err != nil {
			keeper.Close()
		}
	}()
	if err := makeRaw(keeper); err != nil {
		return nil, &OpError{Op: "raw mode", Path: path, Err: err}
	}

	t = &tty{
		path: path, master: master, keeper: keeper,
		exclusive: exclusive, writeWait: writeWait, baud: baud, log: log, done: make(chan struct{}),
		eventBuf: make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1)),
	}
	notify, err := startWatch(path)
	if err != nil {
		// Serving matters more than the emulation: without the count, act
		// as if a client were always attached (no dropped or flushed output,
		// no TIOCEXCL).
		log.Warn("cannot watch pty opens; output is kept for the next client", "path", path, "err", err)
		t.clients.Store(1)
		t.exclusive = false
		return t, nil
	}
	t.notify = notify
	t.wg.Add(1)
	go t.watch()
	return t, nil
}

// startWatch is watchOpens; tests replace it to exercise the fallback.
var startWatch = watchOpens

// watchOpens starts an inotify watch of path's opens and closes. It goes on
// after our own open, so only clients are counted.
func watchOpens(path string) (*os.File, error) {
	ifd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, &OpError{Op: "inotify", Path: path, Err: err}
	}
	notify := os.NewFile(uintptr(ifd), "inotify:"+path) // non-blocking fd: pollable
	if _, err := unix.InotifyAddWatch(ifd, path, unix.IN_OPEN|unix.IN_CLOSE); err != nil {
		notify.Close()
		return nil, &OpError{Op: "inotify", Path: path, Err: err}
	}
	return notify, nil
}

// makeRaw is cfmakeraw(3): the simulated modem does its own echo and line
// handling, so the tty layer must pass bytes through untouched.
func makeRaw(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ioErr error
	err = rc.Control(func(fd uintptr) {
		tio, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		if err != nil {
			ioErr = err
			return
		}
		tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		tio.Oflag &^= unix.OPOST
		tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		tio.Cflag &^= unix.CSIZE | unix.PARENB
		tio.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL
		tio.Cc[unix.VMIN] = 1
		tio.Cc[unix.VTIME] = 0
		ioErr = unix.IoctlSetTermios(int(fd), unix.TCSETS, tio)
	})
	if err != nil {
		return err
	}
	return ioErr
}

func (t *tty) keeperIoctl(req uint, arg int) {
	rc, err := t.keeper.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		if err := unix.IoctlSetInt(int(fd), req, arg); err != nil {
			t.log.Debug("pty ioctl failed", "path", t.path, "req", req, "err", err)
		}
	})
}

// watch keeps the client count current as opens and closes happen. It ends
// when notify is closed.
func (t *tty) watch() {
	defer t.wg.Done()
	rc, err := t.notify.SyscallConn()
	if err != nil {
		return
	}
	// Returning false parks until the inotify fd is readable again.
	_ = rc.Read(func(fd uintptr) bool {
		t.drainEvents(int(fd))
		return false
	})
}

// syncClients applies every open and close that has already happened. The
// kernel queues the event inside the client's open(2), so after this the
// count is exact for anything the client did before we got here; Write calls
// it so a fast client's first reply is neither dropped nor flushed.
func (t *tty) syncClients() {
	if t.notify == nil {
		return
	}
	rc, err := t.notify.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { t.drainEvents(int(fd)) })
}

func (t *tty) drainEvents(fd int) {
	t.eventMu.Lock()
	defer t.eventMu.Unlock()
	for {
		n, err := unix.Read(fd, t.eventBuf)
		if err != nil || n <= 0 {
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&t.eventBuf[off]))
			off += unix.SizeofInotifyEvent + int(ev.Len)
			t.apply(ev.Mask)
		}
	}
}

func (t *tty) apply(mask uint32) {
	switch {
	case mask&unix.IN_OPEN != 0:
		if t.clients.Add(1) == 1 {
			t.log.Debug("client opened port", "path", t.path)
			if t.exclusive {
				// Emulates the serial driver honouring TIOCEXCL: a second
				// opener gets EBUSY (root bypasses it, as with real ports).
				t.keeperIoctl(unix.TIOCEXCL, 0)
			}
		}
	case mask&unix.IN_CLOSE != 0:
		if t.clients.Add(-1) <= 0 {
			t.clients.Store(0)
			t.log.Debug("client closed port", "path", t.path)
			if t.exclusive {
				t.keeperIoctl(unix.TIOCNXCL, 0)
			}
			// What the client left unread must not greet the next one.
			t.keeperIoctl(unix.TCFLSH, unix.TCIFLUSH)
		}
	case mask&unix.IN_Q_OVERFLOW != 0:
		t.log.Warn("pty open/close events overflowed; client count may be off", "path", t.path)
	}
}

// Read reads what the client wrote. It blocks while no client is attached.
func (t *tty) Read(p []byte) (int, error) {
	n, err := t.master.Read(p)
	if err != nil && errors.Is(err, os.ErrClosed) {
		err = io.EOF
	}
	return n, err
}

// Write sends p to the client. With no client attached, or a client that
// stops reading for longer than writeWait, the bytes are lost, as on a real
// port; the writer never wedges. A deadline set with SetWriteDeadline wins
// over writeWait and is reported as an error, so a writer can be unblocked.
func (t *tty) Write(p []byte) (int, error) {
	t.syncClients()
	if t.clients.Load() == 0 {
		t.dropped.Add(int64(len(p)))
		return len(p), nil
	}
	external := t.writeDeadline.Load()
	if external == nil && t.writeWait > 0 {
		_ = t.master.SetWriteDeadline(time.Now().Add(t.writeWait))
	}
	var n int
	var err error
	if t.baud > 0 {
		n, err = t.pacedWrite(p, external)
	} else {
		n, err = t.master.Write(p)
	}
	if err != nil && external == nil && t.writeDeadline.Load() == nil && errors.Is(err, os.ErrDeadlineExceeded) {
		t.dropped.Add(int64(len(p) - n))
		t.log.Warn("client not reading; output dropped", "path", t.path, "bytes", len(p)-n)
		return len(p), nil
	}
	return n, err
}

// pacedWrite sends p no faster than the baud rate (10 bits a byte, 8N1),
// in slices of about 10 ms, so a client sees a reply arrive over time as
// from a real UART.
func (t *tty) pacedWrite(p []byte, deadline *time.Time) (int, error) {
	t.paceMu.Lock()
	defer t.paceMu.Unlock()
	chunk := max(1, t.baud/10/100)
	byteTime := time.Second * 10 / time.Duration(t.baud)
	written := 0
	for written < len(p) {
		if wait := time.Until(t.lineFree); wait > 0 {
			if deadline != nil && time.Now().Add(wait).After(*deadline) {
				return written, os.ErrDeadlineExceeded
			}
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-t.done:
				timer.Stop()
				return written, io.ErrClosedPipe
			}
		}
		end := min(written+chunk, len(p))
		n, err := t.master.Write(p[written:end])
		written += n
		t.lineFree = time.Now().Add(time.Duration(n) * byteTime)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// SetReadDeadline bounds a pending and future Read, like os.File's.
func (t *tty) SetReadDeadline(d time.Time) error { return t.master.SetReadDeadline(d) }

// SetWriteDeadline bounds Write; the zero time restores the default
// drop-after-writeWait behaviour.
func (t *tty) SetWriteDeadline(d time.Time) error {
	if d.IsZero() {
		t.writeDeadline.Store(nil)
	} else {
		t.writeDeadline.Store(&d)
	}
	return t.master.SetWriteDeadline(d)
}

// drain waits, up to timeout, until the client has read what the handler
// wrote. A hang-up flushes the slave's input queue, so without this the last
// reply before a drop (the OK of AT+CFUN=1,1) would race the client's read
// and often be lost, which a real modem's USB reset does not do to bytes it
// sent well before.
func (t *tty) drain(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		t.syncClients()
		if t.clients.Load() == 0 || !t.unread() || time.Now().After(deadline) {
			return
		}
		time.Sleep(time.Millisecond) // no event tells us the client read; poll, bounded
	}
}

// unread reports whether bytes wait in the slave's input queue, the queue
// the client reads from. poll(2) on our own slave descriptor is the probe
// because n_tty's poll first flushes the kernel's pending receive work;
// TIOCINQ would miss bytes still on their way to the queue.
func (t *tty) unread() bool {
	rc, err := t.keeper.SyscallConn()
	if err != nil {
		return false
	}
	in := false
	_ = rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		in = err == nil && n > 0 && fds[0].Revents&unix.POLLIN != 0
	})
	return in
}

// unblockRead makes a pending Read return; used when the serving context
// ends but the port stays up.
func (t *tty) unblockRead() { _ = t.master.SetReadDeadline(time.Unix(1, 0)) }

func (t *tty) resetReadDeadline() { _ = t.master.SetReadDeadline(time.Time{}) }

// Close hangs up the client (its Read fails at once) and releases
// everything. It is idempotent and waits for the watcher.
func (t *tty) Close() error {
	t.closeOnce.Do(func() {
		close(t.done)
		// Master first: that is the hang-up the client must see.
		t.closeErr = t.master.Close()
		if t.notify != nil {
			t.notify.Close()
		}
		t.wg.Wait()
		t.keeper.Close()
	})
	return t.closeErr
}
