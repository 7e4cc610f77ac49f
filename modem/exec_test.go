package modem

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

func collect(t *testing.T, m *Modem, n int) []Event {
	t.Helper()
	var out []Event
	for len(out) < n {
		select {
		case e, ok := <-m.Events():
			if !ok {
				t.Fatalf("events closed after %d of %d", len(out), n)
			}
			out = append(out, e)
		case <-time.After(time.Minute):
			t.Fatalf("got %d of %d events", len(out), n)
		}
	}
	return out
}

func lines(es []Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Line)
	}
	return out
}

func TestExecFiltersURCsAndKeepsOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestModem(t, parseTranscript(`
			> AT+CIMI
			! +CEREG: 2
			< AT+CIMI
			! RDY
			< 001010123456789
			! +QIND: SMS DONE
			< OK
			> AT+CSQ
			! +CREG: 1,"D509","80D413D",7
			< +CSQ: 20,99
			! +CGEV: ME PDN ACT 1
			< OK
		`))
		got, err := m.exec(t.Context(), cmdSpec{cmd: "+CIMI", bare: true})
		if err != nil || !slices.Equal(got, []string{"001010123456789"}) {
			t.Fatalf("CIMI = %q, %v", got, err)
		}
		got, err = m.exec(t.Context(), cmdSpec{cmd: "+CSQ", prefix: []string{"+CSQ:"}})
		if err != nil || !slices.Equal(got, []string{"+CSQ: 20,99"}) {
			t.Fatalf("CSQ = %q, %v", got, err)
		}
		es := collect(t, m, 5)
		want := []string{"+CEREG: 2", "RDY", "+QIND: SMS DONE", `+CREG: 1,"D509","80D413D",7`, "+CGEV: ME PDN ACT 1"}
		if !slices.Equal(lines(es), want) {
			t.Fatalf("events = %q, want %q", lines(es), want)
		}
		for i, e := range es {
			if e.Seq != uint64(i+1) {
				t.Errorf("event %d seq %d", i, e.Seq)
			}
		}
		if es[0].Kind != EventRegistration || es[0].Domain != DomainEPS || es[1].Kind != EventReset || es[4].Kind != EventPacket {
			t.Errorf("kinds: %v %v %v", es[0].Kind, es[1].Kind, es[4].Kind)
		}
		if r := es[3].Registration; r == nil || r.Status != RegHome || r.Area == nil || *r.Area != 0xD509 {
			t.Errorf("registration hint %+v", r)
		}
	})
}

func TestExecSamePrefixURCInsideRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestModem(t, parseTranscript(`
			> AT+CEREG?
			! +CEREG: 1,"DE10","5A29C0B",7
			< +CEREG: 3,1,"DE10","5A29C0B",7
			< OK
			> AT+CPIN?
			< +CPIN: READY
			< OK
			! +CPIN: NOT READY
		`))
		got, err := m.exec(t.Context(), cmdSpec{cmd: "+CEREG?", prefix: []string{"+CEREG:"}})
		if err != nil || !slices.Equal(got, []string{`+CEREG: 3,1,"DE10","5A29C0B",7`}) {
			t.Fatalf("CEREG? = %q, %v", got, err)
		}
		got, err = m.exec(t.Context(), cmdSpec{cmd: "+CPIN?", prefix: []string{"+CPIN:"}})
		if err != nil || !slices.Equal(got, []string{"+CPIN: READY"}) {
			t.Fatalf("CPIN? = %q, %v", got, err)
		}
		es := collect(t, m, 2)
		if want := []string{`+CEREG: 1,"DE10","5A29C0B",7`, "+CPIN: NOT READY"}; !slices.Equal(lines(es), want) {
			t.Fatalf("events = %q", lines(es))
		}
		if es[1].SIM == nil || *es[1].SIM != SIMNotReady {
			t.Errorf("SIM hint %v", es[1].SIM)
		}
	})
}

func TestExecCMEErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestModem(t, parseTranscript(`
			> AT+CPIN?
			< +CME ERROR: 10
			> AT+CIMI
			< +CME ERROR: SIM busy
			> AT+COPS=?
			< ERROR
			> AT+CGDCONT?
			< +CME ERROR: Parameters error
		`))
		_, err := m.exec(t.Context(), cmdSpec{cmd: "+CPIN?", prefix: []string{"+CPIN:"}})
		var op *OpError
		var cme *CMEError
		if !errors.Is(err, ErrSIMNotInserted) || !errors.As(err, &op) || op.Cmd != "AT+CPIN?" || !errors.As(err, &cme) || cme.Code != 10 {
			t.Fatalf("CPIN? err = %v", err)
		}
		if _, err := m.exec(t.Context(), cmdSpec{cmd: "+CIMI", bare: true}); !errors.Is(err, ErrSIMBusy) {
			t.Fatalf("CIMI err = %v", err)
		}
		if _, err := m.exec(t.Context(), cmdSpec{cmd: "+COPS=?", prefix: []string{"+COPS:"}}); !errors.Is(err, ErrError) {
			t.Fatalf("COPS=? err = %v", err)
		}
		if _, err := m.exec(t.Context(), cmdSpec{cmd: "+CGDCONT?"}); !errors.Is(err, ErrIncorrectParameters) {
			t.Fatalf("CGDCONT? err = %v", err)
		}
	})
}

func TestExecTimeoutThenLateReplyDoesNotLeak(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, f := newTestModem(t, parseTranscript(`
			> AT+CSQ
			@ 4s
			< +CSQ: 20,99
			< OK
			> AT+CMEE?
			< +CMEE: 1
			< OK
			> AT+CIMI
			< 001010123456789
			< OK
		`))
		start := time.Now()
		_, err := m.exec(t.Context(), cmdSpec{cmd: "+CSQ", prefix: []string{"+CSQ:"}})
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("CSQ err = %v", err)
		}
		if d := time.Since(start); d != defaultTimeout {
			t.Errorf("timed out after %v, want %v", d, defaultTimeout)
		}
		got, err := m.exec(t.Context(), cmdSpec{cmd: "+CIMI", bare: true})
		if err != nil || !slices.Equal(got, []string{"001010123456789"}) {
			t.Fatalf("CIMI after timeout = %q, %v (commands %q)", got, err, f.commands())
		}
	})
}

func TestExecContextBoundsTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestModem(t, parseTranscript(`
			> AT+COPS=?
			@ 200s
		`))
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err := m.exec(ctx, cmdSpec{cmd: "+COPS=?"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("returned after %v", d)
		}
	})
}

func TestExecCancelReturnsPromptly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestModem(t, parseTranscript(`
			> AT+CGACT=1,1
			@ 100s
			< OK
		`))
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			time.Sleep(time.Second)
			cancel()
		}()
		start := time.Now()
		_, err := m.exec(ctx, cmdSpec{cmd: "+CGACT=1,1"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("returned after %v", d)
		}
	})
}

func TestPortLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestModem(t, parseTranscript(`
			! +CPIN: NOT READY
			> AT+CSQ
			~ close
		`))
		_, err := m.exec(t.Context(), cmdSpec{cmd: "+CSQ", prefix: []string{"+CSQ:"}})
		if !errors.Is(err, ErrPortLost) {
			t.Fatalf("err = %v", err)
		}
		<-m.Done()
		if !errors.Is(m.Err(), ErrPortLost) {
			t.Fatalf("Err() = %v", m.Err())
		}
		if _, err := m.exec(t.Context(), cmdSpec{cmd: "+CSQ"}); !errors.Is(err, ErrPortLost) {
			t.Fatalf("after loss err = %v", err)
		}
		var got []string
		for e := range m.Events() {
			got = append(got, e.Line)
		}
		if !slices.Equal(got, []string{"+CPIN: NOT READY"}) {
			t.Fatalf("events = %q", got)
		}
		m.Close()
		m.Close()
	})
}

func TestNewOnSilentPortFailsFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		host, dev := net.Pipe()
		defer dev.Close()
		go func() { // a port that swallows everything
			buf := make([]byte, 256)
			for {
				if _, err := dev.Read(buf); err != nil {
					return
				}
			}
		}()
		start := time.Now()
		_, err := New(t.Context(), host, WithDialect(DialectGeneric))
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})
}

func TestCloseIsIdempotentWithUnreadEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestModem(t, parseTranscript(`
			! +CEREG: 2
			! +CEREG: 5
			> AT
			< OK
		`))
		if _, err := m.exec(t.Context(), cmdSpec{cmd: ""}); err != nil {
			t.Fatal(err)
		}
		m.Close()
		m.Close()
		if !errors.Is(m.Err(), ErrClosed) {
			t.Fatalf("Err() = %v", m.Err())
		}
		if _, err := m.exec(t.Context(), cmdSpec{cmd: ""}); !errors.Is(err, ErrClosed) {
			t.Fatalf("exec after Close = %v", err)
		}
	})
}

func TestTimeoutTable(t *testing.T) {
	for cmd, want := range map[string]time.Duration{
		"+CSQ": 3 * time.Second, "+COPS=?": 180 * time.Second, "+COPS=1,2,\"26201\"": 120 * time.Second,
		"+CFUN=1,1": 15 * time.Second, "+CGACT=1,1": 150 * time.Second, "+CRSM=176,12258,0,0,10": 20 * time.Second,
		"+CPIN?": 10 * time.Second, "+CCHO=\"A0\"": 10 * time.Second, "+cops=?": 180 * time.Second,
		// Format-only COPS: a local setting, not a network selection.
		"+COPS=3,2": 3 * time.Second, "+COPS=3,0": 3 * time.Second, "+COPS=0": 120 * time.Second,
	} {
		if got := timeoutFor(cmd); got != want {
			t.Errorf("timeoutFor(%q) = %v, want %v", cmd, got, want)
		}
	}
}

func TestRestartReappliesSettings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, f := newTestModem(t, parseTranscript(`
			> AT+CSQ
			! RDY
			< OK
		`))
		m.exec(t.Context(), cmdSpec{cmd: "+CSQ"})
		es := collect(t, m, 1)
		if es[0].Kind != EventReset {
			t.Fatalf("event %+v", es[0])
		}
		synctest.Wait()
		got := f.commands()
		n := 0
		for _, c := range got {
			if c == "ATE0" || c == "AT+CEREG=3" {
				n++
			}
		}
		if n != 4 {
			t.Fatalf("commands %q: want ATE0 and AT+CEREG=3 twice each", got)
		}
	})
}

// After the caller gives up (deadline or cancel), the modem's late answer
// must not complete the next command.
func TestAbandonedCommandsLateRepliesDoNotLeak(t *testing.T) {
	for _, cancelIt := range []bool{false, true} {
		t.Run(map[bool]string{false: "deadline", true: "cancel"}[cancelIt], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m, f := newTestModem(t, parseTranscript(`
					> AT+COPS=?
					@ 5s
					< +COPS: (2,"Telekom.de","TDG","26201",7),,(0-4),(0-2)
					< OK
					> AT+CMEE?
					< +CMEE: 1
					< OK
					> AT+CMEE?
					< +CMEE: 1
					< OK
					> AT+CIMI
					< 001010123456789
					< OK
				`))
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				if cancelIt {
					ctx, cancel = context.WithCancel(t.Context())
					go func() { time.Sleep(2 * time.Second); cancel() }()
				}
				defer cancel()
				if _, err := m.exec(ctx, cmdSpec{cmd: "+COPS=?", prefix: []string{"+COPS:"}}); err == nil {
					t.Fatal("COPS=? succeeded")
				}
				got, err := m.exec(t.Context(), cmdSpec{cmd: "+CIMI", bare: true})
				if err != nil || !slices.Equal(got, []string{"001010123456789"}) {
					t.Fatalf("CIMI = %q, %v (commands %q)", got, err, f.commands())
				}
				got, err = m.exec(t.Context(), cmdSpec{cmd: "+CMEE?", prefix: []string{"+CMEE:"}})
				if err != nil || !slices.Equal(got, []string{"+CMEE: 1"}) {
					t.Fatalf("CMEE? = %q, %v (commands %q)", got, err, f.commands())
				}
			})
		})
	}
}

func TestExecRejectsLineEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestModem(t, nil)
		_, err := m.exec(t.Context(), cmdSpec{cmd: "+CGDCONT=1,\"IP\",\"a\r\nAT+CFUN=0\""})
		if !errors.Is(err, ErrIncorrectParameters) {
			t.Fatalf("err = %v", err)
		}
	})
}
