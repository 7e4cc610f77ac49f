package modem

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
)

// execer is the one thing the typed queries need from the engine. *Modem
// implements it; tests replay transcripts through a fake.
type execer interface {
	exec(ctx context.Context, c cmdSpec) ([]string, error)
}

// querier holds the dialect-aware query logic, independent of the engine.
type querier struct {
	x execer
	d Dialect
	// no5GS, when set, remembers for the session that +C5GREG? is an
	// unknown command (LTE-only modems answer ERROR every time).
	no5GS *atomic.Bool
}

func (m *Modem) q() querier { return querier{x: m, d: m.dialect, no5GS: &m.no5GS} }

// opErr wraps a parse failure (or ErrNotSupported) with the command.
func opErr(cmd string, err error) error {
	var op *OpError
	if err == nil || errors.As(err, &op) {
		return err
	}
	return &OpError{Cmd: "AT" + cmd, Err: err}
}

func (q querier) notSupported(what string) error {
	return &OpError{Cmd: what, Err: fmt.Errorf("%w by the %s dialect", ErrNotSupported, q.d)}
}

// unsupportedCmd reports whether err means "this modem does not know the
// command" (plain ERROR or CME 3/4), so that a fallback is worth trying.
func unsupportedCmd(err error) bool {
	return errors.Is(err, ErrError) || errors.Is(err, ErrNotSupported) || errors.Is(err, ErrNotAllowed) || errors.Is(err, ErrParse)
}

func (q querier) run(ctx context.Context, cmd string, prefix ...string) ([]string, error) {
	return q.x.exec(ctx, cmdSpec{cmd: cmd, prefix: prefix})
}

// line runs cmd, a read answered by one line with prefix, and returns that
// line.
func (q querier) line(ctx context.Context, cmd, prefix string) (string, error) {
	lines, err := q.x.exec(ctx, cmdSpec{cmd: cmd, prefix: []string{prefix}, one: true, need: true})
	if err != nil {
		return "", err
	}
	for _, l := range lines {
		if _, ok := cutPrefix(l, prefix); ok {
			return l, nil
		}
	}
	return "", opErr(cmd, perr(strings.TrimSuffix(prefix, ":"), "", "", "%v", errNoLine))
}

// --- identity and SIM -------------------------------------------------------

// Identity reads manufacturer, model, revision and IMEI (+CGMI, +CGMM,
// +CGMR, +CGSN; ATI when the first two give nothing). A reply lost to a
// timeout is asked for once more; each value must be one plausible line.
// What the modem does not answer stays empty (never guessed: a one-line
// ATI is the model); an error only when nothing at all was learned.
func (m *Modem) Identity(ctx context.Context) (Identity, error) { return m.q().identity(ctx) }

