package conformance

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/simulator"
)

// raw is a bare AT client on the simulator, for reading each signal scale
// the driver's aggregate queries would not ask for (Signal stops at CESQ
// when it has values, so CSQ's clamps are never on the wire there).
type raw struct {
	t    *testing.T
	conn net.Conn
	buf  bytes.Buffer
}

func newRaw(t *testing.T, sc *simulator.Scenario) (*raw, *simulator.Modem) {
	t.Helper()
	sm, err := simulator.New(sc, simulator.WithClock(simulator.NewRealClock(1)))
	if err != nil {
		t.Fatal(err)
	}
	client, server := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		_ = sm.Serve(ctx, server)
		server.Close()
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		client.Close()
		<-done
		sm.Close()
	})
	r := &raw{t: t, conn: client}
	r.cmd("ATE0")
	return r, sm
}

// cmd sends one line and returns the information lines before OK.
func (r *raw) cmd(line string) []string {
	r.t.Helper()
	if _, err := r.conn.Write([]byte(line + "\r")); err != nil {
		r.t.Fatalf("write %q: %v", line, err)
	}
	b := make([]byte, 256)
	for {
		s := r.buf.String()
		if strings.HasSuffix(s, "\r\nOK\r\n") || strings.HasSuffix(s, "ERROR\r\n") {
			break
		}
		n, err := r.conn.Read(b)
		if err != nil {
			r.t.Fatalf("read after %q (have %q): %v", line, r.buf.String(), err)
		}
		r.buf.Write(b[:n])
	}
	var out []string
	for _, l := range strings.Split(r.buf.String(), "\r\n") {
		if l != "" && l != "OK" && l != line {
			out = append(out, l)
		}
	}
	r.buf.Reset()
	return out
}

func first(t *testing.T, lines []string, prefix string) string {
	t.Helper()
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("no %s line in %q", prefix, lines)
	return ""
}

// TestSignalScales: parse(format(x)) == x for every scale a dialect
// reports, the simulator formatting and the driver's exported parser
// reading, compared in dBm/dB within each scale's documented step.
func TestSignalScales(t *testing.T) {
	for _, d := range simDialects {
		for _, c := range cells {
			if c.denied {
				continue
			}
			t.Run(d.name+"/"+c.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) { checkScales(t, d.name, c) })
			})
		}
	}
}

