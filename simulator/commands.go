package simulator

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imsid/imsid/simulator/sim"
)

// coreCommands are V.250 and 27.007; dialects add to and override them.
var coreCommands map[string]CommandSpec

func init() {
	coreCommands = map[string]CommandSpec{
		"E":        {Handle: cmdEcho},
		"V":        {Handle: cmdVerbose},
		"X":        {Handle: cmdOK},
		"&C":       {Handle: cmdOK},
		"&D":       {Handle: cmdOK},
		"&W":       {Handle: cmdOK},
		"Z":        {Handle: cmdReset},
		"&F":       {Handle: cmdReset},
		"S4":       {Handle: sreg(10)},
		"S5":       {Handle: sreg(8)},
		"S0":       {Handle: sreg(0)},
		"+GCAP":    {Handle: lines("+GCAP: +CGSM")},
		"+CGMI":    {Handle: ident(func(m *Modem) string { return m.manufacturer() })},
		"+GMI":     {Handle: ident(func(m *Modem) string { return m.manufacturer() })},
		"+CGMM":    {Handle: ident(func(m *Modem) string { return m.model() })},
		"+GMM":     {Handle: ident(func(m *Modem) string { return m.model() })},
		"+CGMR":    {Handle: ident(func(m *Modem) string { return m.d.CGMRPrefix + m.revision() })},
		"+GMR":     {Handle: ident(func(m *Modem) string { return m.d.CGMRPrefix + m.revision() })},
		"+CGSN":    {Handle: ident(func(m *Modem) string { return m.imei() })},
		"+GSN":     {Handle: ident(func(m *Modem) string { return m.imei() })},
		"+CMEE":    {Handle: cmdCMEE},
		"+CPIN":    {Handle: cmdCPIN},
		"+CPINR":   {Handle: cmdCPINR, NeedSIM: true},
		"+CIMI":    {Handle: cmdCIMI, NeedSIM: true},
		"+CCID":    {Handle: cmdCCID, NeedSIM: true},
		"+CNUM":    {Handle: cmdOK, NeedSIM: true},
		"+CSQ":     {Handle: cmdCSQ},
		"+CESQ":    {Handle: cmdCESQ},
		"+COPS":    {Handle: cmdCOPS, Latency: latCOPS},
		"+CREG":    {Handle: regCmd(domCREG)},
		"+CGREG":   {Handle: regCmd(domCGREG)},
		"+CEREG":   {Handle: regCmd(domCEREG)},
		"+CGATT":   {Handle: cmdCGATT},
		"+CGDCONT": {Handle: cmdCGDCONT},
		"+CGACT":   {Handle: cmdCGACT, Latency: latCGACT},
		"+CGPADDR": {Handle: cmdCGPADDR},
		"+CGEREP":  {Handle: cmdCGEREP},
		"+CFUN":    {Handle: cmdCFUN, Latency: latCFUN},
		"+CEER":    {Handle: cmdCEER},
		"+CSIM":    {Handle: cmdCSIM, NeedSIM: true},
		"+CRSM":    {Handle: cmdCRSM, NeedSIM: true},
		"+CCHO":    {Handle: cmdCCHO, NeedSIM: true},
		"+CGLA":    {Handle: cmdCGLA, NeedSIM: true},
		"+CCHC":    {Handle: cmdCCHC, NeedSIM: true},
	}
}

func cmdOK(*Modem, Command) ([]string, error) { return nil, nil }

func lines(l ...string) Handler {
	return func(*Modem, Command) ([]string, error) { return l, nil }
}

func ident(f func(*Modem) string) Handler {
	return func(m *Modem, c Command) ([]string, error) {
		switch c.Op {
		case OpExec:
			return []string{f(m)}, nil
		case OpTest:
			return nil, nil
		}
		return nil, errPlain
	}
}

