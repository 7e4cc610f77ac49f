package simulator

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Quectel EG25-G / EC25, following the Quectel AT manuals' shapes.

var quectelCMEText = map[int]string{
	0:   "Phone failure",
	3:   "Operation not allowed",
	4:   "Operation not supported",
	10:  "(U)SIM not inserted",
	11:  "(U)SIM PIN required",
	12:  "(U)SIM PUK required",
	13:  "(U)SIM failure",
	14:  "(U)SIM busy",
	15:  "(U)SIM wrong",
	20:  "Memory full",
	21:  "Invalid index",
	22:  "Not found",
	30:  "No network service",
	31:  "Network timeout",
	50:  "Incorrect parameters",
	100: "Unknown",
	111: "PLMN not allowed",
}

func quectelCommands(slotSpelling string) map[string]CommandSpec {
	return map[string]CommandSpec{
		"+QCCID":      {Handle: cmdQCCID, NeedSIM: true},
		"+QENG":       {Handle: cmdQENG},
		"+QNWINFO":    {Handle: cmdQNWINFO},
		"+QCSQ":       {Handle: cmdQCSQ},
		"+QCFG":       {Handle: cmdQCFG},
		"+QUIMSLOT":   {Handle: qslot(slotSpelling)},
		"+QGDCNT":     {Handle: cmdQGDCNT},
		"+QINISTAT":   {Handle: cmdQINISTAT},
		"+QSIMSTAT":   {Handle: cmdQSIMSTAT},
		"+QNETRC":     {Handle: cmdQNETRC},
		"+QURCCFG":    {Handle: cmdQStore("urccfg")},
		"+QSIMDET":    {Handle: cmdQStore("simdet")},
		"+QINDCFG":    {Handle: cmdQINDCFG},
		"+QNETDEVCTL": {Handle: cmdQNETDEVCTL},
		// Retry counters come from +QPINC on Quectel (EC25/EG25 AT manual,
		// AT+QPINC; ModemManager's quectel plugin reads them there), not
		// from 27.007 +CPINR.
		"+QPINC": {Handle: cmdQPINC, NeedSIM: true},
		"+CPINR": {},
		// AT+WS46=?/? as 27.007 §5.9: ModemManager learns from the E-UTRAN
		// values (28, 30, 31) that a "+GCAP: +CGSM" modem also does LTE,
		// and only then polls +CEREG (mm-broadband-modem.c, current
		// capabilities). The set form selects RATs like +QCFG "nwscanmode".
		"+WS46": {Handle: cmdWS46},
		// "+CBC: <bcs>,<bcl>,<voltage>", the supply in mV (EC25/EG25 AT
		// manual, AT+CBC).
		"+CBC": {Handle: func(m *Modem, c Command) ([]string, error) {
			if c.Op == OpExec {
				return []string{"+CBC: 0,100,3800"}, nil
			}
			return cmdCBC(m, c)
		}},
	}
}

// cmdQPINC: AT+QPINC=<facility> answers "+QPINC: <facility>,<pincounter>,
// <pukcounter>"; the read form lists every facility; the test form lists
// ("SC","P2") (Quectel EC25/EG25 AT manual, AT+QPINC). The counters are
// the card's (what its VERIFY / UNBLOCK PIN report). The card has no PIN2.
func cmdQPINC(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return []string{`+QPINC: ("SC","P2")`}, nil
	case OpRead, OpSet:
	default:
		return nil, errPlain
	}
	if c.Op == OpSet {
		args, err := needArgs(c, 1, 1)
		if err != nil {
			return nil, err
		}
		switch strings.ToUpper(args[0].Text) {
		case "SC":
		case "P2":
			return nil, cmeError{cmeNotSupported}
		default:
			return nil, badParams()
		}
	}
	pin, puk, ok := m.simRetries()
	if !ok {
		return nil, cmeError{cmeSIMFailure}
	}
	return []string{fmt.Sprintf(`+QPINC: "SC",%d,%d`, pin, puk)}, nil
}

