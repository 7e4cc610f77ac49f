package modem

import (
	"bufio"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
)

// count returns how often cmd was received.
func count(cmds []string, cmd string) int {
	n := 0
	for _, c := range cmds {
		if c == cmd {
			n++
		}
	}
	return n
}

// A second OK after a complete reply, read while no command is on the
// wire, is nobody's: dropped, and the pairing is proven with a probe
// before the next command, which gets its own reply.
func TestExecStrayOKWhileIdleIsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, f := newTestModem(t, parseTranscript(`
			> AT+CGMI
			< Quectel
			< OK
			< OK
			> AT+CGMM
			< EG25
			< OK
		`))
		spec := func(cmd string) cmdSpec { return cmdSpec{cmd: cmd, bare: true} }
		got, err := m.exec(t.Context(), spec("+CGMI"))
		if err != nil || !slices.Equal(got, []string{"Quectel"}) {
			t.Fatalf("CGMI = %q, %v", got, err)
		}
		synctest.Wait() // the duplicate OK is read while idle
		before := count(f.commands(), "AT+CMEE?")
		got, err = m.exec(t.Context(), spec("+CGMM"))
		if err != nil || !slices.Equal(got, []string{"EG25"}) {
			t.Fatalf("CGMM = %q, %v (stray OK taken as its answer?)", got, err)
		}
		if n := count(f.commands(), "AT+CMEE?"); n != before+1 {
			t.Errorf("resync probes before CGMM = %d, want 1", n-before)
		}
	})
}

// A stray OK that crosses the next command on the wire completes it with
// an empty reply. A read with a known shape sees that, resynchronises and
// asks again; the late real reply never lands on a later command.
func TestExecWrongShapeResyncsAndRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, f := newTestModem(t, parseTranscript(`
			> AT+CGMM
			< OK
			< EG25
			< OK
			> AT+CGMM
			< EG25
			< OK
			> AT+CGMR
			< EG25GGBR07A08M2G
			< OK
		`))
		spec := func(cmd string) cmdSpec {
			return cmdSpec{cmd: cmd, bare: true, need: true, check: oneValue(ParseCGMM)}
		}
		got, err := m.exec(t.Context(), spec("+CGMM"))
		if err != nil || !slices.Equal(got, []string{"EG25"}) {
			t.Fatalf("CGMM = %q, %v", got, err)
		}
		got, err = m.exec(t.Context(), spec("+CGMR"))
		if err != nil || !slices.Equal(got, []string{"EG25GGBR07A08M2G"}) {
			t.Fatalf("CGMR = %q, %v (shifted reply?)", got, err)
		}
		if n := count(f.commands(), "AT+CGMM"); n != 2 {
			t.Errorf("AT+CGMM sent %d times, want 2", n)
		}
	})
}

// An IMEI read answered with something that is not an IMEI (the reply of
// the command before it) is asked again, not returned.
func TestExecIMEIShapeChecked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestModem(t, parseTranscript(`
			> AT+CGSN
			< EG25GGBR07A08M2G
			< OK
			> AT+CGSN
			< 866834040000017
			< OK
		`))
		got, err := m.exec(t.Context(), cmdSpec{cmd: "+CGSN", prefix: []string{"+CGSN:"}, bare: true, need: true, check: oneValue(ParseIMEI)})
		if err != nil || !slices.Equal(got, []string{"866834040000017"}) {
			t.Fatalf("CGSN = %q, %v", got, err)
		}
	})
}

// Line noise before a reply forms lines of its own. Bare-line commands
// never own a line with control bytes; a printable scrap makes two lines
// where one is due, and the read is asked again.
func TestIdentitySkipsGarbageLines(t *testing.T) {
	m := newDialectModemSteps(t, []string{
		"> AT+CGMI",
		"< \x0f\xc7\xbb\x81\x869\xacH\xa4",
		"< Quectel",
		"< OK",
		"> AT+CGMM",
		"< ~7",
		"< EG25",
		"< OK",
		"> AT+CGMM",
		"< EG25",
		"< OK",
		"> AT+CGMR",
		"< EG25GGBR07A08M2G",
		"< OK",
		"> AT+CGSN",
		"< \x01\x02\xff",
		"< 866834040000017",
		"< OK",
	}, DialectQuectel)
	id, err := m.Identity(tctx(t))
	want := Identity{Manufacturer: "Quectel", Model: "EG25", Revision: "EG25GGBR07A08M2G", IMEI: "866834040000017"}
	if err != nil || id != want {
		t.Fatalf("Identity = %+v, %v; want %+v", id, err, want)
	}
}

