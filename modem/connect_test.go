package modem

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func contextWithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

func TestConnectRetriesWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var attempts []time.Duration
		start := time.Now()
		open := func(ctx context.Context) (io.ReadWriteCloser, error) {
			attempts = append(attempts, time.Since(start))
			if len(attempts) < 4 {
				return nil, errors.New("no such device")
			}
			_, host := startFake(t, nil)
			return host, nil
		}
		m, closer, err := Connect(t.Context(), open, WithDialect(DialectGeneric),
			WithBackoff(time.Second, 3*time.Second), WithJitter(func() float64 { return 0.5 }))
		if err != nil {
			t.Fatal(err)
		}
		defer closer.Close()
		// Waits of 3/4 of 1 s, 2 s, then 3 s (capped).
		want := []time.Duration{0, 750 * time.Millisecond, 2250 * time.Millisecond, 4500 * time.Millisecond}
		if len(attempts) != 4 {
			t.Fatalf("attempts at %v", attempts)
		}
		for i := range want {
			if attempts[i] != want[i] {
				t.Errorf("attempt %d at %v, want %v", i, attempts[i], want[i])
			}
		}
		if m.Dialect() != DialectGeneric {
			t.Errorf("dialect %q", m.Dialect())
		}
		closer.Close()
		<-m.Done()
	})
}

func TestConnectGivesUpWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		n := 0
		_, _, err := Connect(ctx, func(ctx context.Context) (io.ReadWriteCloser, error) {
			n++
			return nil, errors.New("busy")
		})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "busy") || n < 3 {
			t.Fatalf("n=%d err=%v", n, err)
		}
	})
}

func TestTraceCopiesTheWire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		var w syncWriter
		w.w = &buf
		m, _ := newTestModem(t, nil, WithTrace(&w))
		m.Close()
		w.mu.Lock()
		defer w.mu.Unlock()
		if !strings.Contains(buf.String(), `> "ATE0\r\n"`) || !strings.Contains(buf.String(), `< "\r\nOK\r\n"`) {
			t.Fatalf("trace:\n%s", buf.String())
		}
	})
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