func sreg(v int) Handler {
	return func(m *Modem, c Command) ([]string, error) {
		if c.Op == OpRead {
			return []string{fmt.Sprintf("%03d", v)}, nil
		}
		return nil, nil
	}
}

func (m *Modem) manufacturer() string { return or(m.sc.Identity.Manufacturer, m.d.Manufacturer) }
func (m *Modem) model() string        { return or(m.sc.Identity.Model, m.d.Model) }
func (m *Modem) revision() string     { return or(m.sc.Identity.Revision, m.d.Revision) }
func (m *Modem) imei() string         { return or(m.sc.Identity.IMEI, m.d.IMEI) }

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// basicFlag reads the 0/1 value of a basic command (ATE, ATV).
func basicFlag(c Command) (bool, error) {
	switch c.Args {
	case "", "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, errPlain
}

func cmdEcho(m *Modem, c Command) ([]string, error) {
	v, err := basicFlag(c)
	if err == nil {
		m.echo = v
	}
	return nil, err
}

func cmdVerbose(m *Modem, c Command) ([]string, error) {
	v, err := basicFlag(c)
	if err == nil {
		m.verbose = v
	}
	return nil, err
}

// cmdReset is ATZ/AT&F: the stored profile comes back, which resets echo,
// error style and the URC settings (the trap warthog618's Init falls into).
func cmdReset(m *Modem, c Command) ([]string, error) {
	m.resetVolatile()
	return nil, nil
}

func cmdCMEE(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		return []string{fmt.Sprintf("+CMEE: %d", m.cmee)}, nil
	case OpTest:
		return []string{"+CMEE: (0-2)"}, nil
	case OpExec:
		m.cmee = 0
		return nil, nil
	}
	args, err := needArgs(c, 1, 1)
	if err != nil {
		return nil, err
	}
	n, ok := argInt(args[0], 0, 2)
	if !ok {
		return nil, badParams()
	}
	m.cmee = n
	return nil, nil
}

func cmdCPIN(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return nil, nil
	case OpRead:
		if err := m.simErr(); err != nil {
			return nil, err
		}
		return []string{"+CPIN: READY"}, nil
	case OpSet:
		if err := m.simErr(); err != nil {
			return nil, err
		}
		// No PIN is ever set on a simulated card.
		return nil, cmeError{cmeNotAllowed}
	}
	return nil, errPlain
}

func cmdCIMI(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return nil, nil
	case OpExec:
	default:
		return nil, errPlain
	}
	// The modem answers from what it read at SIM initialisation, which is
	// stale if it ignored a REFRESH (quirks.ignore_refresh).
	imsi := m.simIMSI
	if imsi == "" {
		return nil, cmeError{cmeSIMFailure}
	}
	return []string{m.d.CIMIPrefix + imsi}, nil
}

func cmdCCID(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	if c.Op == OpSet {
		return nil, errPlain
	}
	return []string{"+CCID: " + m.iccidText()}, nil
}

// iccidText is the ICCID as the dialect prints it.
func (m *Modem) iccidText() string {
	id := m.activeCard().ICCID()
	if m.d.ICCIDTrailingF && len(id) == 19 {
		id += "F"
	}
	return id
}

// Signal scalings, one underlying radio value per cell.

func csqRSSI(dbm float64) int {
	n := int(math.Round((dbm + 113) / 2))
	return clamp(n, 0, 31)
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

func cmdCSQ(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return []string{"+CSQ: (0-31,99),(0-7,99)"}, nil
	case OpExec:
	default:
		return nil, errPlain
	}
	n := m.campedNetwork()
	if n == nil {
		return []string{"+CSQ: 99,99"}, nil
	}
	return []string{fmt.Sprintf("+CSQ: %d,99", csqRSSI(m.radio(n).RSSI))}, nil
}

