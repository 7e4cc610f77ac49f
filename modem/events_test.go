package modem

import (
	"strings"
	"testing"
	"testing/synctest"
)

func TestClassifyURC(t *testing.T) {
	cereg := &cmdSpec{cmd: "+CEREG?", prefix: []string{"+CEREG:"}}
	csq := &cmdSpec{cmd: "+CSQ", prefix: []string{"+CSQ:"}}
	cimi := &cmdSpec{cmd: "+CIMI", bare: true}
	for _, tc := range []struct {
		line     string
		inflight *cmdSpec
		urc      bool
		kind     EventKind
	}{
		{`+CEREG: 2,1,"DE10","5A29C0B",7`, cereg, false, 0},
		{`+CEREG: 1,"DE10","5A29C0B",7`, cereg, true, EventRegistration},
		{`+CEREG: 5`, csq, true, EventRegistration},
		{`+CSQ: 20,99`, csq, false, 0},
		{`RDY`, cimi, true, EventReset},
		{`310260123456789`, cimi, false, 0},
		{`+QIND: SMS DONE`, cimi, true, EventInfo},
		{`+QGPSURC: "xtradata"`, nil, true, EventOther},
		{`+QGPSURC: "xtradata"`, csq, false, 0},
		{`OK`, nil, false, 0},
		{`AT+CSQ`, nil, false, 0},
		{`+CPIN: NOT READY`, csq, true, EventSIM},
	} {
		k, _, ok := classifyURC(tc.line, tc.inflight)
		if ok != tc.urc || (ok && k != tc.kind) {
			t.Errorf("classifyURC(%q) = %v %v, want %v %v", tc.line, k, ok, tc.kind, tc.urc)
		}
	}
}

func TestLineSplitter(t *testing.T) {
	var s lineSplitter
	got := s.feed([]byte("AT+CREG?\r\r\n+CREG: 0,2\r\n\r\nOK\r\n\r\n+QIND: SM"))
	got = append(got, s.feed([]byte("S DONE\r\n"))...)
	want := []string{"AT+CREG?", "+CREG: 0,2", "OK", "+QIND: SMS DONE"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q", got)
	}
	long := s.feed([]byte(strings.Repeat("x", maxLine+10)))
	if len(long) != 1 || len(long[0]) != maxLine {
		t.Fatalf("long line: %d lines", len(long))
	}
}

// FuzzEventLines feeds arbitrary bytes through the reader's splitter and
// classifier: nothing may panic, and no line may be empty or hold a line end.
func FuzzEventLines(f *testing.F) {
	f.Add([]byte("\r\n+CEREG: 1,\"DE10\",\"5A29C0B\",7\r\n\r\nOK\r\n"), true)
	f.Add([]byte("RDY\r\n+CPIN: READY\r\n\x00\xff+:"), false)
	f.Fuzz(func(t *testing.T, b []byte, busy bool) {
		var s lineSplitter
		var inflight *cmdSpec
		if busy {
			inflight = &cmdSpec{cmd: "+CEREG?", prefix: []string{"+CEREG:"}, bare: true}
		}
		for _, l := range s.feed(b) {
			if l == "" || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("bad line %q", l)
			}
			if k, _, ok := classifyURC(l, inflight); ok {
				e := Event{Kind: k, Line: l}.withHint()
				_ = e
			}
			if inflight != nil {
				inflight.owns(l)
			}
		}
	})
}

func TestSlowConsumerDropsOldestNeverStalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := []string{}
		for i := 0; i < eventQueueCap+10; i++ {
			steps = append(steps, "! +CEREG: 2")
		}
		steps = append(steps, "> AT+CSQ", "< +CSQ: 20,99", "< OK")
		m, _ := newTestModem(t, steps)
		// Nobody reads events, yet commands still run.
		if _, err := m.exec(t.Context(), cmdSpec{cmd: "+CSQ", prefix: []string{"+CSQ:"}}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		first := <-m.Events()
		second := <-m.Events()
		if first.Dropped == 0 && second.Dropped == 0 {
			t.Fatalf("no drop reported: %+v %+v", first, second)
		}
		if second.Seq != first.Seq+1+uint64(second.Dropped) {
			t.Errorf("seq %d then %d with %d dropped", first.Seq, second.Seq, second.Dropped)
		}
	})
}
