package modem

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
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
	// refused, when set, remembers for the session the optional commands
	// the modem refused (see opt).
	refused *refusals
}

func (q querier) v() *vendor { return vendorOf(q.d) }

// q is the querier for the dialect in use.
func (m *Modem) q() querier { return querier{x: m, d: m.Dialect(), refused: &m.refused} }

// qc is q for a dialect-dependent query: if the identity read behind the
// dialect failed, the dialect is detected again first (so a modem that
// hung during start-up gets its vendor commands back at the next poll).
func (m *Modem) qc(ctx context.Context) querier {
	if m.redetect.Load() && !m.cfg.dialectSet && m.detectMu.TryLock() {
		if m.redetect.Load() {
			m.detectLocked(ctx)
		}
		m.detectMu.Unlock()
	}
	return m.q()
}

// detect reads the identity and picks the dialect from it. If a read
// failed (rather than being refused) and no family was recognised, the
// dialect is marked for detection again.
func (m *Modem) detect(ctx context.Context) (Identity, Dialect, error) {
	m.detectMu.Lock()
	defer m.detectMu.Unlock()
	return m.detectLocked(ctx)
}

func (m *Modem) detectLocked(ctx context.Context) (Identity, Dialect, error) {
	id, failed, err := m.q().readIdentity(ctx)
	d := DetectDialect(id.Manufacturer, id.Model)
	m.adopt(d, failed || err != nil)
	return id, d, err
}

// adopt makes d the session's dialect (auto-detection only) and says
// whether it must be detected again. A dialect change forgets the
// refused commands and sends the new dialect's start-up commands.
func (m *Modem) adopt(d Dialect, failed bool) {
	if m.cfg.dialectSet {
		return
	}
	m.redetect.Store(d == DialectGeneric && failed)
	old := m.Dialect()
	if d == old {
		return
	}
	if d == DialectGeneric && old != "" && old != DialectGeneric && failed {
		// A failed read does not undo what an earlier one recognised.
		return
	}
	m.setDialect(d)
	m.refused.reset()
	if old != "" {
		m.cfg.logger.Info("modem: dialect detected again", "was", old, "now", d)
		ctx, cancel := context.WithTimeout(m.life, 10*time.Second)
		defer cancel()
		m.applyDialectSettings(ctx)
	}
}

// refusals is the set of optional commands a modem refused this session
// (ERROR, +CME ERROR: 4, a vendor's own "not supported" result): asking
// again at every poll costs a round trip and tells nothing new. It is
// cleared when the dialect is detected again; a new session (Connect)
// starts empty.
type refusals struct {
	mu sync.Mutex
	m  map[string]bool
}

func (r *refusals) has(cmd string) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[cmd]
}

func (r *refusals) add(cmd string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]bool)
	}
	r.m[cmd] = true
}

func (r *refusals) reset() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m = nil
}

// refusal reports whether err is the modem refusing a command as such:
// plain ERROR, +CME ERROR: 4 (operation not supported) or a vendor's own
// error result (*VendorResultError). Other CME codes describe a state
// (SIM busy, not allowed now) and pass.
func refusal(err error) bool {
	var cme *CMEError
	if errors.As(err, &cme) {
		return cme.Code == 4
	}
	return errors.Is(err, ErrError) || errors.Is(err, ErrNotSupported)
}

// opt runs an optional read: one the modem may not know. A refusal is
// remembered, and the command is not sent again this session; asked
// again, it fails at once with ErrNotSupported.
func (q querier) opt(ctx context.Context, c cmdSpec) ([]string, error) {
	if q.refused.has(c.cmd) {
		return nil, &OpError{Cmd: "AT" + c.cmd, Err: fmt.Errorf("%w: refused earlier this session", ErrNotSupported)}
	}
	lines, err := q.x.exec(ctx, c)
	if err != nil && refusal(err) && ctx.Err() == nil {
		q.refused.add(c.cmd)
	}
	return lines, err
}

