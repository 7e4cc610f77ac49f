package modem

import (
	"context"
	"strconv"
	"strings"
)

// ucgedTech maps the <rat> of the UCGED mode 2 RAT line. 2 and 3 are
// GSM/UMTS on every model; LARA-R6 writes 4 for LTE; SARA-R5 (LTE-M/NB-IoT
// only) writes 6 for LTE-M and 7 for NB-IoT.
func ucgedTech(rat int) Tech {
	switch rat {
	case 2:
		return TechGSM
	case 3:
		return TechUMTS
	case 4, 5:
		return TechLTE
	case 6:
		return TechLTEM
	case 7:
		return TechNBIoT
	}
	return TechUnknown
}

// ParseUCGED reads u-blox AT+UCGED? in either layout:
//
// mode 2, several lines: "+UCGED: 2", a RAT line "<rat>,<svc>,<MCC>,<MNC>"
// (2G omits <svc>), then a data line without prefix whose layout depends on
// the RAT (LTE: <earfcn>,<Lband>,<ul_BW>,<dl_BW>,<tac>,<LcellId>,<PCID>,
// <mTmsi>,<mmeGrId>,<mmeCode>,<rsrp>,<rsrq>,<Lsinr>,...; 2G: <arfcn>,
// <GBand>,<CI>,<BSIC>,<LAC>,<RAC>,<RxLev>,...). Hex is lower case; "fff",
// "ffff", 65535 and 255 mean no service / unknown. RSRP and RSRQ are
// TS 36.133 indices (-141+n dBm, -20+n/2 dB), SINR is dB.
//
// mode 5: "+RSRP: <pci>,<earfcn>,\"<dBm>\",..." and "+RSRQ: ..." lines with
// one triple per cell and a trailing comma; the first cell is the serving
// cell, the rest are returned as neighbours.
func ParseUCGED(lines []string) (ServingCell, []Neighbour, error) {
	const cmd = "+UCGED"
	for _, l := range lines {
		if _, ok := cutPrefix(l, "+RSRP:"); ok {
			return parseUCGED5(lines)
		}
	}
	var sc ServingCell
	var data []string
	header := false
	for _, l := range lines {
		if _, ok := cutPrefix(l, "+UCGED:"); ok {
			header = true
			continue
		}
		if s := strings.TrimSpace(l); s != "" && s != "OK" {
			data = append(data, s)
		}
	}
	if !header || len(data) < 1 {
		return ServingCell{}, nil, perr(cmd, "", strings.Join(lines, "|"), "want a +UCGED: header and a RAT line")
	}
	rl := splitFields(data[0])
	rat, err := atoi(rl[0].s)
	if err != nil {
		return ServingCell{}, nil, perr(cmd, "rat", data[0], "%v", err)
	}
	sc.Tech = ucgedTech(rat)
	mcc, mnc := fieldAt(rl, 1).s, fieldAt(rl, 2).s
	if len(rl) >= 4 {
		sc.State = rl[1].s
		mcc, mnc = rl[2].s, rl[3].s
	}
	if sc.PLMN, err = plmnFrom(mcc, mnc); err != nil {
		return ServingCell{}, nil, perr(cmd, "MCC/MNC", data[0], "%v", err)
	}
	if len(data) < 2 {
		return sc, nil, nil
	}
	line := data[1]
	fs := splitFields(line)
	var e error
	set := func(x error) {
		if err == nil {
			err = x
		}
	}
	notFF := func(f field) field {
		if s := strings.ToLower(f.s); strings.Trim(s, "f") == "" || s == "65535" {
			return field{}
		}
		return f
	}
	idx := func(f field, max int) *int {
		n, e := optIntF(cmd, "index", line, f)
		set(e)
		if n == nil || *n < 0 || *n > max {
			return nil
		}
		return n
	}
	switch sc.Tech {
	case TechLTE, TechLTEM, TechNBIoT:
		sc.EARFCN, e = optIntF(cmd, "earfcn", line, notFF(fieldAt(fs, 0)))
		set(e)
		if b := fieldAt(fs, 1).s; !unknownValue(b) && b != "255" {
			sc.Band = "B" + b
		}
		sc.Area, e = optHex32F(cmd, "tac", line, notFF(fieldAt(fs, 4)))
		set(e)
		cid := fieldAt(fs, 5)
		if strings.Trim(cid.s, "0") == "" {
			cid = field{}
		}
		sc.CellID, e = optHex64F(cmd, "LcellId", line, notFF(cid))
		set(e)
		sc.PCI, e = optIntF(cmd, "PCID", line, notFF(fieldAt(fs, 6)))
		set(e)
		if n := idx(fieldAt(fs, 10), 97); n != nil {
			sc.Signal.RSRP = dbm(float64(-141 + *n))
		}
		if n := idx(fieldAt(fs, 11), 34); n != nil {
			sc.Signal.RSRQ = db(-20 + 0.5*float64(*n))
		}
		if s := fieldAt(fs, 12).s; !unknownValue(s) && s != "255" {
			v, e := atof(s)
			if e != nil {
				set(perr(cmd, "Lsinr", line, "%v", e))
			} else {
				sc.Signal.SINR = db(v)
			}
		}
	case TechGSM:
		sc.EARFCN, e = optIntF(cmd, "arfcn", line, notFF(fieldAt(fs, 0)))
		set(e)
		sc.CellID, e = optHex64F(cmd, "CI", line, notFF(fieldAt(fs, 2)))
		set(e)
		sc.PCI, e = optIntF(cmd, "BSIC", line, notFF(fieldAt(fs, 3)))
		set(e)
		sc.Area, e = optHex32F(cmd, "LAC", line, notFF(fieldAt(fs, 4)))
		set(e)
		if n := idx(fieldAt(fs, 6), 63); n != nil {
			sc.Signal.RSSI = dbm(float64(-111 + *n))
		}
	case TechUMTS:
		sc.EARFCN, e = optIntF(cmd, "uarfcn", line, notFF(fieldAt(fs, 0)))
		set(e)
	}
	if err != nil {
		return ServingCell{}, nil, err
	}
	sc.Signal.Tech, sc.Signal.Source = sc.Tech, cmd
	return sc, nil, nil
}

