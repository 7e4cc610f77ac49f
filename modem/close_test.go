package modem

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Close must be safe while other goroutines are inside any method: a
// port-loss handler or a shutdown path calls it without stopping the
// callers first. Run with -race; each case closes at a different moment of
// the command traffic (mid-reply, mid-abort, mid-resync).
func TestCloseWhileCommandsRun(t *testing.T) {
	extra := map[string][]string{
		"AT+CSQ":  {"+CSQ: 20,99", "OK"},
		"AT+CIMI": {"001010123456789", "OK"},
		"AT+CGSN": {}, // never answered: timeouts and resyncs in flight
	}
	for _, after := range []time.Duration{0, time.Millisecond, 50 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 3100 * time.Millisecond, 7 * time.Second} {
		t.Run(fmt.Sprint(after), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, host := startFakeWith(t, nil, extra)
				m, err := New(t.Context(), host, WithDialect(DialectGeneric))
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				// The shutdown path cancels the callers' context and closes
				// at the same moment.
				run, cancel := context.WithCancel(t.Context())
				defer cancel()
				var wg sync.WaitGroup
				call := func(f func(ctx context.Context) error) {
					wg.Go(func() {
						for {
							err := f(run)
							if run.Err() != nil {
								// Keep calling: a cancelled caller still
								// meets Close.
								f(t.Context())
							}
							if errors.Is(err, ErrClosed) || errors.Is(err, ErrPortLost) {
								return
							}
							select {
							case <-m.Done():
								return
							default:
							}
						}
					})
				}
				call(func(ctx context.Context) error { _, err := m.Signal(ctx); return err })
				call(func(ctx context.Context) error { _, err := m.IMSI(ctx); return err })
				call(func(ctx context.Context) error {
					_, err := m.exec(ctx, cmdSpec{cmd: "+CGSN", timeout: time.Second})
					return err
				})
				call(func(ctx context.Context) error {
					// Abandoned by its caller: an injected abort and a resync.
					ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
					defer cancel()
					_, err := m.exec(ctx, cmdSpec{cmd: "+CGSN"})
					return err
				})
				time.Sleep(after)
				var cw sync.WaitGroup
				cw.Go(cancel)
				for range 2 {
					cw.Go(func() { m.Close() })
				}
				cw.Wait()
				wg.Wait()
				if !errors.Is(m.Err(), ErrClosed) {
					t.Fatalf("Err() = %v", m.Err())
				}
				if _, err := m.Signal(t.Context()); !errors.Is(err, ErrClosed) {
					t.Fatalf("Signal after Close = %v", err)
				}
			})
		})
	}
}
