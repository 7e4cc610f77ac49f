package simulator

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// A second drop while the port is already away must not let WaitPortUp
// return at the first drop's deadline: the port comes back at the later of
// the two.
func TestDoubleDropPortWaitsForLater(t *testing.T) {
	clk := NewManualClock(testEpoch)
	m, err := New(loadScenario(t, "basic.yaml"), WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	drop := func(d time.Duration) {
		t.Helper()
		if err := m.TriggerFault(Fault{Kind: FaultPortLoss, Delay: d}); err != nil {
			t.Fatal(err)
		}
	}
	up := make(chan error, 1)
	drop(10 * time.Second)
	go func() { up <- m.WaitPortUp(context.Background()) }()
	m.Advance(5 * time.Second)
	drop(10 * time.Second) // up at 15 s now
	if d := m.PortDownFor(); d != 10*time.Second {
		t.Errorf("PortDownFor after the second drop = %v, want 10s", d)
	}
	drop(time.Second) // shorter: changes nothing
	if d := m.PortDownFor(); d != 10*time.Second {
		t.Errorf("PortDownFor after a shorter drop = %v, want 10s", d)
	}
	m.Advance(6 * time.Second) // 11 s: past the first deadline
	select {
	case err := <-up:
		t.Fatalf("WaitPortUp returned at the first drop's deadline: %v", err)
	default:
	}
	// A waiter that starts now waits for the same, later deadline.
	up2 := make(chan error, 1)
	go func() { up2 <- m.WaitPortUp(context.Background()) }()
	m.Advance(4 * time.Second) // 15 s
	for _, c := range []chan error{up, up2} {
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
	if err := m.WaitPortUp(context.Background()); err != nil {
		t.Errorf("port up: WaitPortUp = %v", err)
	}
}

func TestIdentity(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Identity
	}{
		{"scenarios/basic.yaml", Identity{"Quectel", "EG25", "EG25GGBR07A08M2G", "866834040000017"}},
		{"scenarios/simcom.yaml", Identity{"SIMCOM INCORPORATED", "SIMCOM_SIM7600E-H", "LE20B04SIM7600M22", "862636052000019"}},
		{"testdata/telit.yaml", Identity{"Telit", "LE910C1-EUX", "25.30.224", "354616090000010"}},
	} {
		sc, err := LoadScenario(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		m, err := New(sc, WithClock(NewManualClock(testEpoch)))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Identity(); got != tc.want {
			t.Errorf("%s: Identity = %+v, want %+v", tc.file, got, tc.want)
		}
		m.Close()
	}
	// Scenario overrides win over the dialect's defaults, field by field.
	sc := loadScenario(t, "basic.yaml")
	sc.Identity = Identity{Model: "EG25-G", IMEI: "490154203237518"}
	m, err := New(sc, WithClock(NewManualClock(testEpoch)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got, want := m.Identity(), (Identity{"Quectel", "EG25-G", "EG25GGBR07A08M2G", "490154203237518"}); got != want {
		t.Errorf("overridden Identity = %+v, want %+v", got, want)
	}
}

// AT+COPS=3,<format> only chooses the +COPS? format: it answers at the
// normal latency, while a network selection (COPS=0) takes attach_delay/2.
func TestCOPSFormatLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := loadScenario(t, "basic.yaml")
		r := newRig(t, sc)
		r.send("ATE0\r")
		r.readUntil("OK\r\n")
		for _, tc := range []struct {
			cmd  string
			want time.Duration
		}{
			{"AT+COPS=3,2", sc.Timing.Latency},
			{"AT+COPS=3,0", sc.Timing.Latency},
			{"AT+COPS=0", sc.Timing.AttachDelay / 2},
		} {
			start := time.Now()
			r.send(tc.cmd + "\r")
			r.readUntil("OK\r\n")
			if took := time.Since(start); took != tc.want {
				t.Errorf("%s took %v, want %v", tc.cmd, took, tc.want)
			}
		}
		r.send("AT+COPS=3,2;+COPS?\r")
		if got := r.readUntil("OK\r\n"); !strings.Contains(got, `+COPS: 0,2,"26201",7`) {
			t.Errorf("COPS? after COPS=3,2 = %q", got)
		}
	})
}

// The echo of a command line is queued before the interpreter sees the
// line. The reader is parked handing the line over while the test holds
// the modem lock, as a handler would: the echo must already be queued,
// since a reader that queued it after the hand-off could not until the
// handler (and its reply) were done.
func TestEchoQueuedBeforeLineHandedOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, err := New(loadScenario(t, "basic.yaml"), WithClock(NewManualClock(testEpoch)))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		pr, pw := io.Pipe()
		c := &conn{
			rw:      struct{ io.ReadWriter }{readOnly{pr}},
			out:     newOutQueue(),
			lines:   make(chan []byte),
			dropped: make(chan struct{}),
			failed:  make(chan error, 2),
		}
		m.mu.Lock()
		m.conn = c
		m.mu.Unlock()
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { defer close(done); m.readLoop(c, stop) }()
		for _, chunks := range [][]string{{"AT+CGMI\r"}, {"A", "T", "I", "\r"}, {"ATE0;+CGMM\r"}} {
			for _, ch := range chunks {
				if _, err := pw.Write([]byte(ch)); err != nil {
					t.Fatal(err)
				}
			}
			synctest.Wait() // the reader is parked on the hand-off
			m.mu.Lock()
			line := <-c.lines
			c.out.mu.Lock()
			var queued []byte
			for _, it := range c.out.items {
				queued = append(queued, it.data...)
			}
			c.out.items = nil
			c.out.mu.Unlock()
			m.mu.Unlock()
			want := strings.Join(chunks, "")
			if string(queued) != want {
				t.Errorf("line %q handed over with %q queued, want the echo %q", line, queued, want)
			}
		}
		close(stop)
		pw.Close()
		<-done
	})
}