// +CGMI lost: the engine resynchronises and Identity asks again instead of
// falling back to ATI, whose one Telit line is the model.
func TestIdentityRetriesLostCGMI(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newDialectModemSteps(t, parseTranscript(`
			> AT+CGMI
			> AT+CGMI
			< Telit
			< OK
			> AT+CGMM
			< LE910C4-EU
			< OK
			> AT+CGMR
			< 25.21.660
			< OK
			> AT+CGSN
			< 356170090000017
			< OK
		`), DialectTelit)
		id, err := m.Identity(t.Context())
		want := Identity{Manufacturer: "Telit", Model: "LE910C4-EU", Revision: "25.21.660", IMEI: "356170090000017"}
		if err != nil || id != want {
			t.Fatalf("Identity = %+v, %v; want %+v", id, err, want)
		}
	})
}

// When +CGMI is not supported at all, ATI fills in; Telit's one-line ATI
// is the model and leaves the manufacturer empty.
func TestIdentityATIOneLineIsModel(t *testing.T) {
	m := newDialectModemSteps(t, parseTranscript(`
		> AT+CGMI
		< ERROR
		> AT+CGMM
		< ERROR
		> AT+CGMR
		< 25.21.660
		< OK
		> AT+CGSN
		< 356170090000017
		< OK
		> ATI
		< LE910C4-EU
		< OK
	`), DialectGeneric)
	id, err := m.Identity(tctx(t))
	want := Identity{Model: "LE910C4-EU", Revision: "25.21.660", IMEI: "356170090000017"}
	if err != nil || id != want {
		t.Fatalf("Identity = %+v, %v; want %+v", id, err, want)
	}
}

// A +CPIN URC that crosses AT+CPIN? on the wire arrives as a second
// +CPIN: line in the reply. The command gets its line; the URC is not
// lost from Events().
func TestExecURCCrossingSamePrefixRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestModem(t, parseTranscript(`
			> AT+CPIN?
			! +CPIN: READY
			< +CPIN: READY
			< OK
		`))
		st, err := m.SIMState(t.Context())
		if err != nil || st != SIMReady {
			t.Fatalf("SIMState = %v, %v", st, err)
		}
		es := collect(t, m, 1)
		if es[0].Kind != EventSIM || es[0].SIM == nil || *es[0].SIM != SIMReady {
			t.Errorf("event = %+v, want +CPIN: READY", es[0])
		}
	})
}

// A same-prefix line read before the command is on the wire cannot be
// its answer: it is an event, and the command still gets its own reply.
func TestRouteBeforeWriteIsURC(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestModem(t, nil)
		spec := &cmdSpec{cmd: "+CPIN?", prefix: []string{"+CPIN:"}, one: true}
		m.inflight.Store(spec) // as exec does, before at writes the line
		m.route("+CPIN: NOT READY")
		m.route("OK")
		m.inflight.Store(nil)
		es := collect(t, m, 1)
		if es[0].Line != "+CPIN: NOT READY" {
			t.Errorf("event = %q", es[0].Line)
		}
		if !m.suspect.Load() {
			t.Errorf("an OK before the command was written did not mark the pairing suspect")
		}
	})
}

func TestPrintable(t *testing.T) {
	for s, want := range map[string]bool{
		"Quectel": true, "M0.09.00 [Jan 31 2019 18:59:31]": true, "a\tb": true, "Ünï": true,
		"\x0fQuectel": false, "\xc7\xbb\x81": false, "abc\x7f": false, "": true,
	} {
		if got := printable(s); got != want {
			t.Errorf("printable(%q) = %v", s, got)
		}
	}
}

