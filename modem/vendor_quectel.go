package modem

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// SINRScale says how a vendor serving-cell command writes SINR. It is
// firmware dependent (reference §3.1): the same QENG field is plain dB on
// some releases and a raw 0..250 value on others.
type SINRScale int

// SINR scales.
const (
	SINRdB    SINRScale = iota // the value is dB
	SINRRaw5                   // dB = raw/5 - 20 (Quectel QCSQ, some QENG)
	SINRTenth                  // dB = raw/10
)

func (sc SINRScale) apply(v float64) float64 {
	switch sc {
	case SINRRaw5:
		return round1(v/5 - 20)
	case SINRTenth:
		return round1(v / 10)
	}
	return v
}

// qengFields splits a +QENG line and checks its first field.
func qengFields(rest string) []field { return splitFields(rest) }

// optIntF parses an optional integer field; "-" and empty are nil. A bad
// value is reported with the field's name.
func optIntF(cmd, name, line string, f field) (*int, error) {
	v, err := optInt(f.s)
	if err != nil {
		return nil, perr(cmd, name, line, "%v", err)
	}
	return v, nil
}

func optHex32F(cmd, name, line string, f field) (*uint32, error) {
	v, err := optHex32(f.s)
	if err != nil {
		return nil, perr(cmd, name, line, "%v", err)
	}
	return v, nil
}

func optHex64F(cmd, name, line string, f field) (*uint64, error) {
	v, err := optHex64(f.s)
	if err != nil {
		return nil, perr(cmd, name, line, "%v", err)
	}
	return v, nil
}

func optDBmF(cmd, name, line string, f field) (*DBm, error) {
	v, err := optIntF(cmd, name, line, f)
	if v == nil || err != nil {
		return nil, err
	}
	return dbm(float64(*v)), nil
}

func optDBF(cmd, name, line string, f field) (*DB, error) {
	v, err := optIntF(cmd, name, line, f)
	if v == nil || err != nil {
		return nil, err
	}
	return db(float64(*v)), nil
}

// ParseQENG reads the answer to AT+QENG="servingcell" (and, in the same
// call, "neighbourcell" lines if the caller sent both). Handled: LTE with
// 18 or 20 fields, WCDMA, GSM, NR5G-SA, the three-line EN-DC form, the
// state-only "SEARCH" answer, and "-" for any invalid field. MCC/MNC lost
// their zero padding on some firmware; cell id and TAC are unquoted hex.
// sinr says how this firmware writes SINR.
func ParseQENG(lines []string, sinr SINRScale) (ServingCell, []Neighbour, error) {
	var sc ServingCell
	var nbs []Neighbour
	seen := false
	for _, l := range lines {
		rest, ok := cutPrefix(l, "+QENG:")
		if !ok {
			continue
		}
		fs := qengFields(rest)
		kind := strings.ToLower(fs[0].s)
		switch {
		case kind == "servingcell":
			seen = true
			sc.State = fieldAt(fs, 1).s
			if len(fs) <= 3 {
				continue // state only, or EN-DC header
			}
			if err := qengServing(&sc, fs[2:], l, sinr); err != nil {
				return ServingCell{}, nil, err
			}
		case kind == "lte" || kind == "nr5g-nsa":
			// EN-DC: "+QENG: \"LTE\",<is_tdd>,..." and "+QENG:\"NR5G-NSA\",..."
			seen = true
			if kind == "lte" {
				if err := qengServing(&sc, fs, l, sinr); err != nil {
					return ServingCell{}, nil, err
				}
			}
			if kind == "nr5g-nsa" {
				sc.Tech = TechNR5GNSA
				if sc.Signal.SINR == nil {
					// +QENG:"NR5G-NSA",<MCC>,<MNC>,<PCID>,<RSRP>,<SINR>,<RSRQ>,...
					v, err := optIntF("+QENG", "NR SINR", l, fieldAt(fs, 5))
					if err != nil {
						return ServingCell{}, nil, err
					}
					if v != nil {
						sc.Signal.SINR = db(sinr.apply(float64(*v)))
					}
				}
			}
		case strings.HasPrefix(kind, "neighbourcell"):
			n, err := qengNeighbour(fs, l, sinr)
			if err != nil {
				return ServingCell{}, nil, err
			}
			nbs = append(nbs, n)
		}
	}
	if !seen && len(nbs) == 0 {
		return ServingCell{}, nil, perr("+QENG", "", strings.Join(lines, "|"), "%v", errNoLine)
	}
	sc.Signal.Tech = sc.Tech
	if sc.Signal.Source == "" && sc.Tech != TechUnknown {
		sc.Signal.Source = "+QENG"
	}
	return sc, nbs, nil
}

