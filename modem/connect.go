package modem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"

	"time"
)

// Opener opens the modem's AT port, typically by a stable path such as
// /dev/serial/by-id/... so that a modem that re-enumerated after a reset is
// found again. modem never opens serial ports itself.
type Opener func(ctx context.Context) (io.ReadWriteCloser, error)

// Clock is the time source for backoff waits.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func defaultJitter() float64 { return rand.Float64() }

// Connect opens the port and starts a session, retrying with capped
// exponential backoff and jitter until it works or ctx ends. The returned
// Closer closes the session and the port (the Modem owns the port, so
// m.Close does the same; the Closer is for owners that hold only it).
//
// Call it again when m.Done() closes: a lost port means a new port and a new
// session.
func Connect(ctx context.Context, open Opener, opts ...Option) (*Modem, io.Closer, error) {
	cfg := newConfig(opts)
	delay := cfg.backoffMin
	var last error
	for attempt := 1; ; attempt++ {
		m, err := connectOnce(ctx, open, opts)
		if err == nil {
			return m, closerFunc(m.Close), nil
		}
		last = err
		cfg.logger.Info("modem: connect failed, will retry", "attempt", attempt, "err", err)
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("modem: connect: gave up after %d attempts: %w", attempt, errors.Join(ctx.Err(), last))
		}
		// Full jitter on the upper half: spreads reconnect storms from many
		// gateways without ever retrying faster than half the step.
		wait := delay/2 + time.Duration(cfg.jitter()*float64(delay/2))
		select {
		case <-cfg.clock.After(wait):
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("modem: connect: gave up after %d attempts: %w", attempt, errors.Join(ctx.Err(), last))
		}
		delay *= 2
		if delay > cfg.backoffMax {
			delay = cfg.backoffMax
		}
	}
}

func connectOnce(ctx context.Context, open Opener, opts []Option) (*Modem, error) {
	port, err := open(ctx)
	if err != nil {
		return nil, fmt.Errorf("modem: open: %w", err)
	}
	m, err := New(ctx, port, opts...)
	if err != nil {
		// New closed the port (it owns it).
		return nil, err
	}
	return m, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