func quectelATI(m *Modem) []string {
	return []string{m.manufacturer(), m.model(), "Revision: " + m.revision()}
}

func quectelCGDCONT(p *pdpDef) string {
	return fmt.Sprintf(`+CGDCONT: %d,"%s","%s","0.0.0.0",0,0,0,0`, p.cid, p.typ, p.apn)
}

var quectelBoot = []URCStep{{1500 * time.Millisecond, "RDY"}, {0, "+CFUN: 1"}}
var quectelSIMReady = []URCStep{
	{200 * time.Millisecond, "+QUSIM: 1"},
	{1800 * time.Millisecond, "+QIND: SMS DONE"},
	{500 * time.Millisecond, "+QIND: PB DONE"},
}

func init() {
	RegisterDialect(&Dialect{
		Name:           "quectel-eg25",
		CSCSDefault:    "GSM", // the EC25/EG25 manual's factory default
		Manufacturer:   "Quectel",
		Model:          "EG25",
		Revision:       "EG25GGBR07A08M2G",
		IMEI:           "866834040000017",
		CMEText:        quectelCMEText,
		ICCIDTrailingF: false,
		CRSMQuoted:     true,
		CGPADDRQuoted:  true,
		COPSModes:      "(0,1,2,3,4),(0,1,2)",
		CEERDefault:    `"No cause information available"`,
		USB:            true,
		// The LTE servingcell line has 18 fields on EG25-G/EC25/EP06
		// firmware: no <CQI>,<tx_power> between <SINR> and <srxlev>.
		// Published 18-field answers: the EP06-A line of
		// at-and-sim-mechanics.md §3.1, an EP06-E in
		// 4IceG/luci-app-3ginfo-lite#111 ("...,3AC9,-86,-13,-52,15,-"),
		// an EC200T in #43 ("...,5443,-87,-16,-69,5,34"). The 20-field
		// layout is the manual's generic one ("...,11,-,-,27").
		QENGFields:   18,
		BootURCs:     quectelBoot,
		SIMReadyURCs: quectelSIMReady,
		ATI:          quectelATI,
		CGDCONTLine:  quectelCGDCONT,
		CCHOLine:     func(ch int) string { return fmt.Sprintf("+CCHO: %d", ch) },
		OnSIM:        quectelOnSIM,
		Observe:      quectelObserve,
		// The EG25 manual's example spells the read reply +QUSIMSLOT.
		Commands: quectelCommands("+QUSIMSLOT"),
	}, "quectel", "quectel-eg25-g")
	RegisterDialect(&Dialect{
		Name:           "quectel-ec25",
		CSCSDefault:    "GSM",
		Manufacturer:   "Quectel",
		Model:          "EC25",
		Revision:       "EC25EFAR06A06M4G",
		IMEI:           "866834040000025",
		CMEText:        quectelCMEText,
		ICCIDTrailingF: true,
		CRSMQuoted:     true,
		CGPADDRQuoted:  true,
		COPSModes:      "(0,1,2,3,4),(0,1,2)",
		CEERDefault:    `"No cause information available"`,
		USB:            true,
		QENGFields:     18,
		BootURCs:       quectelBoot,
		SIMReadyURCs:   quectelSIMReady,
		ATI:            quectelATI,
		CGDCONTLine:    quectelCGDCONT,
		CCHOLine:       func(ch int) string { return fmt.Sprintf("+CCHO: %d", ch) },
		OnSIM:          quectelOnSIM,
		Observe:        quectelObserve,
		Commands:       quectelCommands("+QUIMSLOT"),
	})
}

func cmdQCCID(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	if c.Op != OpExec {
		return nil, errPlain
	}
	return []string{"+QCCID: " + m.iccidText()}, nil
}

func round(f float64) int { return int(math.Round(f)) }

// qengState is the servingcell <state> field.
func (m *Modem) qengState(n *network) string {
	switch {
	case m.reg.registered() && m.reg.net == n && len(m.pdp) > 0:
		return "CONNECT"
	case m.reg.registered() && m.reg.net == n:
		return "NOCONN"
	}
	return "LIMSRV"
}