// qengServing reads the fields from the RAT word on ("LTE",...).
func qengServing(sc *ServingCell, fs []field, line string, sinr SINRScale) error {
	const cmd = "+QENG"
	rat := strings.ToUpper(fs[0].s)
	var err error
	set := func(e error) {
		if err == nil {
			err = e
		}
	}
	var e error
	switch rat {
	case "LTE", "CAT-M", "EMTC", "CAT-NB", "NBIOT", "NB-IOT":
		// "LTE",<is_tdd>,<MCC>,<MNC>,<cellID>,<PCID>,<earfcn>,<band>,<UL_bw>,<DL_bw>,<TAC>,<RSRP>,<RSRQ>,<RSSI>,<SINR>[,<CQI>,<tx_power>],<srxlev>
		sc.Tech = TechLTE
		if rat != "LTE" {
			sc.Tech = sysmodeTech(rat)
		}
		sc.PLMN, e = plmnFrom(fieldAt(fs, 2).s, fieldAt(fs, 3).s)
		if e != nil {
			set(perr(cmd, "MCC/MNC", line, "%v", e))
		}
		sc.CellID, e = optHex64F(cmd, "cellID", line, fieldAt(fs, 4))
		set(e)
		sc.PCI, e = optIntF(cmd, "PCID", line, fieldAt(fs, 5))
		set(e)
		sc.EARFCN, e = optIntF(cmd, "earfcn", line, fieldAt(fs, 6))
		set(e)
		if b := fieldAt(fs, 7).s; !unknownValue(b) {
			sc.Band = "B" + b
		}
		sc.Area, e = optHex32F(cmd, "TAC", line, fieldAt(fs, 10))
		set(e)
		sc.Signal.RSRP, e = optDBmF(cmd, "RSRP", line, fieldAt(fs, 11))
		set(e)
		sc.Signal.RSRQ, e = optDBF(cmd, "RSRQ", line, fieldAt(fs, 12))
		set(e)
		sc.Signal.RSSI, e = optDBmF(cmd, "RSSI", line, fieldAt(fs, 13))
		set(e)
		v, e := optIntF(cmd, "SINR", line, fieldAt(fs, 14))
		set(e)
		if v != nil {
			sc.Signal.SINR = db(sinr.apply(float64(*v)))
		}
	case "WCDMA":
		// "WCDMA",<MCC>,<MNC>,<LAC>,<cellID>,<uarfcn>,<PSC>,<RAC>,<RSCP>,<ecio>,...
		sc.Tech = TechUMTS
		sc.PLMN, e = plmnFrom(fieldAt(fs, 1).s, fieldAt(fs, 2).s)
		if e != nil {
			set(perr(cmd, "MCC/MNC", line, "%v", e))
		}
		sc.Area, e = optHex32F(cmd, "LAC", line, fieldAt(fs, 3))
		set(e)
		sc.CellID, e = optHex64F(cmd, "cellID", line, fieldAt(fs, 4))
		set(e)
		sc.EARFCN, e = optIntF(cmd, "uarfcn", line, fieldAt(fs, 5))
		set(e)
		sc.PCI, e = optIntF(cmd, "PSC", line, fieldAt(fs, 6))
		set(e)
		sc.Signal.RSCP, e = optDBmF(cmd, "RSCP", line, fieldAt(fs, 8))
		set(e)
		sc.Signal.EcIo, e = optDBF(cmd, "ecio", line, fieldAt(fs, 9))
		set(e)
	case "GSM":
		// "GSM",<mcc>,<mnc>,<lac>,<cellid>,<bsic>,<arfcn>,<band>,<rxlev>,...
		sc.Tech = TechGSM
		sc.PLMN, e = plmnFrom(fieldAt(fs, 1).s, fieldAt(fs, 2).s)
		if e != nil {
			set(perr(cmd, "MCC/MNC", line, "%v", e))
		}
		sc.Area, e = optHex32F(cmd, "LAC", line, fieldAt(fs, 3))
		set(e)
		sc.CellID, e = optHex64F(cmd, "cellid", line, fieldAt(fs, 4))
		set(e)
		sc.PCI, e = optIntF(cmd, "bsic", line, fieldAt(fs, 5))
		set(e)
		sc.EARFCN, e = optIntF(cmd, "arfcn", line, fieldAt(fs, 6))
		set(e)
		if b := fieldAt(fs, 7).s; !unknownValue(b) {
			sc.Band = b
		}
		sc.Signal.RSSI, e = optDBmF(cmd, "rxlev", line, fieldAt(fs, 8))
		set(e)
	case "NR5G-SA":
		// "NR5G-SA",<duplex>,<MCC>,<MNC>,<cellID>,<PCID>,<TAC>,<ARFCN>,<band>,<NR_DL_bw>,<RSRP>,<RSRQ>,<SINR>,...
		sc.Tech = TechNR5G
		sc.PLMN, e = plmnFrom(fieldAt(fs, 2).s, fieldAt(fs, 3).s)
		if e != nil {
			set(perr(cmd, "MCC/MNC", line, "%v", e))
		}
		sc.CellID, e = optHex64F(cmd, "cellID", line, fieldAt(fs, 4))
		set(e)
		sc.PCI, e = optIntF(cmd, "PCID", line, fieldAt(fs, 5))
		set(e)
		sc.Area, e = optHex32F(cmd, "TAC", line, fieldAt(fs, 6))
		set(e)
		sc.EARFCN, e = optIntF(cmd, "ARFCN", line, fieldAt(fs, 7))
		set(e)
		if b := fieldAt(fs, 8).s; !unknownValue(b) {
			sc.Band = "n" + b
		}
		sc.Signal.RSRP, e = optDBmF(cmd, "RSRP", line, fieldAt(fs, 10))
		set(e)
		sc.Signal.RSRQ, e = optDBF(cmd, "RSRQ", line, fieldAt(fs, 11))
		set(e)
		v, e := optIntF(cmd, "SINR", line, fieldAt(fs, 12))
		set(e)
		if v != nil {
			sc.Signal.SINR = db(sinr.apply(float64(*v)))
		}
	default:
		return perr(cmd, "RAT", line, "unknown RAT %q", truncate(rat, 16))
	}
	return err
}