func cmdCESQ(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return []string{"+CESQ: (0-63,99),(0-7,99),(0-96,255),(0-49,255),(0-34,255),(0-97,255)"}, nil
	case OpExec:
	default:
		return nil, errPlain
	}
	n := m.campedNetwork()
	if n == nil {
		return []string{"+CESQ: 99,99,255,255,255,255"}, nil
	}
	r := m.radio(n)
	switch n.rat() {
	case RATGSM:
		return []string{fmt.Sprintf("+CESQ: %d,99,255,255,255,255", clamp(int(math.Round(r.RSSI+111)), 0, 63))}, nil
	case RATWCDMA:
		return []string{fmt.Sprintf("+CESQ: 99,99,%d,%d,255,255",
			clamp(int(math.Round(r.RSRP+121)), 0, 96), clamp(int(math.Round((r.RSRQ+24.5)*2)), 0, 49))}, nil
	}
	return []string{fmt.Sprintf("+CESQ: 99,99,255,255,%d,%d",
		clamp(int(math.Round((r.RSRQ+20)*2)), 0, 34), clamp(int(math.Round(r.RSRP+141)), 0, 97))}, nil
}

func latCOPS(m *Modem, c Command) time.Duration {
	switch c.Op {
	case OpTest:
		return m.sc.Timing.COPSScan
	case OpSet:
		// Mode 3 only chooses how +COPS? prints the operator (27.007 §7.3);
		// no network is touched, so it answers at the normal latency.
		if args, err := SplitArgs(c.Args); err == nil && len(args) > 0 {
			if mode, ok := argInt(args[0], 0, 4); ok && mode == 3 {
				return 0
			}
		}
		return m.sc.Timing.AttachDelay / 2
	}
	return 0
}

func (m *Modem) operName(n *network, format int) string {
	switch format {
	case 1:
		return n.cfg.Short
	case 2:
		return n.plmn
	}
	return n.cfg.Name
}

func cmdCOPS(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		if !m.reg.registered() {
			return []string{fmt.Sprintf("+COPS: %d", m.copsMode)}, nil
		}
		n := m.reg.net
		return []string{fmt.Sprintf(`+COPS: %d,%d,"%s",%d`, m.copsMode, m.copsFormat, m.operName(n, m.copsFormat), n.rat().act())}, nil
	case OpTest:
		if m.cfun != 1 {
			return nil, cmeError{cmeNoNetwork}
		}
		return []string{m.copsList()}, nil
	case OpExec:
		return nil, errPlain
	}
	args, err := needArgs(c, 1, 4)
	if err != nil {
		return nil, err
	}
	mode, ok := argInt(args[0], 0, 4)
	if !ok {
		return nil, badParams()
	}
	format := m.copsFormat
	if len(args) > 1 && !args[1].Empty {
		if format, ok = argInt(args[1], 0, 2); !ok {
			return nil, badParams()
		}
	}
	switch mode {
	case 3:
		m.copsFormat = format
		return nil, nil
	case 0, 2:
		m.copsMode, m.copsPLMN = mode, ""
		m.copsFormat = format
		m.afterResponse(m.evaluate)
		return nil, nil
	}
	if len(args) < 3 || args[2].Empty {
		return nil, badParams()
	}
	var target *network
	for _, n := range m.nets {
		if strings.EqualFold(m.operName(n, format), args[2].Text) {
			target = n
		}
	}
	if target == nil {
		return nil, cmeError{cmeNoNetwork}
	}
	m.copsMode, m.copsPLMN, m.copsFormat = mode, target.plmn, format
	if mode == 1 {
		sel := m.selectNetwork()
		if sel.net != target || (sel.stat != regHome && sel.stat != regRoaming) {
			m.afterResponse(m.evaluate)
			if sel.stat == regDenied {
				return nil, cmeError{111}
			}
			return nil, cmeError{cmeNoNetwork}
		}
	}
	m.afterResponse(m.evaluate)
	return nil, nil
}