type ucgedCell struct {
	pci, earfcn int
	rsrp        *DBm
	rsrq        *DB
}

func parseUCGED5(lines []string) (ServingCell, []Neighbour, error) {
	const cmd = "+UCGED"
	var cells []*ucgedCell
	find := func(pci, earfcn int) *ucgedCell {
		for _, c := range cells {
			if c.pci == pci && c.earfcn == earfcn {
				return c
			}
		}
		c := &ucgedCell{pci: pci, earfcn: earfcn}
		cells = append(cells, c)
		return c
	}
	for _, l := range lines {
		rest, isP := cutPrefix(l, "+RSRP:")
		if !isP {
			var ok bool
			if rest, ok = cutPrefix(l, "+RSRQ:"); !ok {
				continue
			}
		}
		fs := splitFields(rest)
		for i := 0; i+2 < len(fs); i += 3 {
			pci, err1 := atoi(fs[i].s)
			earfcn, err2 := atoi(fs[i+1].s)
			v, err3 := atof(fs[i+2].s)
			if err1 != nil || err2 != nil || err3 != nil {
				return ServingCell{}, nil, perr(cmd, "cell", l, "triple %d is not <pci>,<earfcn>,\"<value>\"", i/3+1)
			}
			c := find(pci, earfcn)
			if isP {
				c.rsrp = dbm(v)
			} else {
				c.rsrq = db(v)
			}
		}
	}
	if len(cells) == 0 {
		return ServingCell{}, nil, perr(cmd, "", strings.Join(lines, "|"), "no cells")
	}
	sig := func(c *ucgedCell) Signal {
		return Signal{Tech: TechLTE, RSRP: c.rsrp, RSRQ: c.rsrq, Source: cmd}
	}
	sc := ServingCell{Tech: TechLTE, PCI: ptr(cells[0].pci), EARFCN: ptr(cells[0].earfcn), Signal: sig(cells[0])}
	var nbs []Neighbour
	for _, c := range cells[1:] {
		nbs = append(nbs, Neighbour{Tech: TechLTE, PCI: ptr(c.pci), EARFCN: ptr(c.earfcn), Signal: sig(c)})
	}
	return sc, nbs, nil
}