func cmdQENG(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return []string{`+QENG: ("servingcell","neighbourcell")`}, nil
	}
	if c.Op != OpSet {
		return nil, errPlain
	}
	args, err := needArgs(c, 1, 1)
	if err != nil {
		return nil, err
	}
	n := m.campedNetwork()
	switch strings.ToLower(args[0].Text) {
	case "servingcell":
		if n == nil {
			return []string{`+QENG: "servingcell","SEARCH"`}, nil
		}
		return []string{m.qengServing(n)}, nil
	case "neighbourcell":
		if n == nil || n.rat() != RATLTE {
			return nil, nil
		}
		var out []string
		for _, nb := range n.cell.Neighbours {
			rssi := round(nb.RSRP + 27)
			srx := max(round(nb.RSRP+140), 0)
			if nb.EARFCN == n.cell.EARFCN || nb.EARFCN == 0 {
				out = append(out, fmt.Sprintf(`+QENG: "neighbourcell intra","LTE",%d,%d,%d,%d,%d,0,%d,7,16,6,44`,
					n.cell.EARFCN, nb.PCI, round(nb.RSRQ), round(nb.RSRP), rssi, srx))
			} else {
				out = append(out, fmt.Sprintf(`+QENG: "neighbourcell inter","LTE",%d,%d,%d,%d,%d,0,%d,0,30,7`,
					nb.EARFCN, nb.PCI, round(nb.RSRQ), round(nb.RSRP), rssi, srx))
			}
		}
		return out, nil
	}
	return nil, badParams()
}

func (m *Modem) qengServing(n *network) string {
	r := m.radio(n)
	c := n.cell
	st := m.qengState(n)
	switch n.rat() {
	case RATGSM:
		return fmt.Sprintf(`+QENG: "servingcell","%s","GSM",%s,%s,%X,%X,%d,%d,-,%d,255,255,0,53,179,1,-,-,-,-,-,-,-,-,-,"-"`,
			st, n.mcc(), n.mnc(), c.TAC, c.CI, c.PCI, c.EARFCN, round(r.RSSI))
	case RATWCDMA:
		return fmt.Sprintf(`+QENG: "servingcell","%s","WCDMA",%s,%s,%X,%X,%d,%d,0,%d,%d,-,-,-,-,-`,
			st, n.mcc(), n.mnc(), c.TAC, c.CI, c.EARFCN, c.PCI, round(r.RSRP), round(r.RSRQ))
	}
	srx := max(round(r.RSRP+140), 0)
	head := fmt.Sprintf(`+QENG: "servingcell","%s","LTE","FDD",%s,%s,%X,%d,%d,%d,5,5,%X,%d,%d,%d,%d`,
		st, n.mcc(), n.mnc(), c.CI, c.PCI, c.EARFCN, c.Band, c.TAC, round(r.RSRP), round(r.RSRQ), round(r.RSSI), round(r.SINR))
	if m.d.QENGFields == 18 {
		return head + fmt.Sprintf(",%d", srx)
	}
	return head + fmt.Sprintf(",-,-,%d", srx)
}

func cmdQNWINFO(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	if c.Op != OpExec {
		return nil, errPlain
	}
	if !m.reg.registered() {
		return []string{"+QNWINFO: No Service"}, nil
	}
	n := m.reg.net
	cl := n.cell
	switch n.rat() {
	case RATGSM:
		return []string{fmt.Sprintf(`+QNWINFO: "GSM","%s","GSM %d",%d`, n.plmn, cl.Band, cl.EARFCN)}, nil
	case RATWCDMA:
		return []string{fmt.Sprintf(`+QNWINFO: "WCDMA","%s","WCDMA %d",%d`, n.plmn, cl.Band, cl.EARFCN)}, nil
	}
	return []string{fmt.Sprintf(`+QNWINFO: "FDD LTE","%s","LTE BAND %d",%d`, n.plmn, cl.Band, cl.EARFCN)}, nil
}

