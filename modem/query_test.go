package modem

import (
	"errors"
	"net/netip"
	"testing"
)

// The write commands: exact wire form, and refusal of input that could
// smuggle a second command onto the line.
func TestQueryWrites(t *testing.T) {
	m := newDialectModemSteps(t, parseTranscript(`
> AT+COPS=1,2,"26201",7
< OK
> AT+COPS=1,2,"310260"
< +CME ERROR: 30
> AT+CGDCONT=1,"IPV4V6","internet.telekom"
< OK
> AT+CGACT=1,1
< OK
> AT+CGACT?
< +CGACT: 1,1
< +CGACT: 2,0
< OK
> AT+CGPADDR=1
< +CGPADDR: 1,"10.36.130.14","32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.1"
< OK
> AT+CFUN?
< +CFUN: 1
< OK
> AT+CFUN=4
< OK
> AT+QUIMSLOT?
< +QUSIMSLOT: 1
< OK
> AT+QUIMSLOT=2
< OK
> AT+QGDCNT?
< +QGDCNT: 3000,1000
< OK
> AT+CEER
< +CEER: "No cause information available"
< OK
> AT+CFUN=1,1
< OK
~ close
`), DialectQuectel)
	ctx := tctx(t)
	a := AcT(ActEUTRAN)
	if err := m.SelectOperator(ctx, PLMN{"262", "01"}, &a); err != nil {
		t.Fatal(err)
	}
	if err := m.SelectOperator(ctx, PLMN{"310", "260"}, nil); !errors.Is(err, ErrNoNetwork) {
		t.Errorf("CME 30: %v", err)
	}
	for _, bad := range []PLMN{{"31", "260"}, {"310", "2"}, {`3"0`, "260"}} {
		if err := m.SelectOperator(ctx, bad, nil); !errors.Is(err, ErrIncorrectParameters) {
			t.Errorf("PLMN %+v: %v", bad, err)
		}
	}
	for _, bad := range []PDPContext{{CID: 1, Type: "IP", APN: `a";+CFUN=0;"`}, {CID: 0, Type: "IP"}, {CID: 1, Type: "X25"}, {CID: 1, Type: "IP", APN: "a\r\nATZ"}} {
		if err := m.DefinePDP(ctx, bad); !errors.Is(err, ErrIncorrectParameters) {
			t.Errorf("DefinePDP(%+v): %v", bad, err)
		}
	}
	if err := m.DefinePDP(ctx, PDPContext{CID: 1, Type: "ipv4v6", APN: "internet.telekom"}); err != nil {
		t.Fatal(err)
	}
	if err := m.SetPDPActive(ctx, 1, true); err != nil {
		t.Fatal(err)
	}
	if act := must(m.PDPActive(ctx))(t); !act[1] || act[2] {
		t.Errorf("active %v", act)
	}
	addr := must(m.PDPAddress(ctx, 1))(t)
	if len(addr.Addrs) != 2 || addr.Addrs[0] != netip.MustParseAddr("10.36.130.14") || addr.Addrs[1] != netip.MustParseAddr("2001:db8::1") {
		t.Errorf("addr %+v", addr)
	}
	if fun := must(m.Functionality(ctx))(t); fun != 1 {
		t.Errorf("fun %d", fun)
	}
	if err := m.SetFunctionality(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if err := m.SetFunctionality(ctx, 300); !errors.Is(err, ErrIncorrectParameters) {
		t.Errorf("fun 300: %v", err)
	}
	if slot := must(m.SIMSlot(ctx))(t); slot != 1 {
		t.Errorf("slot %d", slot)
	}
	if err := m.SetSIMSlot(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := m.SetSIMSlot(ctx, 3); !errors.Is(err, ErrIncorrectParameters) {
		t.Errorf("slot 3: %v", err)
	}
	if c := must(m.DataCounters(ctx))(t); c != (DataCounters{Sent: 3000, Received: 1000}) {
		t.Errorf("counters %+v", c)
	}
	if s := must(m.ExtendedError(ctx))(t); s != "No cause information available" {
		t.Errorf("CEER %q", s)
	}
	if err := m.Reset(ctx); err != nil {
		t.Errorf("reset: %v", err)
	}
}

func TestQueryGenericNotSupported(t *testing.T) {
	m := newDialectModemSteps(t, nil, DialectGeneric)
	ctx := tctx(t)
	if _, _, err := m.ServingCell(ctx); !errors.Is(err, ErrNotSupported) {
		t.Errorf("ServingCell: %v", err)
	}
	if _, err := m.DataCounters(ctx); !errors.Is(err, ErrNotSupported) {
		t.Errorf("DataCounters: %v", err)
	}
	if err := m.SetSIMSlot(ctx, 1); !errors.Is(err, ErrNotSupported) {
		t.Errorf("SetSIMSlot: %v", err)
	}
}

// A reply the parser cannot read is an error naming the command, never a
// zero value presented as data. +CIMI has a known shape, so the engine
// first resynchronises (AT+CMEE?, from the defaults) and asks once more.
func TestQueryGarbageIsAnError(t *testing.T) {
	m := newDialectModemSteps(t, parseTranscript(`
> AT+CIMI
< +CIMI: 12AB
< OK
> AT+CIMI
< +CIMI: 12AB
< OK
> AT+CPIN?
< +CPIN: WHATEVER
< OK
> AT+CFUN?
< +CFUN: x
< OK
`), DialectGeneric)
	ctx := tctx(t)
	var op *OpError
	if _, err := m.IMSI(ctx); !errors.Is(err, ErrParse) || !errors.As(err, &op) || op.Cmd != "AT+CIMI" {
		t.Errorf("IMSI: %v", err)
	}
	if _, err := m.SIMState(ctx); !errors.Is(err, ErrParse) {
		t.Errorf("CPIN: %v", err)
	}
	if _, err := m.Functionality(ctx); !errors.Is(err, ErrParse) {
		t.Errorf("CFUN: %v", err)
	}
}

// SIM errors are states for SIMState and end the ICCID search at once;
// "command unknown" moves the search on, down to EF_ICCID over +CRSM.
func TestQuerySIMErrorsAndICCIDFallback(t *testing.T) {
	m := newDialectModemSteps(t, parseTranscript(`
> AT+CPIN?
< +CME ERROR: 10
> AT+CPIN?
< +CME ERROR: SIM busy
> AT+QCCID
< +CME ERROR: 10
> AT+QCCID
< ERROR
> AT+CCID
< +CME ERROR: 4
> AT+ICCID
< ERROR
> AT+CRSM=176,12258,0,0,10
< +CRSM: 144,0,"984402003576012594F9"
< OK
`), DialectQuectel)
	ctx := tctx(t)
	if st, err := m.SIMState(ctx); err != nil || st != SIMNotInserted {
		t.Errorf("CME 10: %v %v", st, err)
	}
	if st, err := m.SIMState(ctx); err != nil || st != SIMBusy {
		t.Errorf("SIM busy: %v %v", st, err)
	}
	if _, err := m.ICCID(ctx); !errors.Is(err, ErrSIMNotInserted) {
		t.Errorf("ICCID without SIM: %v", err)
	}
	if v, err := m.ICCID(ctx); err != nil || v.Reveal() != "8944200053671052499" {
		t.Errorf("ICCID via EF_ICCID: %q %v", v.Reveal(), err)
	}
}