// With echo back on (after a restart), a same-prefix line read before the
// command's echo cannot be its answer: it is an event, and the reply is
// what follows the echo.
func TestExecURCBeforeEcho(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestModem(t, parseTranscript(`
			> AT+CPIN?
			! +CPIN: NOT READY
			< AT+CPIN?
			< +CPIN: READY
			< OK
		`))
		st, err := m.SIMState(t.Context())
		if err != nil || st != SIMReady {
			t.Fatalf("SIMState = %v, %v (the URC before the echo taken as the answer?)", st, err)
		}
		es := collect(t, m, 1)
		if es[0].SIM == nil || *es[0].SIM != SIMNotReady {
			t.Errorf("event = %q, want +CPIN: NOT READY", es[0].Line)
		}
	})
}

// FuzzExecReply: whatever bytes a modem sends in reply (noise, stray or
// missing result codes, URCs, echoes), a command ends within its budget,
// a bare-line read never returns a line that is not text, and the session
// closes cleanly.
func FuzzExecReply(f *testing.F) {
	f.Add([]byte("\x0f\xc7\xbb\x81\r\nQuectel\r\n\r\nOK\r\n"))
	f.Add([]byte("\r\nQuectel\r\n\r\nOK\r\n\r\nOK\r\n"))
	f.Add([]byte("\r\n+CPIN: READY\r\nAT+CGMI\r\r\nQuectel\r\nOK\r\n"))
	f.Add([]byte("\r\nERROR\r\n\r\nOK\r\n"))
	f.Fuzz(func(t *testing.T, reply []byte) {
		synctest.Test(t, func(t *testing.T) {
			host, dev := net.Pipe()
			go func() {
				// Answer the start-up probes, then send reply to +CGMI.
				sc := bufio.NewScanner(dev)
				sc.Split(scanCR)
				for sc.Scan() {
					l := strings.TrimSpace(sc.Text())
					switch {
					case l == "":
					case l == "AT+CGMI":
						dev.Write(reply)
					case l == "AT+CMEE?":
						io.WriteString(dev, "\r\n+CMEE: 1\r\n\r\nOK\r\n")
					default:
						io.WriteString(dev, "\r\nOK\r\n")
					}
				}
			}()
			m, err := New(t.Context(), host, WithDialect(DialectGeneric))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			defer dev.Close()
			got, _ := m.exec(t.Context(), cmdSpec{cmd: "+CGMI", bare: true, need: true, check: oneValue(ParseCGMI)})
			for _, l := range got {
				if !printable(l) {
					t.Fatalf("bare read returned %q", l)
				}
			}
		})
	})
}

// A stray OK that crosses AT+CGPADDR=1 must not read as "no address": the
// reply always has a +CGPADDR line, so the read is asked again.
func TestPDPAddressStrayOKAsksAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, f := newTestModem(t, parseTranscript(`
			> AT+CGPADDR=1
			< OK
			< +CGPADDR: 1,"10.64.0.3"
			< OK
			> AT+CGPADDR=1
			< +CGPADDR: 1,"10.64.0.3"
			< OK
		`))
		a, err := m.PDPAddress(t.Context(), 1)
		if err != nil || len(a.Addrs) != 1 || a.Addrs[0].String() != "10.64.0.3" {
			t.Fatalf("PDPAddress = %+v, %v", a, err)
		}
		if n := count(f.commands(), "AT+CGPADDR=1"); n != 2 {
			t.Errorf("AT+CGPADDR=1 sent %d times, want 2", n)
		}
	})
}

// An LTE-only modem answers +C5GREG? with ERROR: asked once per session,
// not at every poll.
func TestC5GREGAskedOnceWhenUnknown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		poll := `
			> AT+CREG?
			< +CREG: 2,1,"DE10","5A29C0B",7
			< OK
			> AT+CGREG?
			< +CGREG: 2,1,"DE10","5A29C0B",7
			< OK
			> AT+CEREG?
			< +CEREG: 2,1,"DE10","5A29C0B",7
			< OK
		`
		m, f := newTestModem(t, parseTranscript(poll+`
			> AT+C5GREG?
			< ERROR
		`+poll))
		for range 2 {
			regs, err := m.Registrations(t.Context())
			if err != nil || len(regs) != 3 {
				t.Fatalf("Registrations = %+v, %v", regs, err)
			}
		}
		if n := count(f.commands(), "AT+C5GREG?"); n != 1 {
			t.Errorf("AT+C5GREG? sent %d times, want 1", n)
		}
	})
}