func cmdQCSQ(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return []string{`+QCSQ: ("NOSERVICE","GSM","WCDMA","LTE")`}, nil
	}
	if c.Op != OpExec {
		return nil, errPlain
	}
	n := m.campedNetwork()
	if n == nil {
		return []string{`+QCSQ: "NOSERVICE"`}, nil
	}
	r := m.radio(n)
	switch n.rat() {
	case RATGSM:
		return []string{fmt.Sprintf(`+QCSQ: "GSM",%d`, round(r.RSSI))}, nil
	case RATWCDMA:
		return []string{fmt.Sprintf(`+QCSQ: "WCDMA",%d,%d,%d`, round(r.RSSI), round(r.RSRP), round(r.RSRQ))}, nil
	}
	// SINR is reported raw: dB = raw/5 - 20.
	sinrRaw := clamp(round((r.SINR+20)*5), 0, 250)
	return []string{fmt.Sprintf(`+QCSQ: "LTE",%d,%d,%d,%d`, round(r.RSSI), round(r.RSRP), sinrRaw, round(r.RSRQ))}, nil
}

var nwscanMasks = map[int]ratMask{0: maskAll, 1: maskGSM, 2: maskWCDMA, 3: maskLTE}

func cmdQCFG(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return []string{`+QCFG: "nwscanmode",(0-3),(0,1)`, `+QCFG: "usbnet",(0-3)`}, nil
	}
	if c.Op != OpSet {
		return nil, errPlain
	}
	args, err := needArgs(c, 1, -1)
	if err != nil {
		return nil, err
	}
	key := strings.ToLower(args[0].Text)
	if !args[0].Quoted || key == "" {
		return nil, badParams()
	}
	if key == "nwscanmode" {
		if len(args) == 1 {
			return []string{fmt.Sprintf(`+QCFG: "nwscanmode",%d`, m.nvm.nwscan)}, nil
		}
		v, ok := argInt(args[1], 0, 3)
		if !ok {
			return nil, badParams()
		}
		m.nvm.nwscan = v
		m.nvm.ratMask = nwscanMasks[v]
		m.afterResponse(m.evaluate)
		return nil, nil
	}
	if len(args) == 1 {
		v, ok := m.nvm.qcfg[key]
		if !ok {
			if key == "usbnet" {
				v = "0"
			} else {
				return nil, badParams()
			}
		}
		return []string{fmt.Sprintf(`+QCFG: "%s",%s`, key, v)}, nil
	}
	_, rest, _ := strings.Cut(c.Args, ",")
	m.nvm.qcfg[key] = rest
	return nil, nil
}

// cmdQStore keeps a setting in NVM and reads it back verbatim.
func cmdQStore(key string) Handler {
	return func(m *Modem, c Command) ([]string, error) {
		switch c.Op {
		case OpSet:
			m.nvm.qcfg["#"+key] = c.Args
			return nil, nil
		case OpRead:
			v, ok := m.nvm.qcfg["#"+key]
			if !ok {
				return nil, cmeError{cmeNotFound}
			}
			return []string{"+Q" + strings.ToUpper(key) + ": " + v}, nil
		case OpTest:
			return nil, nil
		}
		return nil, errPlain
	}
}

func qslot(prefix string) Handler {
	return func(m *Modem, c Command) ([]string, error) {
		switch c.Op {
		case OpRead:
			return []string{fmt.Sprintf("%s: %d", prefix, m.slot+1)}, nil
		case OpTest:
			return []string{"+QUIMSLOT: (1,2)"}, nil
		case OpSet:
			args, err := needArgs(c, 1, 1)
			if err != nil {
				return nil, err
			}
			s, ok := argInt(args[0], 1, 2)
			if !ok {
				return nil, badParams()
			}
			if s-1 != m.slot {
				m.afterResponse(func() { m.switchSlot(s - 1) })
			}
			return nil, nil
		}
		return nil, errPlain
	}
}