// qengNeighbour reads "neighbourcell intra|inter","LTE",<earfcn>,<pcid>,<rsrq>,<rsrp>,<rssi>,<sinr>,...
// and "neighbourcell","WCDMA",<uarfcn>,<cell_resel_priority>,<thresh_Xhigh>,<thresh_Xlow>,<psc>,<rscp>,<ecno>,...
// and "neighbourcell","GSM",<mcc>,<mnc>,<lac>,<cellid>,<bsic>,<arfcn>,<rxlev>,...
func qengNeighbour(fs []field, line string, sinr SINRScale) (Neighbour, error) {
	const cmd = "+QENG"
	var n Neighbour
	var e, err error
	set := func(x error) {
		if err == nil {
			err = x
		}
	}
	switch strings.ToUpper(fieldAt(fs, 1).s) {
	case "LTE":
		n.Tech = TechLTE
		n.EARFCN, e = optIntF(cmd, "earfcn", line, fieldAt(fs, 2))
		set(e)
		n.PCI, e = optIntF(cmd, "pcid", line, fieldAt(fs, 3))
		set(e)
		n.Signal.RSRQ, e = optDBF(cmd, "rsrq", line, fieldAt(fs, 4))
		set(e)
		n.Signal.RSRP, e = optDBmF(cmd, "rsrp", line, fieldAt(fs, 5))
		set(e)
		n.Signal.RSSI, e = optDBmF(cmd, "rssi", line, fieldAt(fs, 6))
		set(e)
		v, e := optIntF(cmd, "sinr", line, fieldAt(fs, 7))
		set(e)
		if v != nil {
			n.Signal.SINR = db(sinr.apply(float64(*v)))
		}
	case "WCDMA":
		n.Tech = TechUMTS
		n.EARFCN, e = optIntF(cmd, "uarfcn", line, fieldAt(fs, 2))
		set(e)
		n.PCI, e = optIntF(cmd, "psc", line, fieldAt(fs, 6))
		set(e)
		n.Signal.RSCP, e = optDBmF(cmd, "rscp", line, fieldAt(fs, 7))
		set(e)
		n.Signal.EcIo, e = optDBF(cmd, "ecno", line, fieldAt(fs, 8))
		set(e)
	case "GSM":
		n.Tech = TechGSM
		n.PCI, e = optIntF(cmd, "bsic", line, fieldAt(fs, 6))
		set(e)
		n.EARFCN, e = optIntF(cmd, "arfcn", line, fieldAt(fs, 7))
		set(e)
		n.Signal.RSSI, e = optDBmF(cmd, "rxlev", line, fieldAt(fs, 8))
		set(e)
	default:
		return n, perr(cmd, "RAT", line, "unknown neighbour RAT")
	}
	n.Signal.Tech = n.Tech
	n.Signal.Source = cmd
	return n, err
}