// copsList renders the COPS=? answer: every audible network per RAT, with
// the current one as 2 and forbidden ones (EF_FPLMN, or a cause-11 reject
// since boot) as 3.
func (m *Modem) copsList() string {
	fpl := map[string]bool{}
	if card := m.activeCard(); card != nil && m.sim == simReady {
		for _, p := range card.FPLMN() {
			fpl[p] = true
		}
	}
	var parts []string
	for _, n := range m.nets {
		if n.down || n.cell.RAT == "" || !m.radio(n).usable(n.rat()) {
			continue
		}
		// One entry per RAT the network offers, the serving one first.
		rats := []RAT{n.rat()}
		for _, c := range n.cfg.Cells {
			r := RAT(strings.ToUpper(c.RAT))
			if !slices.Contains(rats, r) {
				rats = append(rats, r)
			}
		}
		for i, r := range rats {
			stat := 1
			switch {
			case fpl[n.plmn] || m.forbidden[n.plmn]:
				stat = 3
			case i == 0 && m.reg.registered() && m.reg.net == n:
				stat = 2
			}
			parts = append(parts, fmt.Sprintf(`(%d,"%s","%s","%s",%d)`, stat, n.cfg.Name, n.cfg.Short, n.plmn, r.act()))
		}
	}
	return "+COPS: " + strings.Join(parts, ",") + ",," + m.d.COPSModes
}

func regCmd(dom int) Handler {
	return func(m *Modem, c Command) ([]string, error) {
		prefix := domPrefix[dom]
		switch c.Op {
		case OpRead:
			n := m.regN[dom]
			return []string{fmt.Sprintf("%s%d,%s", prefix, n, m.regFields(dom, max(n, 1)))}, nil
		case OpTest:
			return []string{prefix + "(0-3)"}, nil
		case OpExec:
			m.regN[dom] = 0
			return nil, nil
		}
		args, err := needArgs(c, 1, 1)
		if err != nil {
			return nil, err
		}
		n, ok := argInt(args[0], 0, 3)
		if !ok {
			return nil, badParams()
		}
		m.regN[dom] = n
		if n > 0 {
			m.lastRegURC[dom] = prefix + m.regFields(dom, n)
		}
		return nil, nil
	}
}

func cmdCGATT(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		v := 0
		if m.reg.registered() {
			v = 1
		}
		return []string{fmt.Sprintf("+CGATT: %d", v)}, nil
	case OpTest:
		return []string{"+CGATT: (0,1)"}, nil
	case OpSet:
		args, err := needArgs(c, 1, 1)
		if err != nil {
			return nil, err
		}
		v, ok := argInt(args[0], 0, 1)
		if !ok {
			return nil, badParams()
		}
		if v == 1 && !m.reg.registered() {
			return nil, cmeError{cmeNoNetwork}
		}
		if v == 0 {
			m.teardownPDP(false)
		}
		return nil, nil
	}
	return nil, errPlain
}

func cmdCGDCONT(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		cids := make([]int, 0, len(m.nvm.cgdcont))
		for cid := range m.nvm.cgdcont {
			cids = append(cids, cid)
		}
		sort.Ints(cids)
		var out []string
		for _, cid := range cids {
			out = append(out, m.d.CGDCONTLine(m.nvm.cgdcont[cid]))
		}
		return out, nil
	case OpTest:
		return []string{`+CGDCONT: (1-15),"IP",,,(0-2),(0-4)`, `+CGDCONT: (1-15),"IPV6",,,(0-2),(0-4)`, `+CGDCONT: (1-15),"IPV4V6",,,(0-2),(0-4)`}, nil
	case OpExec:
		return nil, errPlain
	}
	args, err := SplitArgs(c.Args)
	if err != nil || len(args) < 1 {
		return nil, badParams()
	}
	cid, ok := argInt(args[0], 1, 15)
	if !ok {
		return nil, badParams()
	}
	if _, active := m.pdp[cid]; active {
		// A context cannot be redefined while it is active (Quectel §5.6).
		return nil, cmeError{cmeNotAllowed}
	}
	if len(args) == 1 {
		delete(m.nvm.cgdcont, cid)
		return nil, nil
	}
	typ := strings.ToUpper(args[1].Text)
	switch typ {
	case "IP", "IPV6", "IPV4V6", "PPP":
	default:
		return nil, badParams()
	}
	def := &pdpDef{cid: cid, typ: typ}
	if len(args) > 2 {
		def.apn = args[2].Text
	}
	m.nvm.cgdcont[cid] = def
	return nil, nil
}

