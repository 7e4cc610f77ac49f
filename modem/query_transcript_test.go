package modem

import (
	"context"
	"errors"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newDialectModem starts a session on a transcript with the given dialect.
// The fake answers the engine's and the dialect's start-up commands by
// itself, so the transcript shows only the queries.
func newDialectModem(t *testing.T, file string, d Dialect) *Modem {
	t.Helper()
	return newDialectModemSteps(t, loadTranscript(t, filepath.Join("testdata", "transcripts", file)), d)
}

func newDialectModemSteps(t *testing.T, steps []string, d Dialect) *Modem {
	t.Helper()
	defaults := maps.Clone(startupDefaults)
	for _, c := range d.StartupCommands() {
		defaults["AT"+c] = []string{"OK"}
	}
	host, dev := net.Pipe()
	f := &fakeModem{t: t, conn: dev, steps: steps, defaults: defaults, done: make(chan struct{})}
	go f.run()
	t.Cleanup(func() {
		dev.Close()
		<-f.done
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := New(ctx, host, WithDialect(d))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// must checks a (value, error) pair: must(m.IMSI(ctx))(t).
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantF[T comparable](t *testing.T, what string, got *T, want T) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %v", what, want)
	} else if *got != want {
		t.Errorf("%s = %v, want %v", what, *got, want)
	}
}

func TestTranscriptQuectelEC25(t *testing.T) {
	m := newDialectModem(t, "quectel_ec25.txt", DialectQuectel)
	ctx := tctx(t)
	id := must(m.Identity(ctx))(t)
	if id != (Identity{Manufacturer: "Quectel", Model: "EC25", Revision: "EC25EFAR06A06M4G", IMEI: "866758041234567"}) {
		t.Errorf("identity %+v", id)
	}
	if d := DetectDialect(id.Manufacturer, id.Model); d != DialectQuectel {
		t.Errorf("detected %v", d)
	}
	if st := must(m.SIMState(ctx))(t); st != SIMReady {
		t.Errorf("SIM %v", st)
	}
	if v := must(m.IMSI(ctx))(t); v.Reveal() != "001010123456789" {
		t.Errorf("IMSI %s", v)
	}
	if v := must(m.ICCID(ctx))(t); v.Reveal() != "8901260886258128535" {
		t.Errorf("ICCID %s", v)
	}
	reg := must(m.Registration(ctx, DomainCS))(t)
	if reg.Domain != DomainCS || reg.Status != RegHome {
		t.Errorf("CREG %+v", reg)
	}
	wantF(t, "LAC", reg.Area, 0xA8)
	wantF(t, "CI", reg.CellID, 0x5355E8D)
	wantF(t, "AcT", reg.AcT, ActEUTRAN)
	// The +CEREG URC inside the reply went to the event stream.
	select {
	case e := <-m.Events():
		if !strings.HasPrefix(e.Line, "+CEREG: 1,") {
			t.Errorf("event %q", e.Line)
		}
		if r, err := ParseRegistrationURC(e.Line); err != nil || r.Domain != DomainEPS || r.Status != RegHome {
			t.Errorf("URC parse %+v %v", r, err)
		}
	case <-ctx.Done():
		t.Error("no +CEREG event")
	}
	sig := must(m.Signal(ctx))(t)
	wantF(t, "RSRP", sig.RSRP, -61) // CESQ 80
	wantF(t, "RSRQ", sig.RSRQ, -10) // CESQ 20
	wantF(t, "SINR", sig.SINR, 8.4) // QCSQ 142/5-20
	wantF(t, "RSSI", sig.RSSI, -57) // CSQ 28 (read on LTE too), over QCSQ's -66
	if sig.Tech != TechLTE || sig.Source != "+CESQ,+CSQ,+QCSQ" {
		t.Errorf("signal %+v", sig)
	}
	sc, nbs := must2(t)(m.ServingCell(ctx))
	if sc.Tech != TechLTE || sc.State != "NOCONN" || sc.PLMN.String() != "12301" || sc.Band != "B3" {
		t.Errorf("serving %+v", sc)
	}
	wantF(t, "cell", sc.CellID, 0x43300C)
	wantF(t, "TAC", sc.Area, 0x5443)
	wantF(t, "PCI", sc.PCI, 348)
	wantF(t, "SINR", sc.Signal.SINR, 5)
	if len(nbs) != 2 || nbs[1].Signal.RSRP != nil {
		t.Errorf("neighbours %+v", nbs)
	}
	op := must(m.Operator(ctx))(t)
	if op.PLMN.String() != "26803" || op.Name != "NOS" || op.AcT == nil || *op.AcT != ActEUTRAN {
		t.Errorf("operator %+v", op)
	}
}

// must2 adapts a three-result call for must.
func must2(t *testing.T) func(ServingCell, []Neighbour, error) (ServingCell, []Neighbour) {
	return func(sc ServingCell, n []Neighbour, err error) (ServingCell, []Neighbour) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return sc, n
	}
}

func TestTranscriptQuectelBG96(t *testing.T) {
	m := newDialectModem(t, "quectel_bg96.txt", DialectQuectel)
	ctx := tctx(t)
	nets := must(m.ScanNetworks(ctx))(t)
	if len(nets) != 2 || nets[0].Stat != 2 || nets[1].Stat != 3 || nets[1].PLMN.String() != "23201" {
		t.Errorf("scan %+v", nets)
	}
	sig := must(m.Signal(ctx))(t)
	wantF(t, "RSSI", sig.RSSI, -51) // CSQ 31 wins over QCSQ's -33
	wantF(t, "RSRP", sig.RSRP, -53)
	wantF(t, "SINR", sig.SINR, 30)
	if sig.Tech != TechLTEM {
		t.Errorf("tech %v", sig.Tech)
	}
	if mode := must(m.RATLock(ctx))(t); mode != RATAuto {
		t.Errorf("RAT %v", mode)
	}
	if err := m.SetRATLock(ctx, RATLTEOnly); err != nil {
		t.Fatal(err)
	}
	if err := m.SetRATLock(ctx, "lte-plz"); !errors.Is(err, ErrIncorrectParameters) {
		t.Errorf("bad mode: %v", err)
	}
}

func TestTranscriptQuectel5G(t *testing.T) {
	m := newDialectModem(t, "quectel_rm520_5g.txt", DialectQuectel)
	ctx := tctx(t)
	sc, _ := must2(t)(m.ServingCell(ctx))
	if sc.Tech != TechNR5GNSA || sc.PLMN.String() != "51503" || sc.State != "NOCONN" {
		t.Errorf("EN-DC %+v", sc)
	}
	wantF(t, "TAC", sc.Area, 0x4AA3)
	wantF(t, "RSRP", sc.Signal.RSRP, -89)
	wantF(t, "SINR", sc.Signal.SINR, 16)
	sc, nbs := must2(t)(m.ServingCell(ctx))
	if sc.Tech != TechNR5G || sc.PLMN.String() != "310260" || sc.Band != "n71" || len(nbs) != 0 {
		t.Errorf("SA %+v", sc)
	}
	wantF(t, "cell", sc.CellID, 0x939204254)
	wantF(t, "SINR", sc.Signal.SINR, 11)
	reg := must(m.Registration(ctx, Domain5GS))(t)
	if reg.Status != RegHome {
		t.Errorf("5GS %+v", reg)
	}
	wantF(t, "TAC", reg.Area, 0x60AA00)
	wantF(t, "cell", reg.CellID, 0x939204254)
	wantF(t, "AcT", reg.AcT, ActNR5GCN)
}

func TestTranscriptSIMCom(t *testing.T) {
	m := newDialectModem(t, "simcom_sim7600.txt", DialectSIMCom)
	ctx := tctx(t)
	id := must(m.Identity(ctx))(t)
	if id.Manufacturer != "SIMCOM INCORPORATED" || id.Revision != "2374B05SIM767XM5A_M" || DetectDialect(id.Manufacturer, id.Model) != DialectSIMCom {
		t.Errorf("identity %+v", id)
	}
	if v := must(m.ICCID(ctx))(t); v.Reveal() != "898600700907A6019125" {
		t.Errorf("ICCID %s", v)
	}
	sc, _ := must2(t)(m.ServingCell(ctx)) // ERROR first, then the answer
	wantF(t, "RSRP", sc.Signal.RSRP, -88.9)
	wantF(t, "RSRQ", sc.Signal.RSRQ, -10.8)
	wantF(t, "cell", sc.CellID, 22060)
	sig := must(m.Signal(ctx))(t)
	wantF(t, "RSSI", sig.RSSI, -71) // CSQ 21
	wantF(t, "RSRP", sig.RSRP, -108.9)
	wantF(t, "SINR", sig.SINR, 8)
	wantF(t, "BER", sig.BER, 0)
	sc, _ = must2(t)(m.ServingCell(ctx))
	if sc.Tech != TechUnknown || sc.State != "Online" || sc.Signal.RSRP != nil {
		t.Errorf("no service %+v", sc)
	}
	if mode := must(m.RATLock(ctx))(t); mode != RATAuto {
		t.Errorf("RAT %v", mode)
	}
	if err := m.SetRATLock(ctx, RATNo2G); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SIMSlot(ctx); !errors.Is(err, ErrNotSupported) {
		t.Errorf("SIMSlot on SIMCom: %v", err)
	}
}

func TestTranscriptUBlox(t *testing.T) {
	m := newDialectModem(t, "ublox_sara_r5.txt", DialectUBlox)
	ctx := tctx(t)
	id := must(m.Identity(ctx))(t)
	if id != (Identity{Manufacturer: "u-blox", Model: "SARA-R500S", Revision: "02.06"}) {
		t.Errorf("identity %+v", id)
	}
	if _, err := m.SIMState(ctx); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("CPIN during boot: %v", err)
	}
	sc, _ := must2(t)(m.ServingCell(ctx))
	if sc.Tech != TechLTEM || sc.PLMN.String() != "00101" || sc.State != "4" || sc.Band != "B5" {
		t.Errorf("UCGED %+v", sc)
	}
	wantF(t, "TAC", sc.Area, 0xE8FE)
	wantF(t, "cell", sc.CellID, 0x1A2D001)
	wantF(t, "RSRP", sc.Signal.RSRP, -113)
	wantF(t, "RSRQ", sc.Signal.RSRQ, -4.5)
	wantF(t, "SINR", sc.Signal.SINR, 13.75)
	nets := must(m.ScanNetworks(ctx))(t)
	if len(nets) != 1 || nets[0].Stat != 0 || nets[0].AcT == nil || *nets[0].AcT != ActEUTRAN {
		t.Errorf("scan %+v", nets)
	}
	reg := must(m.Registration(ctx, DomainEPS))(t)
	if reg.Status != RegRoaming || reg.Area != nil || reg.CellID != nil || reg.AcT != nil {
		t.Errorf("CEREG n=4 %+v", reg)
	}
	if err := m.AutoSelectOperator(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 7 {
		select {
		case e := <-m.Events():
			if IsRegistrationLine(e.Line) {
				r, err := ParseRegistrationURC(e.Line)
				if err != nil || IsRegistrationRead(e.Line) {
					t.Errorf("URC %q: %+v %v", e.Line, r, err)
				}
			}
			got = append(got, e.Line)
		case <-ctx.Done():
			t.Fatalf("events so far %q", got)
		}
	}
	if got[2] != "+CEREG: 2" || got[6] != "+CEREG: 1" {
		t.Errorf("events %q", got)
	}
}

func TestTranscriptTelit(t *testing.T) {
	m := newDialectModem(t, "telit_le910.txt", DialectTelit)
	ctx := tctx(t)
	sc, _ := must2(t)(m.ServingCell(ctx))
	if sc.Tech != TechLTE || sc.PLMN.String() != "310260" || sc.Band != "B66" {
		t.Errorf("RFSTS %+v", sc)
	}
	wantF(t, "cell", sc.CellID, 0x3089F02)
	wantF(t, "TAC", sc.Area, 0x2D18)
	sc, _ = must2(t)(m.ServingCell(ctx)) // RFSTS ERROR -> SERVINFO
	if sc.Tech != TechLTE || sc.PLMN.String() != "23203" {
		t.Errorf("SERVINFO %+v", sc)
	}
	wantF(t, "PCI", sc.PCI, 0xAF)
	wantF(t, "RSRP", sc.Signal.RSRP, -60)
	sig := must(m.Signal(ctx))(t)
	wantF(t, "RSRP", sig.RSRP, -60)
	wantF(t, "RSRQ", sig.RSRQ, -3)
	wantF(t, "RSSI", sig.RSSI, -51) // CSQ 31: CESQ's rxlev is 99 on LTE
	wantF(t, "BER", sig.BER, 2)
	if sig.Source != "+CESQ,+CSQ" {
		t.Errorf("signal %+v", sig)
	}
	ctxs := must(m.PDPContexts(ctx))(t)
	if len(ctxs) != 2 || ctxs[0].APN != "catm" || ctxs[1].Type != "IPV4V6" {
		t.Errorf("contexts %+v", ctxs)
	}
	if mode := must(m.RATLock(ctx))(t); mode != RATLTEOnly {
		t.Errorf("RAT %v", mode)
	}
}

func TestTranscriptSierra(t *testing.T) {
	m := newDialectModem(t, "sierra_em7455.txt", DialectSierra)
	ctx := tctx(t)
	sc, _ := must2(t)(m.ServingCell(ctx))
	if sc.Tech != TechLTE || sc.State != "ONLINE" || sc.Band != "B3" {
		t.Errorf("GSTATUS %+v", sc)
	}
	wantF(t, "EARFCN", sc.EARFCN, 1749)
	wantF(t, "RSRP", sc.Signal.RSRP, -109)
	wantF(t, "RSRQ", sc.Signal.RSRQ, -17.4)
	wantF(t, "SINR", sc.Signal.SINR, -2.6)
	wantF(t, "RSSI", sc.Signal.RSSI, -74)
	wantF(t, "TAC", sc.Area, 0xD5AC)
	wantF(t, "cell", sc.CellID, 0x023E3E34)
	regs := must(m.Registrations(ctx))(t)
	if len(regs) != 3 || regs[0].Domain != DomainCS || regs[1].Status != RegNotRegistered || regs[2].Domain != DomainEPS {
		t.Errorf("registrations %+v", regs)
	}
	wantF(t, "AcT", regs[2].AcT, ActEUTRANRDC)
}

func TestTranscriptHuawei(t *testing.T) {
	m := newDialectModem(t, "huawei_me909.txt", DialectHuawei)
	ctx := tctx(t)
	id := must(m.Identity(ctx))(t)
	if id != (Identity{Manufacturer: "Huawei Technologies Co., Ltd.", Model: "ME909s-120", Revision: "11.617.15.00.00", IMEI: "864172044791624"}) {
		t.Errorf("identity %+v", id)
	}
	if v := must(m.ICCID(ctx))(t); v.Reveal() != "89860315202032147012" {
		t.Errorf("ICCID %s", v)
	}
	sig := must(m.Signal(ctx))(t)
	wantF(t, "RSSI", sig.RSSI, -77) // CSQ 18
	wantF(t, "RSRP", sig.RSRP, -122)
	wantF(t, "SINR", sig.SINR, -7)
	wantF(t, "RSRQ", sig.RSRQ, -20)
	sc, _ := must2(t)(m.ServingCell(ctx))
	if sc.Tech != TechLTE || sc.PLMN.String() != "46000" {
		t.Errorf("MONSC %+v", sc)
	}
	wantF(t, "PCI", sc.PCI, 0x142)
	wantF(t, "TAC", sc.Area, 0x57B2)
	reg := must(m.Registration(ctx, DomainCS))(t)
	wantF(t, "LAC", reg.Area, 0x8BE3)
	if _, err := m.DataCounters(tctx(t)); err == nil {
		t.Error("DataCounters answered past the end of the transcript")
	}
}

// The replies that fill the probe's last gaps (issue 13), read by the real
// engine: a Huawei +COPS? pair, a SIMCom +CIMI, a Telit +CEREG?.
func TestTranscriptProbeGapReplies(t *testing.T) {
	t.Run("huawei operator", func(t *testing.T) {
		m := newDialectModem(t, "huawei_e169_operator.txt", DialectHuawei)
		op := must(m.Operator(tctx(t)))(t)
		if op.Mode != 0 || op.PLMN.String() != "26003" || op.Name != "Orange" {
			t.Errorf("operator %+v", op)
		}
		wantF(t, "AcT", op.AcT, ActUTRAN)
	})
	t.Run("simcom imsi", func(t *testing.T) {
		m := newDialectModem(t, "simcom_sim7600_imsi.txt", DialectSIMCom)
		if v := must(m.IMSI(tctx(t)))(t); v.Reveal() != "460010222028133" {
			t.Errorf("IMSI %s", v)
		}
	})
	t.Run("telit eps registration", func(t *testing.T) {
		m := newDialectModem(t, "telit_me910c1_registration.txt", DialectTelit)
		reg := must(m.Registration(tctx(t), DomainEPS))(t)
		if reg.Status != RegRoaming {
			t.Errorf("registration %+v", reg)
		}
		wantF(t, "TAC", reg.Area, 0x3AD6)
		wantF(t, "cell", reg.CellID, 0x490A66)
		wantF(t, "AcT", reg.AcT, ActNBIoT)
	})
}

// Every transcript names its public source.
func TestTranscriptsCiteSources(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txt"))
	if len(files) < 8 {
		t.Fatalf("only %d transcripts", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "# source: ") {
			t.Errorf("%s has no '# source:' line", f)
		}
	}
}