// ParseQGDCNT reads "+QGDCNT: <bytes_sent>,<bytes_recv>".
func ParseQGDCNT(line string) (DataCounters, error) {
	rest, ok := cutPrefix(line, "+QGDCNT:")
	if !ok {
		return DataCounters{}, perr("+QGDCNT", "", line, "missing +QGDCNT: prefix")
	}
	return parseCounterPair("+QGDCNT", line, splitFields(rest), 0, 1, 10)
}

func parseCounterPair(cmd, line string, fs []field, sent, recv, base int) (DataCounters, error) {
	var c DataCounters
	var err error
	if c.Sent, err = parseUintBase(fieldAt(fs, sent).s, base); err != nil {
		return DataCounters{}, perr(cmd, "sent", line, "%v", err)
	}
	if c.Received, err = parseUintBase(fieldAt(fs, recv).s, base); err != nil {
		return DataCounters{}, perr(cmd, "received", line, "%v", err)
	}
	return c, nil
}

// ParseQUIMSLOT reads "+QUIMSLOT: <slot>"; the manual's own example spells
// it "+QUSIMSLOT", so both are accepted.
func ParseQUIMSLOT(line string) (int, error) {
	rest, ok := cutPrefix(line, "+QUIMSLOT:")
	if !ok {
		if rest, ok = cutPrefix(line, "+QUSIMSLOT:"); !ok {
			return 0, perr("+QUIMSLOT", "", line, "missing +QUIMSLOT: prefix")
		}
	}
	n, err := atoi(fieldAt(splitFields(rest), 0).s)
	if err != nil || n < 1 || n > 2 {
		return 0, perr("+QUIMSLOT", "slot", line, "want 1 or 2")
	}
	return n, nil
}

// ParseQCFG returns the values of "+QCFG: \"<name>\",<v1>[,...]" for name.
func ParseQCFG(lines []string, name string) ([]string, error) {
	for _, l := range lines {
		rest, ok := cutPrefix(l, "+QCFG:")
		if !ok {
			continue
		}
		fs := splitFields(rest)
		if !strings.EqualFold(fs[0].s, name) {
			continue
		}
		var out []string
		for _, f := range fs[1:] {
			out = append(out, f.s)
		}
		return out, nil
	}
	return nil, perr("+QCFG", name, strings.Join(lines, "|"), "%v", errNoLine)
}

// QNWInfo is the answer to Quectel AT+QNWINFO.
type QNWInfo struct {
	AcT     string // "FDD LTE", "CAT-M1", "HSPA+", ...
	PLMN    PLMN
	Band    string
	Channel *int
}