func checkScales(t *testing.T, dname string, c cell) {
	r, sm := newRaw(t, world(t, dname, c, ""))
	time.Sleep(time.Second)
	x := sm.Snapshot().Signal

	// CSQ: 0 = -113 dBm or less, 31 = -51 or more, 2 dB steps, 99 unknown.
	csq, err := modem.ParseCSQ(first(t, r.cmd("AT+CSQ"), "+CSQ:"))
	if err != nil {
		t.Fatalf("ParseCSQ: %v", err)
	}
	if c.down {
		isNil(t, "CSQ RSSI", csq.RSSI)
	} else {
		near(t, "CSQ RSSI", csq.RSSI, clampf(x.RSSI, -113, -51), 1)
	}
	isNil(t, "CSQ BER", csq.BER)

	// CESQ: per RAT, 99/255 for what does not apply.
	cesq, err := modem.ParseCESQ(first(t, r.cmd("AT+CESQ"), "+CESQ:"))
	if err != nil {
		t.Fatalf("ParseCESQ: %v", err)
	}
	switch {
	case c.down:
		isNil(t, "CESQ RSSI", cesq.RSSI)
		isNil(t, "CESQ RSRP", cesq.RSRP)
		isNil(t, "CESQ RSCP", cesq.RSCP)
	case c.rat == "LTE":
		near(t, "CESQ RSRP", cesq.RSRP, clampf(x.RSRP, -141, -44), 0.5)
		near(t, "CESQ RSRQ", cesq.RSRQ, clampf(x.RSRQ, -20, -3), 0.25)
		isNil(t, "CESQ RSSI", cesq.RSSI)
		isNil(t, "CESQ RSCP", cesq.RSCP)
	case c.rat == "WCDMA":
		near(t, "CESQ RSCP", cesq.RSCP, clampf(x.RSRP, -121, -25), 0.5)
		near(t, "CESQ EcIo", cesq.EcIo, clampf(x.RSRQ, -24.5, 0), 0.25)
		isNil(t, "CESQ RSRP", cesq.RSRP)
	case c.rat == "GSM":
		near(t, "CESQ RSSI", cesq.RSSI, clampf(x.RSSI, -111, -48), 0.5)
		isNil(t, "CESQ RSRP", cesq.RSRP)
	}

	switch dname {
	case "quectel-eg25", "quectel-ec25":
		q, err := modem.ParseQCSQ(first(t, r.cmd("AT+QCSQ"), "+QCSQ:"))
		if err != nil {
			t.Fatalf("ParseQCSQ: %v", err)
		}
		switch {
		case c.down:
			isNil(t, "QCSQ RSRP", q.RSRP)
		case c.rat == "LTE":
			near(t, "QCSQ RSSI", q.RSSI, x.RSSI, 0.5)
			near(t, "QCSQ RSRP", q.RSRP, x.RSRP, 0.5)
			near(t, "QCSQ RSRQ", q.RSRQ, x.RSRQ, 0.5)
			near(t, "QCSQ SINR", q.SINR, clampf(x.SINR, -20, 30), 0.1)
		case c.rat == "WCDMA":
			near(t, "QCSQ RSCP", q.RSCP, x.RSRP, 0.5)
			near(t, "QCSQ EcIo", q.EcIo, x.RSRQ, 0.5)
		case c.rat == "GSM":
			near(t, "QCSQ RSSI", q.RSSI, x.RSSI, 0.5)
		}
		lines := r.cmd(`AT+QENG="servingcell"`)
		sc, _, err := modem.ParseQENG(lines, modem.SINRdB)
		if err != nil {
			t.Fatalf("ParseQENG %q: %v", lines, err)
		}
		if !c.down {
			checkCellSignal(t, "QENG", c.rat, sc.Signal, x, 0.5)
		}
	case "simcom-sim7600":
		sc, err := modem.ParseCPSI(first(t, r.cmd("AT+CPSI?"), "+CPSI:"))
		if err != nil {
			t.Fatalf("ParseCPSI: %v", err)
		}
		if !c.down {
			tol := 0.5
			if c.rat == "LTE" {
				tol = 0.05 // tenths of a dB on LTE only
			}
			checkCellSignal(t, "CPSI", c.rat, sc.Signal, x, tol)
		}
	case "telit-le910":
		sc, _, err := modem.ParseRFSTS(r.cmd("AT#RFSTS"))
		if err != nil {
			t.Fatalf("ParseRFSTS: %v", err)
		}
		if c.rat == "LTE" && !c.down { // others: TestBugTelitRFSTSNonLTE
			checkCellSignal(t, "RFSTS", c.rat, sc.Signal, x, 0.5)
		}
	}
}

func checkCellSignal(t *testing.T, src, rat string, s modem.Signal, x simulator.Radio, tol float64) {
	t.Helper()
	switch rat {
	case "LTE":
		near(t, src+" RSRP", s.RSRP, x.RSRP, tol)
		near(t, src+" RSRQ", s.RSRQ, x.RSRQ, tol)
		if s.RSSI != nil || src != "RFSTS" {
			near(t, src+" RSSI", s.RSSI, x.RSSI, tol)
		}
		if src != "RFSTS" {
			near(t, src+" SINR", s.SINR, x.SINR, 0.5)
		}
	case "WCDMA":
		near(t, src+" RSCP", s.RSCP, x.RSRP, tol)
		near(t, src+" EcIo", s.EcIo, x.RSRQ, tol)
	case "GSM":
		near(t, src+" RSSI", s.RSSI, x.RSSI, tol)
	}
}