// ParseURAT reads u-blox "+URAT: <1stAcT>[,<2ndAcT>[,<3rdAcT>]]".
func ParseURAT(line string) ([]int, error) {
	rest, ok := cutPrefix(line, "+URAT:")
	if !ok {
		return nil, perr("+URAT", "", line, "missing +URAT: prefix")
	}
	var out []int
	for _, f := range splitFields(rest) {
		if f.s == "" {
			continue
		}
		n, err := atoi(f.s)
		if err != nil {
			return nil, perr("+URAT", "AcT", line, "%v", err)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, perr("+URAT", "AcT", line, "empty")
	}
	return out, nil
}

// ParseUGCNTRD reads u-blox "+UGCNTRD: <cid>,<sent_sess>,<recv_sess>,<sent_total>,<recv_total>"
// lines and sums the session counters of every context.
func ParseUGCNTRD(lines []string) (DataCounters, error) {
	var total DataCounters
	found := false
	for _, l := range lines {
		rest, ok := cutPrefix(l, "+UGCNTRD:")
		if !ok {
			continue
		}
		c, err := parseCounterPair("+UGCNTRD", l, splitFields(rest), 1, 2, 10)
		if err != nil {
			return DataCounters{}, err
		}
		total.Sent += c.Sent
		total.Received += c.Received
		found = true
	}
	if !found {
		return DataCounters{}, perr("+UGCNTRD", "", strings.Join(lines, "|"), "%v", errNoLine)
	}
	return total, nil
}

// DialectUBlox: u-blox SARA/LARA/TOBY/LISA.
const DialectUBlox Dialect = "ublox"

func init() {
	register(&vendor{
		dialect:       DialectUBlox,
		dataCall:      ubloxDataCall,
		manufacturers: []string{"u-blox", "ublox", "u_blox"},
		models:        []string{"sara-", "lara-", "toby-", "lisa-", "lena-"},
		// +UUSIMSTAT: SIM state (bit 0) and STK REFRESH results (bit 2).
		startup: []string{"+USIMSTAT=5"},
		// +UCGED? is the only place it reports SINR.
		signal: func(ctx context.Context, q querier) (Signal, error) {
			sc, _, err := ubloxServingCell(ctx, q)
			return sc.Signal, err
		},
		servingCell: ubloxServingCell,
		counters: func(ctx context.Context, q querier) (DataCounters, error) {
			lines, err := q.opt(ctx, cmdSpec{cmd: "+UGCNTRD", prefix: []string{"+UGCNTRD:"}})
			if err != nil {
				return DataCounters{}, err
			}
			c, err := ParseUGCNTRD(lines)
			return c, opErr("+UGCNTRD", err)
		},
		ratLock: func(ctx context.Context, q querier) (RATMode, error) {
			l, err := q.line(ctx, "+URAT?", "+URAT:")
			if err != nil {
				return "", err
			}
			acts, err := ParseURAT(l)
			if err != nil {
				return "", opErr("+URAT?", err)
			}
			return ubloxURAT.mode(strconv.Itoa(acts[0])), nil
		},
		setRATLock: func(ctx context.Context, q querier, mode RATMode) error {
			v, err := q.pickRAT(ubloxURAT, "+URAT=", mode)
			if err != nil {
				return err
			}
			_, err = q.run(ctx, "+URAT="+v)
			return err
		},
	})
}

// u-blox AT+URAT first AcT: 0 GSM, 2 UMTS, 3 LTE, 4 GSM/UMTS/LTE, 6 UMTS/LTE; 7/8 LTE-M/NB-IoT.
var ubloxURAT = newRATTable(RATGSMOnly, "0", RATUMTSOnly, "2", RATLTEOnly, "3", RATAuto, "4", RATNo2G, "6", RATLTEOnly, "7", RATLTEOnly, "8")

func ubloxServingCell(ctx context.Context, q querier) (ServingCell, []Neighbour, error) {
	spec := cmdSpec{cmd: "+UCGED?", prefix: []string{"+UCGED:", "+RSRP:", "+RSRQ:"}, bare: true}
	lines, err := q.opt(ctx, spec)
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
}

func ucgedDisabled(lines []string) bool {
	for _, l := range lines {
		if r, ok := cutPrefix(l, "+UCGED:"); ok {
			return strings.TrimSpace(r) == "0"
		}
	}
	return false
}

// ubloxDataCall: on TOBY/LARA modules in bridge mode (AT+UBMCONF=2, a
// persistent setting imsid never writes) +UCEDATA=<cid>,<enable> maps the
// PDP context onto the USB Ethernet interface. In router mode
// (AT+UBMCONF=1) the module routes the active context itself and the
// command is refused, which the driver reports as ErrNotSupported-like
// ERROR; the PDP activation alone is enough there.
func ubloxDataCall(cid int, up bool) string {
	en := "0"
	if up {
		en = "1"
	}
	return "+UCEDATA=" + strconv.Itoa(cid) + "," + en
}