func latCGACT(m *Modem, c Command) time.Duration {
	if c.Op == OpSet {
		return m.sc.Timing.PDPActivate
	}
	return 0
}

func cmdCGACT(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		cids := make([]int, 0, len(m.nvm.cgdcont))
		for cid := range m.nvm.cgdcont {
			cids = append(cids, cid)
		}
		sort.Ints(cids)
		var out []string
		for _, cid := range cids {
			st := 0
			if _, ok := m.pdp[cid]; ok {
				st = 1
			}
			out = append(out, fmt.Sprintf("+CGACT: %d,%d", cid, st))
		}
		return out, nil
	case OpTest:
		return []string{"+CGACT: (0,1)"}, nil
	case OpExec:
		return nil, errPlain
	}
	args, err := needArgs(c, 1, 16)
	if err != nil {
		return nil, err
	}
	state, ok := argInt(args[0], 0, 1)
	if !ok {
		return nil, badParams()
	}
	var cids []int
	for _, a := range args[1:] {
		cid, ok := argInt(a, 1, 15)
		if !ok {
			return nil, badParams()
		}
		cids = append(cids, cid)
	}
	if len(cids) == 0 {
		for cid := range m.nvm.cgdcont {
			cids = append(cids, cid)
		}
		sort.Ints(cids)
	}
	m.accrue()
	defer m.accrue()
	for _, cid := range cids {
		if _, ok := m.nvm.cgdcont[cid]; !ok {
			return nil, cmeError{cmeInvalidIndex}
		}
		_, active := m.pdp[cid]
		switch {
		case state == 1 && !active:
			if !m.reg.registered() {
				return nil, cmeError{cmeNoNetwork}
			}
			if m.reg.net.coreDown {
				// Registered, but the core never answers the PDN request.
				return nil, cmeError{cmeNetTimeout}
			}
			m.pdp[cid] = &pdpContext{cid: cid, addr: m.newAddress()}
			m.usage.sessions++
			if m.cgerep > 0 {
				cid := cid
				m.afterResponse(func() { m.urc(fmt.Sprintf("+CGEV: ME PDN ACT %d", cid)) })
			}
		case state == 0 && active:
			delete(m.pdp, cid)
			if m.cgerep > 0 {
				cid := cid
				m.afterResponse(func() { m.urc(fmt.Sprintf("+CGEV: ME PDN DEACT %d", cid)) })
			}
		}
	}
	return nil, nil
}

func cmdCGPADDR(m *Modem, c Command) ([]string, error) {
	var cids []int
	switch c.Op {
	case OpTest:
		var ids []string
		for cid := range m.nvm.cgdcont {
			ids = append(ids, strconv.Itoa(cid))
		}
		sort.Strings(ids)
		return []string{"+CGPADDR: (" + strings.Join(ids, ",") + ")"}, nil
	case OpExec:
		for cid := range m.nvm.cgdcont {
			cids = append(cids, cid)
		}
		sort.Ints(cids)
	case OpSet:
		args, err := needArgs(c, 1, 16)
		if err != nil {
			return nil, err
		}
		for _, a := range args {
			cid, ok := argInt(a, 1, 15)
			if !ok {
				return nil, badParams()
			}
			cids = append(cids, cid)
		}
	default:
		return nil, errPlain
	}
	var out []string
	for _, cid := range cids {
		if _, ok := m.nvm.cgdcont[cid]; !ok {
			if c.Op == OpSet {
				return nil, cmeError{cmeInvalidIndex}
			}
			continue
		}
		addr := "0.0.0.0"
		if p, ok := m.pdp[cid]; ok {
			addr = p.addr
		}
		if m.d.CGPADDRQuoted {
			addr = quote(addr)
		}
		out = append(out, fmt.Sprintf("+CGPADDR: %d,%s", cid, addr))
	}
	return out, nil
}