// ParseQNWINFO reads "+QNWINFO: <AcT>,<oper>,<band>,<channel>" (operator
// quoted or not) and "+QNWINFO: No Service" (zero value, no error).
func ParseQNWINFO(line string) (QNWInfo, error) {
	rest, ok := cutPrefix(line, "+QNWINFO:")
	if !ok {
		return QNWInfo{}, perr("+QNWINFO", "", line, "missing +QNWINFO: prefix")
	}
	fs := splitFields(rest)
	if len(fs) < 4 {
		if strings.EqualFold(fs[0].s, "No Service") || strings.EqualFold(fs[0].s, "NONE") {
			return QNWInfo{}, nil
		}
		return QNWInfo{}, perr("+QNWINFO", "", line, "want 4 fields")
	}
	var q QNWInfo
	var err error
	q.AcT, q.Band = fs[0].s, fs[2].s
	if !unknownValue(fs[1].s) {
		if q.PLMN, err = ParsePLMN(fs[1].s); err != nil {
			return QNWInfo{}, perr("+QNWINFO", "oper", line, "%v", err)
		}
	}
	if q.Channel, err = optIntF("+QNWINFO", "channel", line, fs[3]); err != nil {
		return QNWInfo{}, err
	}
	return q, nil
}

// ParseQNETRC reads Quectel "+QNETRC: \"<type>\",<cause>" lines (emm_cause,
// esm_cause, 5gmm_cause, ...): the network's last reject causes, which say
// whether the current IMSI lacks a roaming agreement (EMM 11, 13, 15).
func ParseQNETRC(lines []string) (map[string]int, error) {
	out := map[string]int{}
	for _, l := range lines {
		rest, ok := cutPrefix(l, "+QNETRC:")
		if !ok {
			continue
		}
		fs := splitFields(rest)
		if len(fs) < 2 || fs[0].s == "" {
			return nil, perr("+QNETRC", "", l, "want \"<type>\",<cause>")
		}
		n, err := atoi(fs[1].s)
		if err != nil {
			return nil, perr("+QNETRC", "cause", l, "%v", err)
		}
		out[strings.ToLower(fs[0].s)] = n
	}
	if len(out) == 0 {
		return nil, perr("+QNETRC", "", strings.Join(lines, "|"), "%v", errNoLine)
	}
	return out, nil
}

// DialectQuectel: Quectel EC2x/EG2x/EM/BG9x/RM5xx.
const DialectQuectel Dialect = "quectel"

func init() {
	register(&vendor{
		dialect:       DialectQuectel,
		manufacturers: []string{"quectel"},
		models:        []string{"ec2", "eg2", "eg9", "ep06", "em0", "em1", "bg9", "bg7", "bg6", "rm5", "rg5", "ec200", "uc20", "m95", "m66", "mc60"},
		// SIM hot-plug and init-progress URCs (+QSIMSTAT, +QUSIM, +QIND).
		startup: []string{`+QSIMSTAT=1`, `+QINDCFG="all",1,0`},
		iccid:   []cmdSpec{{cmd: "+QCCID", prefix: []string{"+QCCID:", "+CCID:"}}},
		signal: func(ctx context.Context, q querier) (Signal, error) {
			l, err := q.optLine(ctx, "+QCSQ", "+QCSQ:")
			if err != nil {
				return Signal{}, err
			}
			return ParseQCSQ(l)
		},
		servingCell:  quectelServingCell,
		counters:     quectelCounters,
		ratLock:      quectelRATLock,
		setRATLock:   quectelSetRATLock,
		simSlot:      quectelSIMSlot,
		setSIMSlot:   quectelSetSIMSlot,
		dataCall:     quectelDataCall,
		rejectCauses: quectelRejectCauses,
	})
}

// qengSINR is the SINR scale of Quectel's QENG. The modern EC2x/EG2x/EM
// firmware writes dB; this is the one knob a model table would change.
const qengSINR = SINRdB