func cmdQGDCNT(m *Modem, c Command) ([]string, error) {
	m.accrue()
	switch c.Op {
	case OpRead:
		return []string{fmt.Sprintf("+QGDCNT: %d,%d", int64(m.usage.tx), int64(m.usage.rx))}, nil
	case OpTest:
		return []string{"+QGDCNT: (0,1)"}, nil
	case OpSet:
		args, err := needArgs(c, 1, 1)
		if err != nil {
			return nil, err
		}
		v, ok := argInt(args[0], 0, 1)
		if !ok {
			return nil, badParams()
		}
		if v == 0 {
			m.usage.tx, m.usage.rx = 0, 0
		}
		return nil, nil
	}
	return nil, errPlain
}

func cmdQINISTAT(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	v := 0
	if m.sim == simReady {
		v = 7
	}
	return []string{fmt.Sprintf("+QINISTAT: %d", v)}, nil
}

func cmdQSIMSTAT(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		ins := 0
		if m.activeCard() != nil {
			ins = 1
		}
		return []string{fmt.Sprintf("+QSIMSTAT: %d,%d", m.nvm.simStatE, ins)}, nil
	case OpTest:
		return []string{"+QSIMSTAT: (0,1)"}, nil
	case OpSet:
		args, err := needArgs(c, 1, 1)
		if err != nil {
			return nil, err
		}
		v, ok := argInt(args[0], 0, 1)
		if !ok {
			return nil, badParams()
		}
		m.nvm.simStatE = v
		return nil, nil
	}
	return nil, errPlain
}

func cmdQNETRC(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	cause := 0
	if m.reg.stat == regDenied {
		cause = m.reg.cause
	}
	return []string{fmt.Sprintf(`+QNETRC: "emm_cause",%d`, cause), `+QNETRC: "esm_cause",0`}, nil
}

// quectelOnSIM sends +QSIMSTAT hot-plug URCs once AT+QSIMSTAT=1 enabled them.
func quectelOnSIM(m *Modem, ev SIMEvent) {
	if m.nvm.simStatE != 1 {
		return
	}
	switch ev {
	case SIMRemoved:
		m.urc("+QSIMSTAT: 1,0")
	case SIMInserted:
		m.urc("+QSIMSTAT: 1,1")
	}
}

// qindTypes are the +QINDCFG URC types of the EC2x/EG2x manual with their
// factory defaults; "all" is the main switch over the others.
var qindTypes = map[string]bool{
	"all":         true,
	"csq":         false,
	"smsfull":     false,
	"ring":        true,
	"smsincoming": true,
	"act":         false,
	"ccinfo":      false,
}

var qindOrder = []string{"all", "csq", "smsfull", "ring", "smsincoming", "act", "ccinfo"}

// qindOn reports whether URC type t is enabled: the volatile setting, else
// the one saved to NVM, else the factory default.
func (m *Modem) qindOn(t string) bool {
	def := "0"
	if v, ok := m.nvm.qcfg["qindcfg:"+t]; ok {
		def = v
	} else if qindTypes[t] {
		def = "1"
	}
	return m.volatile("qindcfg:"+t, def) == "1"
}

// cmdQINDCFG: AT+QINDCFG=<urctype>[,<enable>[,<savetomem>]]. With the type
// alone it reads the setting back; savetomem=1 keeps it across a reset.
func cmdQINDCFG(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		out := make([]string, 0, len(qindOrder))
		for _, t := range qindOrder {
			out = append(out, fmt.Sprintf(`+QINDCFG: "%s",(0,1),(0,1)`, t))
		}
		return out, nil
	case OpSet:
	default:
		return nil, errPlain
	}
	args, err := needArgs(c, 1, 3)
	if err != nil {
		return nil, err
	}
	t := strings.ToLower(args[0].Text)
	if _, ok := qindTypes[t]; !ok || !args[0].Quoted {
		return nil, badParams()
	}
	if len(args) == 1 {
		v := 0
		if m.qindOn(t) {
			v = 1
		}
		return []string{fmt.Sprintf(`+QINDCFG: "%s",%d`, t, v)}, nil
	}
	on, ok := argInt(args[1], 0, 1)
	if !ok {
		return nil, badParams()
	}
	save := 0
	if len(args) == 3 {
		if save, ok = argInt(args[2], 0, 1); !ok {
			return nil, badParams()
		}
	}
	v := fmt.Sprint(on)
	m.setVolatile("qindcfg:"+t, v)
	if save == 1 {
		m.nvm.qcfg["qindcfg:"+t] = v
	}
	// Report changes from now on, not the state that held before.
	m.qindSnapshot()
	return nil, nil
}