func cmdCGEREP(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		return []string{fmt.Sprintf("+CGEREP: %d,0", m.cgerep)}, nil
	case OpTest:
		return []string{"+CGEREP: (0-2),(0,1)"}, nil
	case OpExec:
		m.cgerep = 0
		return nil, nil
	}
	args, err := needArgs(c, 1, 2)
	if err != nil {
		return nil, err
	}
	n, ok := argInt(args[0], 0, 2)
	if !ok {
		return nil, badParams()
	}
	m.cgerep = n
	return nil, nil
}

func latCFUN(m *Modem, c Command) time.Duration {
	if c.Op == OpSet {
		return m.sc.Timing.CFUN
	}
	return 0
}

func cmdCFUN(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		return []string{fmt.Sprintf("+CFUN: %d", m.cfun)}, nil
	case OpTest:
		return []string{"+CFUN: (0,1,4),(0-1)"}, nil
	case OpExec:
		return nil, errPlain
	}
	args, err := needArgs(c, 1, 2)
	if err != nil {
		return nil, err
	}
	fun, ok := argInt(args[0], 0, 127)
	if !ok || (fun != 0 && fun != 1 && fun != 4) {
		return nil, badParams()
	}
	rst := 0
	if len(args) == 2 {
		if rst, ok = argInt(args[1], 0, 1); !ok {
			return nil, badParams()
		}
	}
	if rst == 1 {
		if fun != 1 {
			return nil, badParams()
		}
		m.afterResponse(func() { m.rebootLocked(m.d.USB) })
		return nil, nil
	}
	m.setCFUN(fun)
	if fun == 0 && m.sc.Quirks.CFUN0DropsPort {
		m.afterResponse(func() { m.dropPort(m.sc.Timing.PortDown) })
	}
	return nil, nil
}

// setCFUN moves between minimum (0), full (1) and RF-off (4) functionality.
func (m *Modem) setCFUN(fun int) {
	prev := m.cfun
	if fun == prev {
		return
	}
	card := m.activeCard()
	now := m.clk.Now()
	m.cfun = fun
	switch fun {
	case 0:
		m.teardownPDP(false)
		m.stop(m.attachTimer)
		m.attachTimer = nil
		m.reg = regState{stat: regNotSearching}
		m.snapRegURCs()
		if card != nil {
			// The SIM is powered down: a UICC reset when it comes back.
			card.PowerOff(now)
			card.Reset()
			m.sim = simOff
		}
		m.gen++
	case 4:
		if prev == 0 {
			m.simInit(false)
		} else if card != nil {
			card.PowerOff(now)
		}
		m.teardownPDP(false)
		m.evaluate()
	case 1:
		if prev == 0 {
			m.simInit(false)
			return
		}
		if card != nil {
			card.PowerOn(now)
		}
		m.evaluate()
	}
}

func cmdCEER(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	if m.lastCause == "" {
		return []string{"+CEER: " + m.d.CEERDefault}, nil
	}
	return []string{"+CEER: " + quote(m.lastCause)}, nil
}

// hexArg decodes a hex APDU argument and checks it against a length that
// counts hex characters (27.007 +CSIM/+CGLA).
func hexArg(lenArg, data Arg) ([]byte, error) {
	n, ok := argInt(lenArg, 0, 2*261)
	if !ok || n != len(data.Text) || n%2 != 0 {
		return nil, badParams()
	}
	b, err := hex.DecodeString(data.Text)
	if err != nil {
		return nil, badParams()
	}
	return b, nil
}

func hexUpper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

