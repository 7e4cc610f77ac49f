package api

import (
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
)

// rateLog lets one line through per interval and counts the ones it held
// back, so a client hammering the TCP listener cannot flood the journal: the
// next line that passes says how many were suppressed.
type rateLog struct {
	now   func() time.Time
	every time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func newRateLog(now func() time.Time, every time.Duration) *rateLog {
	return &rateLog{now: now, every: every}
}

// allow reports whether a line may be written now, and how many were held
// back since the last one that was.
func (l *rateLog) allow() (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if d := now.Sub(l.last); !l.last.IsZero() && d >= 0 && d < l.every {
		l.suppressed++
		return false, 0
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return true, n
}

// warn logs msg at WARN unless the limiter holds it back.
func (l *rateLog) warn(log *slog.Logger, msg string, args ...any) {
	ok, n := l.allow()
	if !ok {
		return
	}
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	log.Warn(msg, args...)
}

// rateWriter is an http.Server ErrorLog sink: accept errors, TLS handshake
// failures and the like become rate-limited WARN lines.
type rateWriter struct {
	log  *slog.Logger
	rate *rateLog
	addr string
}

func (w *rateWriter) Write(p []byte) (int, error) {
	w.rate.warn(w.log, "api: server", "listener", w.addr, "err", strings.TrimSpace(string(p)))
	return len(p), nil
}

// limitListener accepts at most n connections at a time: beyond that Accept
// waits for one to close, and new connections wait in the kernel's backlog
// (holding no file descriptor of the daemon's). Accept errors are logged at
// a bounded rate.
type limitListener struct {
	net.Listener
	sem  chan struct{}
	done chan struct{}
	once sync.Once
	log  *slog.Logger
	rate *rateLog
}

func newLimitListener(l net.Listener, n int, log *slog.Logger, rate *rateLog) *limitListener {
	return &limitListener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{}), log: log, rate: rate}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		if !errors.Is(err, net.ErrClosed) {
			l.rate.warn(l.log, "api: accept", "listener", l.Addr().String(), "err", err)
		}
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