type readOnly struct{ io.Reader }

func (readOnly) Write(p []byte) (int, error) { return len(p), nil }

// End to end: the echo is on the wire ahead of the reply even when the
// command answers at once and the line arrives one byte per write.
func TestEchoBeforeReply(t *testing.T) {
	sc := loadScenario(t, "basic.yaml")
	sc.Timing.Latency = 0
	m, err := New(sc, WithClock(NewManualClock(testEpoch)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	client, server := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- m.Serve(ctx, server) }()
	defer func() {
		cancel()
		client.Close()
		<-served
	}()
	_ = client.SetDeadline(time.Now().Add(30 * time.Second))
	read := func(suffix string) string {
		t.Helper()
		var b bytes.Buffer
		one := make([]byte, 1)
		for !bytes.HasSuffix(b.Bytes(), []byte(suffix)) {
			if _, err := client.Read(one); err != nil {
				t.Fatalf("read (have %q): %v", b.String(), err)
			}
			b.Write(one)
		}
		return b.String()
	}
	for i := range 200 {
		line := "AT+CGMI\r"
		if i%2 == 1 {
			for j := range len(line) {
				if _, err := client.Write([]byte{line[j]}); err != nil {
					t.Fatal(err)
				}
			}
		} else if _, err := client.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
		if got, want := read("OK\r\n"), "AT+CGMI\r\r\nQuectel\r\n\r\nOK\r\n"; got != want {
			t.Fatalf("round %d: %q, want %q", i, got, want)
		}
	}
	// The wire log agrees: every reply is preceded by the line's echo.
	var outs []string
	for _, e := range m.Log() {
		if e.Dir == Out {
			outs = append(outs, string(e.Data))
		}
	}
	joined := strings.Join(outs, "")
	if want := strings.Repeat("AT+CGMI\r\r\nQuectel\r\n\r\nOK\r\n", 200); joined != want {
		t.Errorf("wire log out of order: %q...", joined[:min(len(joined), 200)])
	}
}

// WS46 writes the RAT preference registration honours: LTE-only never
// camps on a GSM cell, even a strong one.
func TestWS46LTEOnlyNeverCampsOnGSM(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc, err := LoadScenario("testdata/ws46.yaml")
		if err != nil {
			t.Fatal(err)
		}
		r := newRig(t, sc)
		r.send("ATE0;+WS46=28\r")
		r.readUntil("OK\r\n")
		// The LTE network goes away; the GSM one is strong and accepts us.
		if err := r.m.RunEvent(Event{Kind: "outage", Network: "26201"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Minute)
		if st := r.m.Snapshot(); st.RAT == RATGSM || st.RegStat == regHome || st.RegStat == regRoaming {
			t.Errorf("LTE-only camped on %s (stat %d)", st.RAT, st.RegStat)
		}
		r.send("AT+CSQ\r")
		if got := r.readUntil("OK\r\n"); !strings.Contains(got, "+CSQ: 99,99") {
			t.Errorf("LTE-only, no LTE: CSQ = %q", got)
		}
		r.send("AT+WS46=25\r")
		r.readUntil("OK\r\n")
		time.Sleep(sc.Timing.AttachDelay + time.Second)
		if st := r.m.Snapshot(); st.RAT != RATGSM || st.RegStat != regRoaming {
			t.Errorf("auto: %+v, want roaming on GSM", st)
		}
	})
}

// Closing the modem ends a WaitPortUp in progress with ErrClosed.
func TestWaitPortUpClosed(t *testing.T) {
	m, err := New(loadScenario(t, "basic.yaml"), WithClock(NewManualClock(testEpoch)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.TriggerFault(Fault{Kind: FaultPortLoss, Delay: time.Minute}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.WaitPortUp(context.Background()) }()
	m.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("WaitPortUp after Close = %v, want ErrClosed", err)
	}
}