func cmdCSIM(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	if c.Op != OpSet {
		return nil, errPlain
	}
	args, err := needArgs(c, 2, 2)
	if err != nil {
		return nil, err
	}
	apdu, err := hexArg(args[0], args[1])
	if err != nil {
		return nil, err
	}
	if len(apdu) < 4 {
		return nil, badParams()
	}
	resp := m.activeCard().Transmit(apdu)
	m.afterResponse(m.checkRefresh)
	return []string{fmt.Sprintf(`+CSIM: %d,"%s"`, 2*len(resp), hexUpper(resp))}, nil
}

func cmdCRSM(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	if c.Op != OpSet {
		return nil, errPlain
	}
	args, err := needArgs(c, 1, 7)
	if err != nil {
		return nil, err
	}
	vals := make([]int, 5)
	limits := []int{255, 0xFFFF, 255, 255, 255}
	for i := 0; i < 5 && i < len(args); i++ {
		if args[i].Empty {
			continue
		}
		v, ok := argInt(args[i], 0, limits[i])
		if !ok {
			return nil, badParams()
		}
		vals[i] = v
	}
	switch vals[0] {
	case 176, 178, 192, 214, 220, 242:
	default:
		return nil, badParams()
	}
	var data []byte
	if len(args) > 5 && !args[5].Empty {
		if data, err = hex.DecodeString(args[5].Text); err != nil {
			return nil, badParams()
		}
	}
	resp, sw := m.activeCard().CRSM(vals[0], uint16(vals[1]), vals[2], vals[3], vals[4], data)
	line := fmt.Sprintf("+CRSM: %d,%d", sw.SW1(), sw.SW2())
	if len(resp) > 0 {
		if m.d.CRSMQuoted {
			line += "," + quote(hexUpper(resp))
		} else {
			line += "," + hexUpper(resp)
		}
	}
	m.afterResponse(m.checkRefresh)
	return []string{line}, nil
}

func channelErr(err error) error {
	switch {
	case errors.Is(err, sim.ErrNoChannel):
		return cmeError{cmeMemoryFull}
	case errors.Is(err, sim.ErrInvalidChannel):
		return cmeError{cmeInvalidIndex}
	case errors.Is(err, sim.ErrAIDNotFound):
		return cmeError{cmeNotFound}
	}
	return cmeError{cmeBadParams}
}

func cmdCCHO(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		if m.d.ChannelTestError || m.sc.Quirks.ChannelTestError {
			return nil, errPlain
		}
		return nil, nil
	}
	if c.Op != OpSet {
		return nil, errPlain
	}
	args, err := needArgs(c, 1, 1)
	if err != nil {
		return nil, err
	}
	aid, err := hex.DecodeString(args[0].Text)
	if err != nil || len(aid) < 1 || len(aid) > 16 {
		return nil, badParams()
	}
	ch, err := m.activeCard().OpenChannel(aid)
	if err != nil {
		return nil, channelErr(err)
	}
	return []string{m.d.CCHOLine(ch)}, nil
}

func cmdCGLA(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		if m.d.ChannelTestError || m.sc.Quirks.ChannelTestError {
			return nil, errPlain
		}
		return nil, nil
	}
	if c.Op != OpSet {
		return nil, errPlain
	}
	args, err := needArgs(c, 3, 3)
	if err != nil {
		return nil, err
	}
	ch, ok := argInt(args[0], 0, 19)
	if !ok {
		return nil, badParams()
	}
	apdu, err := hexArg(args[1], args[2])
	if err != nil {
		return nil, err
	}
	if len(apdu) < 4 {
		return nil, badParams()
	}
	resp, err := m.activeCard().TransmitChannel(ch, apdu)
	if err != nil {
		return nil, channelErr(err)
	}
	m.afterResponse(m.checkRefresh)
	return []string{fmt.Sprintf(`+CGLA: %d,"%s"`, 2*len(resp), hexUpper(resp))}, nil
}

