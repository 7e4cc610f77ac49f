package modem

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func wantStartError(t *testing.T, err error, cmd string, cause error) {
	t.Helper()
	var se *StartError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want *StartError", err, err)
	}
	if se.Cmd != cmd || !errors.Is(err, cause) {
		t.Fatalf("err = %v, want start-up error at %s: %v", err, cmd, cause)
	}
}

// A modem that restarts half-way through start-up has undone the settings
// made so far; New says so at once instead of timing out command by command.
func TestNewFailsPromptlyOnRestartDuringStartup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, host := startFake(t, parseTranscript(`
			> AT+CMEE=1
			! RDY
		`))
		t0 := time.Now()
		m, err := New(t.Context(), host, WithDialect(DialectGeneric))
		if m != nil {
			t.Fatal("New returned a session")
		}
		wantStartError(t, err, "AT+CMEE=1", ErrRestarted)
		if d := time.Since(t0); d > 100*time.Millisecond {
			t.Errorf("took %v", d)
		}
	})
}

// A restart announced before the modem first answered is harmless.
func TestNewIgnoresRestartBeforeFirstAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, host := startFake(t, parseTranscript(`
			! RDY
		`))
		m, err := New(t.Context(), host, WithDialect(DialectGeneric))
		if err != nil {
			t.Fatal(err)
		}
		m.Close()
	})
}

func TestNewFailsPromptlyOnPortLossDuringStartup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, host := startFake(t, parseTranscript(`
			> AT+CEREG=3
			~ close
		`))
		t0 := time.Now()
		_, err := New(t.Context(), host, WithDialect(DialectGeneric))
		wantStartError(t, err, "AT+CEREG=3", ErrPortLost)
		if d := time.Since(t0); d > 100*time.Millisecond {
			t.Errorf("took %v", d)
		}
	})
}

// A modem that answers, but slower and slower, cannot hold New longer than
// its start budget; the caller's deadline shortens it.
func TestNewStartBudget(t *testing.T) {
	slow := parseTranscript(`
		> AT+CMEE=1
		@ 2s
		< OK
		> AT+CREG=3
		@ 2s
		< OK
		> AT+CGREG=3
		@ 2s
		< OK
		> AT+CEREG=3
		@ 2s
		< OK
	`)
	t.Run("budget", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			_, host := startFake(t, slow)
			t0 := time.Now()
			_, err := New(t.Context(), host, WithDialect(DialectGeneric), WithStartBudget(5*time.Second))
			wantStartError(t, err, "AT+CGREG=3", ErrTimeout)
			if d := time.Since(t0); d != 5*time.Second {
				t.Errorf("took %v, want the 5s budget", d)
			}
		})
	})
	t.Run("caller", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			_, host := startFake(t, slow)
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			_, err := New(ctx, host, WithDialect(DialectGeneric))
			wantStartError(t, err, "AT+CREG=3", context.DeadlineExceeded)
		})
	})
	t.Run("default", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// Each answer just inside its own 3 s timeout; six of them
			// add up to more than the budget.
			var steps []string
			for _, c := range []string{"ATE0", "AT+CMEE=1", "AT+CREG=3", "AT+CGREG=3", "AT+CEREG=3", "AT+CGEREP=2,1"} {
				steps = append(steps, "> "+c, "@ 2900ms", "< OK")
			}
			_, host := startFake(t, steps)
			t0 := time.Now()
			_, err := New(t.Context(), host, WithDialect(DialectGeneric))
			wantStartError(t, err, "AT+CGEREP=2,1", ErrTimeout)
			if d := time.Since(t0); d != DefaultStartBudget {
				t.Errorf("took %v, want %v", d, DefaultStartBudget)
			}
		})
	})
}

func TestCommandObserver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type obs struct {
			cmd string
			d   time.Duration
			err error
		}
		var mu sync.Mutex
		var got []obs
		m, _ := newTestModem(t, parseTranscript(`
			> AT+CSQ
			@ 40ms
			< +CSQ: 20,99
			< OK
			> AT+CPIN?
			< +CME ERROR: 10
		`), WithCommandObserver(func(cmd string, d time.Duration, err error) {
			mu.Lock()
			got = append(got, obs{cmd, d, err})
			mu.Unlock()
		}))
		m.exec(t.Context(), cmdSpec{cmd: "+CSQ", prefix: []string{"+CSQ:"}})
		m.exec(t.Context(), cmdSpec{cmd: "+CPIN?", prefix: []string{"+CPIN:"}})
		mu.Lock()
		defer mu.Unlock()
		var cmds []string
		for _, o := range got {
			cmds = append(cmds, o.cmd)
		}
		if !slices.Contains(cmds, "ATE0") {
			t.Errorf("start-up commands not observed: %q", cmds)
		}
		last := got[len(got)-2:]
		if last[0].cmd != "AT+CSQ" || last[0].d != 40*time.Millisecond || last[0].err != nil {
			t.Errorf("CSQ observed as %+v", last[0])
		}
		if last[1].cmd != "AT+CPIN?" || !errors.Is(last[1].err, ErrSIMNotInserted) {
			t.Errorf("CPIN observed as %+v", last[1])
		}
	})
}

// An observer (or anything else called from a command's goroutine) may
// close the session without waiting for itself.
func TestObserverMayClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m *Modem
		var ready = make(chan struct{})
		m, _ = newTestModem(t, nil, WithCommandObserver(func(cmd string, _ time.Duration, _ error) {
			select {
			case <-ready:
				m.Close()
			default:
			}
		}))
		close(ready)
		m.exec(t.Context(), cmdSpec{cmd: ""})
		if !errors.Is(m.Err(), ErrClosed) {
			t.Fatalf("Err() = %v", m.Err())
		}
	})
}