// optLine is line for an optional read (see opt).
func (q querier) optLine(ctx context.Context, cmd, prefix string) (string, error) {
	lines, err := q.opt(ctx, cmdSpec{cmd: cmd, prefix: []string{prefix}, one: true, need: true})
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

// Identity reads manufacturer, model, revision and IMEI from every source
// the modem may answer: +CGMI, +CGMM, +CGMR, +CGSN; ATI when the
// manufacturer or model is still missing; the V.250 names +GMI, +GMM,
// +GMR, +GSN for what is still missing; then the families' own identity
// reads (SIMCom +SIMCOMATI). A reply lost to a timeout is asked for once
// more; each value must be one plausible line. What the modem does not
// answer stays empty (never guessed: a one-line ATI such as "SIM7000G
// R1529" is the model, revision included); an error only when nothing at
// all was learned.
//
// With auto-detection, a successful read also settles a dialect that an
// earlier failed read left generic.
func (m *Modem) Identity(ctx context.Context) (Identity, error) {
	if m.cfg.dialectSet {
		return m.q().identity(ctx)
	}
	m.detectMu.Lock()
	defer m.detectMu.Unlock()
	id, _, err := m.detectLocked(ctx)
	return id, err
}

func (q querier) identity(ctx context.Context) (Identity, error) {
	id, _, err := q.readIdentity(ctx)
	return id, err
}

// readIdentity is identity, also reporting whether a read failed (timed
// out, garbled) rather than being refused: what was learned may then be
// short of what the modem would say.
func (q querier) readIdentity(ctx context.Context) (Identity, bool, error) {
	var last error
	failed := false
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
			if !refusal(err) {
				failed = true
			}
			return nil
		}
		return lines
	}
	text := func(cmd string, parse func([]string) (string, error), prefix ...string) cmdSpec {
		return cmdSpec{cmd: cmd, prefix: prefix, bare: true, need: true, check: oneValue(parse)}
	}
	imei := func(cmd string) cmdSpec {
		return cmdSpec{cmd: cmd, prefix: []string{"+CGSN:", "+GSN:"}, bare: true, need: true, check: oneValue(ParseIMEI)}
	}
	id := ParseIdentity(
		get(text("+CGMI", ParseCGMI, "+CGMI:", "+GMI:")),
		get(text("+CGMM", ParseCGMM, "+CGMM:", "+GMM:")),
		get(text("+CGMR", ParseCGMR, "+CGMR:", "+GMR:")),
		get(imei("+CGSN")),
	)
	fill := func(from Identity) {
		if id.Manufacturer == "" {
			id.Manufacturer = from.Manufacturer
		}
		if id.Model == "" {
			id.Model = from.Model
		}
		if id.Revision == "" {
			id.Revision = from.Revision
		}
		if id.IMEI == "" {
			id.IMEI = from.IMEI
		}
	}
	if id.Manufacturer == "" || id.Model == "" {
		if lines := get(cmdSpec{cmd: "I", bare: true}); lines != nil {
			if ati, err := ParseATI(lines); err == nil {
				fill(ati)
			}
		}
	}
	// The V.250 names of the same reads: some firmware knows only these.
	if id.Manufacturer == "" && ctx.Err() == nil {
		id.Manufacturer, _ = ParseCGMI(get(text("+GMI", ParseCGMI, "+GMI:", "+CGMI:")))
	}
	if id.Model == "" && ctx.Err() == nil {
		id.Model, _ = ParseCGMM(get(text("+GMM", ParseCGMM, "+GMM:", "+CGMM:")))
	}
	if id.Revision == "" && ctx.Err() == nil {
		id.Revision, _ = ParseCGMR(get(text("+GMR", ParseCGMR, "+GMR:", "+CGMR:")))
	}
	if id.IMEI == "" && ctx.Err() == nil {
		id.IMEI, _ = ParseIMEI(get(imei("+GSN")))
	}
	// The families' own identity reads, for a modem still not fully
	// known: only those of the family recognised so far, or of every
	// family when none is.
	if id.Manufacturer == "" || id.Model == "" || id.IMEI == "" {
		d := DetectDialect(id.Manufacturer, id.Model)
		for _, v := range registry {
			if d != DialectGeneric && v.dialect != d {
				continue
			}
			for _, c := range v.identity {
				if ctx.Err() != nil || q.refused.has(c) {
					continue
				}
				lines, err := q.opt(ctx, cmdSpec{cmd: c, bare: true})
				if err != nil {
					last = err
					if !refusal(err) {
						failed = true
					}
					continue
				}
				if v, err := ParseATI(lines); err == nil {
					fill(v)
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return id, true, &OpError{Cmd: "AT+CGMI", Err: err}
	}
	if id == (Identity{}) {
		if last != nil {
			return id, failed, last // the port died, or every command failed: say how
		}
		return id, true, &OpError{Cmd: "AT+CGMI", Err: fmt.Errorf("%w: no identity answered", ErrParse)}
	}
	return id, failed, nil
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
func (m *Modem) ICCID(ctx context.Context) (ICCID, error) { return m.qc(ctx).iccid(ctx) }

func (q querier) iccid(ctx context.Context) (ICCID, error) {
	var last error
	for _, c := range q.d.iccidCmds() {
		if q.refused.has(c.cmd) {
			continue
		}
		lines, err := q.opt(ctx, c)
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
	if last == nil {
		last = q.notSupported("ICCID")
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

// Signal reads +CESQ and +CSQ, and adds what the dialect's own signal or
// serving-cell command knows beyond them (SINR above all: Quectel +QCSQ,
// Huawei ^HCSQ, SIMCom +CPSI?, u-blox +UCGED?, Sierra !GSTATUS?). +CSQ is
// always read: on LTE the +CESQ <rxlev> is 99 (unknown), and +CSQ is where
// most modems put the RSSI. Values from the standard commands win (+CESQ
// first); values no command reported are nil. A modem that refuses +CESQ
// is not asked again this session.
func (m *Modem) Signal(ctx context.Context) (Signal, error) { return m.qc(ctx).signal(ctx) }

func (q querier) signal(ctx context.Context) (Signal, error) {
	var sig Signal
	l, err := q.optLine(ctx, "+CESQ", "+CESQ:")
	if err == nil {
		sig, err = ParseCESQ(l)
		err = opErr("+CESQ", err)
	}
	if errors.Is(err, ErrTimeout) {
		return Signal{}, err // a hung modem: say so, not ask it more
	}
	if ctx.Err() != nil {
		return Signal{}, &OpError{Cmd: "AT+CESQ", Err: ctx.Err()}
	}
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
	if ctx.Err() != nil {
		return Signal{}, &OpError{Cmd: "AT+CSQ", Err: ctx.Err()}
	}
	if f := q.v().signal; f != nil {
		if v, verr := f(ctx, q); verr == nil {
			sig, err = mergeSignal(sig, v), nil
		}
	}
	if err != nil {
		return Signal{}, err
	}
	return sig, nil
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
		if d == Domain5GS && q.refused.has("+C5GREG?") {
			continue
		}
		reg, err := q.registration(ctx, d)
		if err != nil {
			// A timeout ends the read too: a hung modem would cost every
			// remaining domain its own timeout.
			if ctx.Err() != nil || errors.Is(err, ErrPortLost) || errors.Is(err, ErrClosed) || errors.Is(err, ErrTimeout) {
				return out, err
			}
			if d != Domain5GS {
				last = err
			} else if refusal(err) || errors.As(err, new(*CMEError)) {
				// The modem answered: it has no 5GS registration.
				q.refused.add("+C5GREG?")
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
	if _, err := q.run(ctx, "+COPS=3,2"); errors.Is(err, ErrTimeout) {
		return Operator{}, err
	}
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
	return m.qc(ctx).servingCell(ctx)
}

func (q querier) servingCell(ctx context.Context) (ServingCell, []Neighbour, error) {
	if f := q.v().servingCell; f != nil {
		return f(ctx, q)
	}
	return ServingCell{}, nil, q.notSupported("serving cell")
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

// DataCall sends the family's data-call command (Quectel +QNETDEVCTL,
// SIMCom $QCRMCALL, Telit #ECM, u-blox +UCEDATA) that binds context cid to
// the host's network interface in ECM/RNDIS/NCM mode; up false releases
// it. A family without one answers ErrNotSupported without a command sent.
func (m *Modem) DataCall(ctx context.Context, cid int, up bool) error {
	if cid < 1 || cid > 255 {
		return &OpError{Cmd: "data call", Err: fmt.Errorf("%w: cid %d", ErrIncorrectParameters, cid)}
	}
	q := m.qc(ctx)
	f := q.v().dataCall
	if f == nil {
		return &OpError{Cmd: "data call", Err: fmt.Errorf("%w: %s has no data-call command", ErrNotSupported, q.d)}
	}
	_, err := q.run(ctx, f(cid, up))
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
	return m.qc(ctx).dataCounters(ctx)
}

func (q querier) dataCounters(ctx context.Context) (DataCounters, error) {
	if f := q.v().counters; f != nil {
		return f(ctx, q)
	}
	return DataCounters{}, q.notSupported("data counters")
}

// SIMSlot reads the active physical SIM slot (Quectel +QUIMSLOT?).
func (m *Modem) SIMSlot(ctx context.Context) (int, error) {
	q := m.qc(ctx)
	if f := q.v().simSlot; f != nil {
		return f(ctx, q)
	}
	return 0, q.notSupported("SIM slot")
}

// SetSIMSlot switches the physical SIM slot (Quectel +QUIMSLOT=<1|2>). The
// SIM then re-initialises: expect +CPIN: NOT READY / READY events.
func (m *Modem) SetSIMSlot(ctx context.Context, slot int) error {
	q := m.qc(ctx)
	if f := q.v().setSIMSlot; f != nil {
		return f(ctx, q, slot)
	}
	return q.notSupported("SIM slot")
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
	q := m.qc(ctx)
	if f := q.v().rejectCauses; f != nil {
		return f(ctx, q)
	}
	return nil, q.notSupported("reject causes")
}