func (q querier) identity(ctx context.Context) (Identity, error) {
	var last error
	get := func(c cmdSpec) []string {
		lines, err := q.x.exec(ctx, c)
		if errors.Is(err, ErrTimeout) && ctx.Err() == nil {
			// A lost reply says nothing about the command: the engine has
			// resynchronised, so ask again rather than guess from ATI,
			// whose layout differs per vendor.
			lines, err = q.x.exec(ctx, c)
		}
		if err != nil {
			last = err
			return nil
		}
		return lines
	}
	text := func(cmd string, parse func([]string) (string, error), prefix ...string) cmdSpec {
		return cmdSpec{cmd: cmd, prefix: prefix, bare: true, need: true, check: oneValue(parse)}
	}
	id := ParseIdentity(
		get(text("+CGMI", ParseCGMI, "+CGMI:", "+GMI:")),
		get(text("+CGMM", ParseCGMM, "+CGMM:", "+GMM:")),
		get(text("+CGMR", ParseCGMR, "+CGMR:", "+GMR:")),
		get(cmdSpec{cmd: "+CGSN", prefix: []string{"+CGSN:", "+GSN:"}, bare: true, need: true, check: oneValue(ParseIMEI)}),
	)
	if id.Manufacturer == "" || id.Model == "" {
		if lines := get(cmdSpec{cmd: "I", bare: true}); lines != nil {
			if ati, err := ParseATI(lines); err == nil {
				if id.Manufacturer == "" {
					id.Manufacturer = ati.Manufacturer
				}
				if id.Model == "" {
					id.Model = ati.Model
				}
				if id.Revision == "" {
					id.Revision = ati.Revision
				}
				if id.IMEI == "" {
					id.IMEI = ati.IMEI
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return id, &OpError{Cmd: "AT+CGMI", Err: err}
	}
	if id == (Identity{}) {
		if last != nil {
			return id, last // the port died, or every command failed: say how
		}
		return id, &OpError{Cmd: "AT+CGMI", Err: fmt.Errorf("%w: no identity answered", ErrParse)}
	}
	return id, nil
}

// SIMState reads +CPIN?. The CME errors that describe the SIM (not
// inserted, failure, busy, PIN/PUK) are states, not failures.
func (m *Modem) SIMState(ctx context.Context) (SIMState, error) { return m.q().simState(ctx) }

func (q querier) simState(ctx context.Context) (SIMState, error) {
	l, err := q.line(ctx, "+CPIN?", "+CPIN:")
	if err != nil {
		if st, ok := SIMStateFromError(err); ok {
			return st, nil
		}
		return SIMUnknown, err
	}
	st, err := ParseCPIN(l)
	return st, opErr("+CPIN?", err)
}

// IMSI reads +CIMI (bare line or "+CIMI:" prefixed).
func (m *Modem) IMSI(ctx context.Context) (IMSI, error) { return m.q().imsi(ctx) }

func (q querier) imsi(ctx context.Context) (IMSI, error) {
	lines, err := q.x.exec(ctx, cmdSpec{cmd: "+CIMI", prefix: []string{"+CIMI:"}, bare: true, need: true,
		check: func(l []string) error { _, err := ParseIMSI(l); return err }})
	if err != nil {
		return "", err
	}
	v, err := ParseIMSI(lines)
	return v, opErr("+CIMI", err)
}

// ICCID reads the ICCID with the dialect's command, then the generic ones,
// then EF_ICCID through +CRSM. A SIM error (not inserted, busy, ...) ends
// the search: no other command will do better.
func (m *Modem) ICCID(ctx context.Context) (ICCID, error) { return m.q().iccid(ctx) }

func (q querier) iccid(ctx context.Context) (ICCID, error) {
	var last error
	for _, c := range q.d.iccidCmds() {
		lines, err := q.x.exec(ctx, c)
		if err == nil {
			v, perr := ParseICCID(lines)
			if perr == nil {
				return v, nil
			}
			err = opErr(c.cmd, perr)
		}
		last = err
		if !unsupportedCmd(err) {
			return "", err
		}
	}
	if ef, ok := q.x.(interface {
		EFICCID(context.Context) (ICCID, error)
	}); ok {
		v, err := ef.EFICCID(ctx)
		if err == nil {
			return v, nil
		}
		last = err
	}
	return "", last
}

// oneValue is the reply shape of a one-value read (+CGMI, +CGSN...): a
// single owned line that parse accepts. Two lines are one too many: line
// noise or a reply that is not this command's.
func oneValue[T any](parse func([]string) (T, error)) func([]string) error {
	return func(lines []string) error {
		if len(lines) > 1 {
			return fmt.Errorf("%w: %d information lines, want 1", ErrParse, len(lines))
		}
		_, err := parse(lines)
		return err
	}
}

// --- signal and registration ------------------------------------------------

// Signal reads +CESQ, falls back to +CSQ, and adds what the dialect's own
// signal or serving-cell command knows beyond them (SINR above all: Quectel
// +QCSQ, Huawei ^HCSQ, SIMCom +CPSI?, u-blox +UCGED?, Sierra !GSTATUS?).
// Values from the standard commands win; values no command reported are nil.
func (m *Modem) Signal(ctx context.Context) (Signal, error) { return m.q().signal(ctx) }

func (q querier) signal(ctx context.Context) (Signal, error) {
	var sig Signal
	l, err := q.line(ctx, "+CESQ", "+CESQ:")
	if err == nil {
		sig, err = ParseCESQ(l)
		err = opErr("+CESQ", err)
	}
	if ctx.Err() != nil {
		return Signal{}, &OpError{Cmd: "AT+CESQ", Err: ctx.Err()}
	}
	if err != nil || (sig.RSSI == nil && sig.RSCP == nil && sig.RSRP == nil) {
		// No CESQ, or one with nothing but unknowns (some firmware reports
		// LTE only through CSQ).
		l, err2 := q.line(ctx, "+CSQ", "+CSQ:")
		if err2 == nil {
			var csq Signal
			if csq, err2 = ParseCSQ(l); err2 == nil {
				sig, err = mergeSignal(sig, csq), nil
			}
			err2 = opErr("+CSQ", err2)
		}
		if err != nil {
			err = err2
		}
	}
	if ctx.Err() != nil {
		return Signal{}, &OpError{Cmd: "AT+CSQ", Err: ctx.Err()}
	}
	if v, verr := q.vendorSignal(ctx); verr == nil {
		sig, err = mergeSignal(sig, v), nil
	}
	if err != nil {
		return Signal{}, err
	}
	return sig, nil
}

func (q querier) vendorSignal(ctx context.Context) (Signal, error) {
	switch q.d {
	case DialectQuectel:
		l, err := q.line(ctx, "+QCSQ", "+QCSQ:")
		if err != nil {
			return Signal{}, err
		}
		return ParseQCSQ(l)
	case DialectHuawei:
		l, err := q.line(ctx, "^HCSQ?", "^HCSQ:")
		if err != nil {
			return Signal{}, err
		}
		return ParseHCSQ(l)
	case DialectSIMCom:
		l, err := q.line(ctx, "+CPSI?", "+CPSI:")
		if err != nil {
			return Signal{}, err
		}
		sc, err := ParseCPSI(l)
		return sc.Signal, err
	case DialectUBlox, DialectSierra:
		// Their serving-cell answers are the only place these report SINR.
		sc, _, err := q.servingCell(ctx)
		return sc.Signal, err
	}
	return Signal{}, ErrNotSupported
}

// Registration reads the registration state of one domain (+CREG?,
// +CGREG?, +CEREG?, +C5GREG?).
func (m *Modem) Registration(ctx context.Context, d Domain) (Registration, error) {
	return m.q().registration(ctx, d)
}

func (q querier) registration(ctx context.Context, d Domain) (Registration, error) {
	cmd := d.Command()
	if cmd == "" {
		return Registration{}, &OpError{Cmd: "registration", Err: fmt.Errorf("%w: domain %d", ErrIncorrectParameters, int(d))}
	}
	lines, err := q.x.exec(ctx, cmdSpec{cmd: cmd + "?", prefix: []string{cmd + ":"}, need: true})
	if err != nil {
		return Registration{}, err
	}
	// The read shape (n first) is the answer; a URC-shaped line of the same
	// prefix that slipped in is only used when nothing else came.
	var fallback *Registration
	for _, l := range lines {
		reg, hasN, err := ParseRegistration(l)
		if err != nil || reg.Domain != d {
			continue
		}
		if hasN {
			return reg, nil
		}
		if fallback == nil {
			fallback = &reg
		}
	}
	if fallback != nil {
		return *fallback, nil
	}
	return Registration{}, opErr(cmd+"?", perr(cmd, "", strings.Join(lines, "|"), "%v", errNoLine))
}

// Registrations reads CS, PS and EPS registration (and 5GS where the modem
// knows +C5GREG). Domains the modem does not support are left out.
func (m *Modem) Registrations(ctx context.Context) ([]Registration, error) {
	return m.q().registrations(ctx)
}

func (q querier) registrations(ctx context.Context) ([]Registration, error) {
	var out []Registration
	var last error
	for _, d := range []Domain{DomainCS, DomainPS, DomainEPS, Domain5GS} {
		if d == Domain5GS && q.no5GS != nil && q.no5GS.Load() {
			continue
		}
		reg, err := q.registration(ctx, d)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, ErrPortLost) || errors.Is(err, ErrClosed) {
				return out, err
			}
			if d != Domain5GS {
				last = err
			} else if q.no5GS != nil && (errors.Is(err, ErrError) || errors.As(err, new(*CMEError))) {
				q.no5GS.Store(true) // the modem answered: it has no 5GS registration
			}
			continue
		}
		out = append(out, reg)
	}
	if len(out) == 0 {
		return nil, last
	}
	return out, nil
}

// --- operator ---------------------------------------------------------------

// Operator reads the selected operator: the numeric PLMN and AcT with
// +COPS=3,2 then +COPS?, the long name with +COPS=3,0 then +COPS?. A name
// the modem does not give stays empty.
func (m *Modem) Operator(ctx context.Context) (Operator, error) { return m.q().operator(ctx) }

func (q querier) operator(ctx context.Context) (Operator, error) {
	q.run(ctx, "+COPS=3,2")
	l, err := q.line(ctx, "+COPS?", "+COPS:")
	if err != nil {
		return Operator{}, err
	}
	op, err := ParseCOPS(l)
	if err != nil {
		return Operator{}, opErr("+COPS?", err)
	}
	if op.PLMN.IsZero() && op.Name == "" {
		return op, nil // not registered: "+COPS: 0"
	}
	if _, err := q.run(ctx, "+COPS=3,0"); err == nil {
		if l, err := q.line(ctx, "+COPS?", "+COPS:"); err == nil {
			if named, err := ParseCOPS(l); err == nil {
				op.Name = named.Name
				if op.PLMN.IsZero() {
					op.PLMN = named.PLMN
				}
			}
		}
	}
	return op, nil
}

// ScanNetworks runs +COPS=? (minutes; the engine's timeout table allows it).
func (m *Modem) ScanNetworks(ctx context.Context) ([]NetworkEntry, error) {
	return m.q().scanNetworks(ctx)
}

func (q querier) scanNetworks(ctx context.Context) ([]NetworkEntry, error) {
	// bare: some firmware continues the list on lines without a prefix.
	lines, err := q.x.exec(ctx, cmdSpec{cmd: "+COPS=?", prefix: []string{"+COPS:"}, bare: true})
	if err != nil {
		return nil, err
	}
	nets, err := ParseCOPSTest(lines)
	return nets, opErr("+COPS=?", err)
}

func validPLMN(p PLMN) bool {
	return len(p.MCC) == 3 && isDigits(p.MCC) && (len(p.MNC) == 2 || len(p.MNC) == 3) && isDigits(p.MNC)
}

// SelectOperator registers manually on plmn (+COPS=1,2,"<plmn>"[,<AcT>]).
func (m *Modem) SelectOperator(ctx context.Context, plmn PLMN, act *AcT) error {
	return m.q().selectOperator(ctx, plmn, act)
}

func (q querier) selectOperator(ctx context.Context, plmn PLMN, act *AcT) error {
	if !validPLMN(plmn) {
		return &OpError{Cmd: "AT+COPS=1", Err: fmt.Errorf("%w: PLMN %q", ErrIncorrectParameters, truncate(plmn.String(), 12))}
	}
	cmd := `+COPS=1,2,"` + plmn.String() + `"`
	if act != nil {
		if *act < 0 || *act > 13 {
			return &OpError{Cmd: "AT" + cmd, Err: fmt.Errorf("%w: AcT %d", ErrIncorrectParameters, int(*act))}
		}
		cmd += "," + strconv.Itoa(int(*act))
	}
	_, err := q.run(ctx, cmd)
	return err
}

// AutoSelectOperator returns to automatic operator selection (+COPS=0).
func (m *Modem) AutoSelectOperator(ctx context.Context) error {
	_, err := m.q().run(ctx, "+COPS=0")
	return err
}

// --- serving cell -----------------------------------------------------------

// ServingCell reads the vendor view of the serving cell and, where the
// dialect lists them, the neighbours: Quectel +QENG, SIMCom +CPSI?, u-blox
// +UCGED?, Telit #RFSTS (#SERVINFO fallback), Sierra !GSTATUS?, Huawei
// ^MONSC. Generic modems have no such command: ErrNotSupported.
func (m *Modem) ServingCell(ctx context.Context) (ServingCell, []Neighbour, error) {
	return m.q().servingCell(ctx)
}

func (q querier) servingCell(ctx context.Context) (ServingCell, []Neighbour, error) {
	switch q.d {
	case DialectQuectel:
		lines, err := q.run(ctx, `+QENG="servingcell"`, "+QENG:")
		if err != nil {
			return ServingCell{}, nil, err
		}
		sc, _, err := ParseQENG(lines, q.d.qengSINR())
		if err != nil {
			return ServingCell{}, nil, opErr(`+QENG="servingcell"`, err)
		}
		var nbs []Neighbour
		if nl, err := q.run(ctx, `+QENG="neighbourcell"`, "+QENG:"); err == nil {
			_, nbs, _ = ParseQENG(nl, q.d.qengSINR())
		}
		return sc, nbs, nil
	case DialectSIMCom:
		// The first +CPSI? after boot may answer ERROR; once more is enough.
		l, err := q.line(ctx, "+CPSI?", "+CPSI:")
		if errors.Is(err, ErrError) && ctx.Err() == nil {
			l, err = q.line(ctx, "+CPSI?", "+CPSI:")
		}
		if err != nil {
			return ServingCell{}, nil, err
		}
		sc, err := ParseCPSI(l)
		return sc, nil, opErr("+CPSI?", err)
	case DialectUBlox:
		spec := cmdSpec{cmd: "+UCGED?", prefix: []string{"+UCGED:", "+RSRP:", "+RSRQ:"}, bare: true}
		lines, err := q.x.exec(ctx, spec)
		if err != nil {
			return ServingCell{}, nil, err
		}
		sc, nbs, err := ParseUCGED(lines)
		if err != nil && ucgedDisabled(lines) {
			// Reporting is off ("+UCGED: 0"): switch to the short mode 2 once.
			if _, err2 := q.run(ctx, "+UCGED=2"); err2 == nil {
				if lines, err2 = q.x.exec(ctx, spec); err2 == nil {
					sc, nbs, err = ParseUCGED(lines)
				}
			}
		}
		return sc, nbs, opErr("+UCGED?", err)
	case DialectTelit:
		lines, err := q.run(ctx, "#RFSTS", "#RFSTS:")
		if err == nil {
			sc, _, perr := ParseRFSTS(lines)
			if perr == nil {
				return sc, nil, nil
			}
			err = opErr("#RFSTS", perr)
		}
		if ctx.Err() != nil {
			return ServingCell{}, nil, err
		}
		lines, err2 := q.run(ctx, "#SERVINFO", "#SERVINFO:")
		if err2 != nil {
			return ServingCell{}, nil, err
		}
		sc, err2 := ParseSERVINFO(lines)
		return sc, nil, opErr("#SERVINFO", err2)
	case DialectSierra:
		lines, err := q.x.exec(ctx, cmdSpec{cmd: "!GSTATUS?", prefix: []string{"!GSTATUS:"}, bare: true})
		if err != nil {
			return ServingCell{}, nil, err
		}
		sc, err := ParseGSTATUS(lines)
		return sc, nil, opErr("!GSTATUS?", err)
	case DialectHuawei:
		l, err := q.line(ctx, "^MONSC", "^MONSC:")
		if err != nil {
			return ServingCell{}, nil, err
		}
		sc, err := ParseMONSC(l)
		return sc, nil, opErr("^MONSC", err)
	}
	return ServingCell{}, nil, q.notSupported("serving cell")
}

func ucgedDisabled(lines []string) bool {
	for _, l := range lines {
		if r, ok := cutPrefix(l, "+UCGED:"); ok {
			return strings.TrimSpace(r) == "0"
		}
	}
	return false
}

// --- packet data ------------------------------------------------------------

var pdpTypes = map[string]string{"IP": "IP", "IPV6": "IPV6", "IPV4V6": "IPV4V6", "PPP": "PPP", "NON-IP": "Non-IP"}

// DefinePDP writes one context (+CGDCONT=<cid>,"<type>","<apn>"). The APN
// is checked so that nothing can be smuggled onto the command line.
func (m *Modem) DefinePDP(ctx context.Context, c PDPContext) error {
	return m.q().definePDP(ctx, c)
}

func (q querier) definePDP(ctx context.Context, c PDPContext) error {
	bad := func(format string, args ...any) error {
		return &OpError{Cmd: "AT+CGDCONT=", Err: fmt.Errorf("%w: "+format, append([]any{ErrIncorrectParameters}, args...)...)}
	}
	if c.CID < 1 || c.CID > 255 {
		return bad("cid %d", c.CID)
	}
	typ, ok := pdpTypes[strings.ToUpper(c.Type)]
	if !ok {
		return bad("PDP type %q", truncate(c.Type, 16))
	}
	if len(c.APN) > 100 {
		return bad("APN longer than 100 characters")
	}
	for _, r := range c.APN {
		if r < 0x21 || r > 0x7e || r == '"' || r == ';' || r == '\\' {
			return bad("APN contains %q", r)
		}
	}
	_, err := q.run(ctx, fmt.Sprintf(`+CGDCONT=%d,"%s","%s"`, c.CID, typ, c.APN))
	return err
}

// PDPContexts reads every defined context (+CGDCONT?).
func (m *Modem) PDPContexts(ctx context.Context) ([]PDPContext, error) {
	lines, err := m.q().run(ctx, "+CGDCONT?", "+CGDCONT:")
	if err != nil {
		return nil, err
	}
	c, err := ParseCGDCONT(lines)
	return c, opErr("+CGDCONT?", err)
}

// SetPDPActive activates or deactivates a context (+CGACT=<state>,<cid>).
func (m *Modem) SetPDPActive(ctx context.Context, cid int, active bool) error {
	if cid < 1 || cid > 255 {
		return &OpError{Cmd: "AT+CGACT=", Err: fmt.Errorf("%w: cid %d", ErrIncorrectParameters, cid)}
	}
	st := 0
	if active {
		st = 1
	}
	_, err := m.q().run(ctx, fmt.Sprintf("+CGACT=%d,%d", st, cid))
	return err
}

// PDPActive reads which contexts are active (+CGACT?).
func (m *Modem) PDPActive(ctx context.Context) (map[int]bool, error) { return m.q().pdpActive(ctx) }

func (q querier) pdpActive(ctx context.Context) (map[int]bool, error) {
	lines, err := q.run(ctx, "+CGACT?", "+CGACT:")
	if err != nil {
		return nil, err
	}
	v, err := ParseCGACT(lines)
	return v, opErr("+CGACT?", err)
}

// PDPAddress reads the addresses of one context (+CGPADDR=<cid>).
func (m *Modem) PDPAddress(ctx context.Context, cid int) (PDPAddress, error) {
	return m.q().pdpAddress(ctx, cid)
}

func (q querier) pdpAddress(ctx context.Context, cid int) (PDPAddress, error) {
	if cid < 1 || cid > 255 {
		return PDPAddress{}, &OpError{Cmd: "AT+CGPADDR=", Err: fmt.Errorf("%w: cid %d", ErrIncorrectParameters, cid)}
	}
	cmd := "+CGPADDR=" + strconv.Itoa(cid)
	// 27.007 answers +CGPADDR=<cid> with a +CGPADDR: line for that cid,
	// address or not: a bare OK is a stray result that crossed the
	// command, so the read is checked and asked again (the daemon's fault
	// matrix saw a duplicate OK report "no address" for one poll).
	lines, err := q.x.exec(ctx, cmdSpec{cmd: cmd, prefix: []string{"+CGPADDR:"}, need: true})
	if err != nil {
		return PDPAddress{}, err
	}
	all, err := ParseCGPADDR(lines)
	if err != nil {
		return PDPAddress{}, opErr(cmd, err)
	}
	for _, a := range all {
		if a.CID == cid {
			return a, nil
		}
	}
	return PDPAddress{CID: cid}, nil
}

// --- radio, reset, counters, RAT, slot ---------------------------------------

// Functionality reads +CFUN? (0 minimum, 1 full, 4 RF off, ...).
func (m *Modem) Functionality(ctx context.Context) (int, error) {
	l, err := m.q().line(ctx, "+CFUN?", "+CFUN:")
	if err != nil {
		return 0, err
	}
	n, err := ParseCFUN(l)
	return n, opErr("+CFUN?", err)
}

// SetFunctionality writes +CFUN=<fun> (0..127; use Reset for 1,1).
func (m *Modem) SetFunctionality(ctx context.Context, fun int) error {
	if fun < 0 || fun > 127 {
		return &OpError{Cmd: "AT+CFUN=", Err: fmt.Errorf("%w: fun %d", ErrIncorrectParameters, fun)}
	}
	_, err := m.q().run(ctx, "+CFUN="+strconv.Itoa(fun))
	return err
}

// Reset restarts the modem with +CFUN=1,1. On USB the port disappears right
// after the OK (or before it): a lost port is what a reset looks like, so it
// is not an error here. The owner reopens the port (Connect).
func (m *Modem) Reset(ctx context.Context) error {
	_, err := m.q().run(ctx, "+CFUN=1,1")
	if errors.Is(err, ErrPortLost) {
		return nil
	}
	return err
}

// DataCounters reads the modem's byte counters: Quectel +QGDCNT?, u-blox
// +UGCNTRD, Telit #GDATAVOL=1, Huawei ^DSFLOWQRY.
func (m *Modem) DataCounters(ctx context.Context) (DataCounters, error) {
	return m.q().dataCounters(ctx)
}

func (q querier) dataCounters(ctx context.Context) (DataCounters, error) {
	switch q.d {
	case DialectQuectel:
		l, err := q.line(ctx, "+QGDCNT?", "+QGDCNT:")
		if err != nil {
			return DataCounters{}, err
		}
		c, err := ParseQGDCNT(l)
		return c, opErr("+QGDCNT?", err)
	case DialectUBlox:
		lines, err := q.run(ctx, "+UGCNTRD", "+UGCNTRD:")
		if err != nil {
			return DataCounters{}, err
		}
		c, err := ParseUGCNTRD(lines)
		return c, opErr("+UGCNTRD", err)
	case DialectTelit:
		lines, err := q.run(ctx, "#GDATAVOL=1", "#GDATAVOL:")
		if err != nil {
			return DataCounters{}, err
		}
		c, err := ParseGDATAVOL(lines)
		return c, opErr("#GDATAVOL=1", err)
	case DialectHuawei:
		l, err := q.line(ctx, "^DSFLOWQRY", "^DSFLOWQRY:")
		if err != nil {
			return DataCounters{}, err
		}
		c, err := ParseDSFLOWQRY(l)
		return c, opErr("^DSFLOWQRY", err)
	}
	return DataCounters{}, q.notSupported("data counters")
}

// SIMSlot reads the active physical SIM slot (Quectel +QUIMSLOT?).
func (m *Modem) SIMSlot(ctx context.Context) (int, error) { return m.q().simSlot(ctx) }

func (q querier) simSlot(ctx context.Context) (int, error) {
	if q.d != DialectQuectel {
		return 0, q.notSupported("SIM slot")
	}
	lines, err := q.run(ctx, "+QUIMSLOT?", "+QUIMSLOT:", "+QUSIMSLOT:")
	if err != nil {
		return 0, err
	}
	for _, l := range lines {
		if n, err := ParseQUIMSLOT(l); err == nil {
			return n, nil
		}
	}
	return 0, opErr("+QUIMSLOT?", perr("+QUIMSLOT", "", strings.Join(lines, "|"), "%v", errNoLine))
}

// SetSIMSlot switches the physical SIM slot (Quectel +QUIMSLOT=<1|2>). The
// SIM then re-initialises: expect +CPIN: NOT READY / READY events.
func (m *Modem) SetSIMSlot(ctx context.Context, slot int) error {
	q := m.q()
	if q.d != DialectQuectel {
		return q.notSupported("SIM slot")
	}
	if slot != 1 && slot != 2 {
		return &OpError{Cmd: "AT+QUIMSLOT=", Err: fmt.Errorf("%w: slot %d", ErrIncorrectParameters, slot)}
	}
	_, err := q.run(ctx, "+QUIMSLOT="+strconv.Itoa(slot))
	return err
}

// ExtendedError reads +CEER (free text: log it, do not decide on it).
func (m *Modem) ExtendedError(ctx context.Context) (string, error) {
	lines, err := m.q().run(ctx, "+CEER", "+CEER:")
	if err != nil {
		return "", err
	}
	s, err := ParseCEER(lines)
	return s, opErr("+CEER", err)
}

// RejectCauses reads the network's last reject causes by type ("emm_cause",
// "esm_cause", "5gmm_cause") with Quectel +QNETRC?. Other dialects report
// them in the registration URCs (n=3) instead: ErrNotSupported here.
func (m *Modem) RejectCauses(ctx context.Context) (map[string]int, error) {
	q := m.q()
	if q.d != DialectQuectel {
		return nil, q.notSupported("reject causes")
	}
	lines, err := q.run(ctx, "+QNETRC?", "+QNETRC:")
	if err != nil {
		return nil, err
	}
	c, err := ParseQNETRC(lines)
	return c, opErr("+QNETRC?", err)
}