func quectelServingCell(ctx context.Context, q querier) (ServingCell, []Neighbour, error) {
	lines, err := q.run(ctx, `+QENG="servingcell"`, "+QENG:")
	if err != nil {
		return ServingCell{}, nil, err
	}
	sc, _, err := ParseQENG(lines, qengSINR)
	if err != nil {
		return ServingCell{}, nil, opErr(`+QENG="servingcell"`, err)
	}
	var nbs []Neighbour
	if nl, err := q.opt(ctx, cmdSpec{cmd: `+QENG="neighbourcell"`, prefix: []string{"+QENG:"}}); err == nil {
		_, nbs, _ = ParseQENG(nl, qengSINR)
	}
	return sc, nbs, nil
}

func quectelCounters(ctx context.Context, q querier) (DataCounters, error) {
	l, err := q.optLine(ctx, "+QGDCNT?", "+QGDCNT:")
	if err != nil {
		return DataCounters{}, err
	}
	c, err := ParseQGDCNT(l)
	return c, opErr("+QGDCNT?", err)
}

var (
	// Quectel LTE modules: AT+QCFG="nwscanmode",<0 auto|1 GSM|2 UMTS|3 LTE>.
	// Some EC200 firmware reads back 5 for LTE+UMTS.
	quectelScanMode = newRATTable(RATAuto, "0", RATGSMOnly, "1", RATUMTSOnly, "2", RATLTEOnly, "3", RATNo2G, "5")
	// Quectel 5G modules: AT+QNWPREFCFG="mode_pref",<AUTO|LTE|WCDMA:LTE|...>.
	quectelModePref = newRATTable(RATAuto, "AUTO", RATLTEOnly, "LTE", RATNo2G, "WCDMA:LTE", RATNo2G, "LTE:WCDMA",
		RATUMTSOnly, "WCDMA", RATLTEOnly, "LTE:NR5G", RATAuto, "WCDMA:LTE:NR5G", RATAuto, "LTE:NR5G:WCDMA")
)

func quectelRATLock(ctx context.Context, q querier) (RATMode, error) {
	lines, err := q.run(ctx, `+QCFG="nwscanmode"`, "+QCFG:")
	if err == nil {
		v, err := ParseQCFG(lines, "nwscanmode")
		if err != nil || len(v) == 0 {
			return "", opErr(`+QCFG="nwscanmode"`, err)
		}
		return quectelScanMode.mode(v[0]), nil
	}
	if !unsupportedCmd(err) || ctx.Err() != nil {
		return "", err
	}
	// 5G modules moved the setting to +QNWPREFCFG.
	lines, err = q.run(ctx, `+QNWPREFCFG="mode_pref"`, "+QNWPREFCFG:")
	if err != nil {
		return "", err
	}
	rest, line, ok := findPrefixed(lines, "+QNWPREFCFG:")
	fs := splitFields(rest)
	if !ok || len(fs) < 2 {
		return "", opErr(`+QNWPREFCFG="mode_pref"`, perr("+QNWPREFCFG", "mode_pref", line, "%v", errNoLine))
	}
	return quectelModePref.mode(fs[1].s), nil
}

func quectelSetRATLock(ctx context.Context, q querier, mode RATMode) error {
	if mode != RATNo2G {
		v, _ := q.pickRAT(quectelScanMode, `+QCFG="nwscanmode"`, mode)
		_, err := q.run(ctx, `+QCFG="nwscanmode",`+v+",1")
		if err == nil || !unsupportedCmd(err) || ctx.Err() != nil {
			return err
		}
	}
	v, err := q.pickRAT(quectelModePref, `+QNWPREFCFG="mode_pref"`, mode)
	if err != nil {
		return err
	}
	_, err = q.run(ctx, `+QNWPREFCFG="mode_pref",`+v)
	if err != nil && unsupportedCmd(err) && ctx.Err() == nil {
		// LTE-only modules know neither a no-2G scan mode nor +QNWPREFCFG.
		return &OpError{Cmd: `AT+QNWPREFCFG="mode_pref"`, Err: fmt.Errorf("%w: RAT mode %s on this model: %v", ErrNotSupported, mode, err)}
	}
	return err
}