func cmdCCHC(m *Modem, c Command) ([]string, error) {
	if m.sc.Quirks.NoCCHC {
		return nil, errPlain
	}
	if c.Op == OpTest {
		return nil, nil
	}
	if c.Op != OpSet {
		return nil, errPlain
	}
	args, err := needArgs(c, 1, 1)
	if err != nil {
		return nil, err
	}
	ch, ok := argInt(args[0], 1, 19)
	if !ok {
		return nil, badParams()
	}
	if err := m.activeCard().CloseChannel(ch); err != nil {
		return nil, channelErr(err)
	}
	if m.d.CCHCEcho {
		return []string{"+CCHC"}, nil
	}
	return nil, nil
}

// ws46Masks are the 27.007 §5.9 +WS46 values and the RATs each allows.
var ws46Masks = map[int]ratMask{
	12: maskGSM,
	22: maskWCDMA,
	25: maskAll,
	28: maskLTE,
	29: maskGSM | maskWCDMA,
	30: maskGSM | maskLTE,
	31: maskWCDMA | maskLTE,
}

// cmdWS46 is the 27.007 RAT selection. It writes the same NVM RAT
// preference as Quectel's nwscanmode and SIMCom's CNMP, so registration
// honours it the same way (an LTE-only modem never camps on GSM).
func cmdWS46(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return []string{"+WS46: (12,22,25,28,29,30,31)"}, nil
	case OpRead:
		for n, mask := range ws46Masks {
			if mask == m.nvm.ratMask {
				return []string{fmt.Sprintf("+WS46: %d", n)}, nil
			}
		}
		return []string{"+WS46: 25"}, nil
	case OpExec:
		return nil, errPlain
	}
	args, err := needArgs(c, 0, 1)
	if err != nil {
		return nil, err
	}
	n := 25 // "+WS46=" with <n> omitted: the default, every RAT
	if len(args) == 1 && !args[0].Empty {
		v, ok := argInt(args[0], 0, 255)
		if _, known := ws46Masks[v]; !ok || !known {
			return nil, badParams()
		}
		n = v
	}
	m.nvm.ratMask = ws46Masks[n]
	m.afterResponse(m.evaluate)
	return nil, nil
}

// simRetries is PIN1's and PUK1's remaining attempts. A real MT reads them
// from the card (VERIFY / UNBLOCK PIN with an empty data field answer 63CX,
// TS 102 221 §11.1.9) and keeps them; asking the card here on every query
// would disturb a client's pending GET RESPONSE on the basic channel, so
// the modem reads the card's counters directly.
func (m *Modem) simRetries() (pin, puk int, ok bool) {
	c := m.activeCard()
	if c == nil {
		return 0, 0, false
	}
	pin, puk = c.PINRetries()
	return pin, puk, true
}

// cmdCPINR is 27.007 §8.65: AT+CPINR[=<sel_code>] lists
// "+CPINR: <code>,<retries>,<default_retries>" for the matching codes
// (wildcards * and ? allowed). The card has PIN1 and PUK1 only.
func cmdCPINR(m *Modem, c Command) ([]string, error) {
	sel := "*"
	switch c.Op {
	case OpTest:
		return nil, nil
	case OpExec:
	case OpSet:
		args, err := needArgs(c, 1, 1)
		if err != nil {
			return nil, err
		}
		sel = args[0].Text
	default:
		return nil, errPlain
	}
	pin, puk, ok := m.simRetries()
	if !ok {
		return nil, cmeError{cmeSIMFailure}
	}
	var out []string
	for _, e := range []struct {
		code       string
		n, initial int
	}{{"SIM PIN", pin, 3}, {"SIM PUK", puk, 10}} {
		if match, _ := path.Match(strings.ToUpper(sel), e.code); match {
			out = append(out, fmt.Sprintf("+CPINR: %s,%d,%d", e.code, e.n, e.initial))
		}
	}
	return out, nil
}