// qindNow is what +QIND: "csq" and "act" would report now.
func (m *Modem) qindNow() (csq, act string) {
	n := m.campedNetwork()
	if n == nil {
		return "99,99", `"UNKNOWN"`
	}
	csq = fmt.Sprintf("%d,99", csqRSSI(m.radio(n).RSSI))
	if !m.reg.registered() || m.reg.net != n {
		return csq, `"UNKNOWN"`
	}
	switch n.rat() {
	case RATGSM:
		return csq, `"GSM"`
	case RATWCDMA:
		return csq, `"WCDMA"`
	}
	return csq, `"LTE"`
}

func (m *Modem) qindSnapshot() {
	csq, act := m.qindNow()
	m.setVolatile("qind:csq", csq)
	m.setVolatile("qind:act", act)
}

// quectelObserve sends +QIND: "csq" and "act" for what changed, as far as
// +QINDCFG enabled them.
func quectelObserve(m *Modem) {
	if m.vol["qind:csq"] == "" {
		// First run after a reset: only a change from here on is news.
		m.qindSnapshot()
		return
	}
	csq, act := m.qindNow()
	all := m.qindOn("all")
	if csq != m.vol["qind:csq"] {
		m.setVolatile("qind:csq", csq)
		if all && m.qindOn("csq") {
			m.urc(`+QIND: "csq",` + csq)
		}
	}
	if act != m.vol["qind:act"] {
		m.setVolatile("qind:act", act)
		if all && m.qindOn("act") {
			m.urc(`+QIND: "act",` + act)
		}
	}
}

// cmdQNETDEVCTL: AT+QNETDEVCTL=<op>,<cid>,<urc_en> connects (op 1) or
// disconnects (op 0) the ECM/RNDIS data call on a defined context. The
// state is volatile: a reset forgets it, as on the real module. Read:
// "+QNETDEVCTL: <op>,<cid>,<urc_en>,<state>", state 1 while the context is
// active.
func cmdQNETDEVCTL(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return []string{"+QNETDEVCTL: (0-3),(1-16),(0,1)"}, nil
	case OpRead:
		v := m.vol[volDataCall]
		if v == "" {
			return []string{"+QNETDEVCTL: 0,0,0,0"}, nil
		}
		var cid int
		fmt.Sscanf(v, "1,%d", &cid)
		st := 0
		if _, ok := m.pdp[cid]; ok {
			st = 1
		}
		return []string{fmt.Sprintf("+QNETDEVCTL: %s,%d", v, st)}, nil
	case OpExec:
		return nil, errPlain
	}
	args, err := needArgs(c, 2, 3)
	if err != nil {
		return nil, err
	}
	op, ok1 := argInt(args[0], 0, 3)
	cid, ok2 := argInt(args[1], 1, 16)
	if !ok1 || !ok2 {
		return nil, badParams()
	}
	if _, ok := m.nvm.cgdcont[cid]; !ok && op != 0 {
		return nil, badParams()
	}
	urc := 0
	if len(args) == 3 {
		if urc, ok1 = argInt(args[2], 0, 1); !ok1 {
			return nil, badParams()
		}
	}
	if op == 0 {
		delete(m.vol, volDataCall)
		return nil, nil
	}
	m.vol[volDataCall] = fmt.Sprintf("1,%d,%d", cid, urc)
	return nil, nil
}