func quectelSIMSlot(ctx context.Context, q querier) (int, error) {
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

func quectelSetSIMSlot(ctx context.Context, q querier, slot int) error {
	if slot != 1 && slot != 2 {
		return &OpError{Cmd: "AT+QUIMSLOT=", Err: fmt.Errorf("%w: slot %d", ErrIncorrectParameters, slot)}
	}
	_, err := q.run(ctx, "+QUIMSLOT="+strconv.Itoa(slot))
	return err
}

func quectelRejectCauses(ctx context.Context, q querier) (map[string]int, error) {
	lines, err := q.run(ctx, "+QNETRC?", "+QNETRC:")
	if err != nil {
		return nil, err
	}
	c, err := ParseQNETRC(lines)
	return c, opErr("+QNETRC?", err)
}

// ParseQCSQ reads Quectel "+QCSQ: <sysmode>[,...]":
// LTE/CAT-M1/CAT-NB1: <rssi>,<rsrp>,<sinr>,<rsrq> with SINR raw 0..250 =
// raw/5-20 dB; WCDMA: <rssi>,<rscp>,<ecio>; GSM: <rssi>; NR5G:
// <rsrp>,<sinr>,<rsrq>; "NOSERVICE" alone. Some firmware prints the GSM and
// WCDMA rssi as an unsigned raw number (EC21 "GSM",125): positive values are
// not dBm and are dropped.
func ParseQCSQ(line string) (Signal, error) {
	rest, ok := cutPrefix(line, "+QCSQ:")
	if !ok {
		return Signal{}, perr("+QCSQ", "", line, "missing +QCSQ: prefix")
	}
	fs := splitFields(rest)
	mode := strings.ToUpper(fs[0].s)
	s := Signal{Source: "+QCSQ", Tech: sysmodeTech(mode)}
	if mode == "NOSERVICE" || mode == "" {
		return Signal{Source: "+QCSQ"}, nil
	}
	num := make([]*int, len(fs))
	for i := 1; i < len(fs); i++ {
		n, err := optInt(fs[i].s)
		if err != nil {
			return Signal{}, perr("+QCSQ", "value", line, "field %d: %v", i, err)
		}
		num[i] = n
	}
	at := func(i int) *int {
		if i < len(num) {
			return num[i]
		}
		return nil
	}
	neg := func(i int) *float64 {
		if p := at(i); p != nil && *p < 0 {
			v := float64(*p)
			return &v
		}
		return nil
	}
	switch s.Tech {
	case TechLTE, TechLTEM, TechNBIoT:
		if v := neg(1); v != nil {
			s.RSSI = dbm(*v)
		}
		if v := neg(2); v != nil {
			s.RSRP = dbm(*v)
		}
		if p := at(3); p != nil && *p >= 0 && *p <= 250 {
			s.SINR = db(round1(float64(*p)/5 - 20))
		}
		if v := neg(4); v != nil {
			s.RSRQ = db(*v)
		}
	case TechNR5G, TechNR5GNSA:
		if v := neg(1); v != nil {
			s.RSRP = dbm(*v)
		}
		if p := at(2); p != nil && *p >= 0 && *p <= 250 {
			s.SINR = db(round1(float64(*p)/5 - 20))
		}
		if v := neg(3); v != nil {
			s.RSRQ = db(*v)
		}
	case TechUMTS:
		if v := neg(1); v != nil {
			s.RSSI = dbm(*v)
		}
		if v := neg(2); v != nil {
			s.RSCP = dbm(*v)
		}
		if v := neg(3); v != nil {
			s.EcIo = db(*v)
		}
	case TechGSM:
		if v := neg(1); v != nil {
			s.RSSI = dbm(*v)
		}
	default:
		return Signal{}, perr("+QCSQ", "sysmode", line, "unknown system mode")
	}
	return s, nil
}

// quectelDataCall: AT+QNETDEVCTL=<op>,<cid>,<urc_en> (ECM/RNDIS/NCM
// usbnet modes). op 1 connects and the module re-dials by itself while it
// stays up; the setting does not survive a modem reset (reference §7.1),
// so imsid sends it again after every reset and switch. op 0 disconnects.
func quectelDataCall(cid int, up bool) string {
	if up {
		return fmt.Sprintf("+QNETDEVCTL=1,%d,1", cid)
	}
	return fmt.Sprintf("+QNETDEVCTL=0,%d,0", cid)
}
