package modem

import (
	"context"
	"strings"
)

// ParseRFSTS reads Telit "#RFSTS:". The layout depends on the RAT and is
// told apart by field count:
//
//	LTE (15-18): "<MCC MNC>",<EARFCN>,<RSRP>,<RSSI>,<RSRQ>,<TAC>,<RAC>,[<TXPWR>],<DRX>,<MM>,<RRC>,<CID>,<IMSI>,[<NetNameAsc>],<SD>,<ABND>[,...]
//	GSM (14): "<MCC MNC>",<ARFCN>,<RSSI>,<LAC>,<RAC>,<TXPWR>,<MM>,<RR>,<NOM>,<CID>,<IMSI>,<NetNameAsc>,<SD>,<ABND>
//	GSM (13): the same without <TXPWR>, as LE910/HE910 firmware prints it
//	    (`#RFSTS: ,32767,-47,,,19,27,,,"204000090288415","",0,2`, captured in
//	    github.com/pmoerenhout/atcommander's Telit ReadNetworkStatusResponse)
//	WCDMA (19+): "<MCC MNC>",<UARFCN>,<PSC>,<Ec/Io>,<RSCP>,<RSSI>,<LAC>,<RAC>,<TXPWR>,<DRX>,<MM>,<RRC>,<NOM>,<BLER>,<CID>,<IMSI>,<NetNameAsc>,<SD>,...
//
// RFSTS carries the IMSI the modem registered with, which it returns (""
// when the field is absent or all zeros). Without a serving cell (no
// network code and no channel) it returns an empty ServingCell: the
// placeholder's zeros are not an RSSI of 0 dBm or a cell 0. Families that move fields around
// (LM960) are not handled: the caller gets what lines up.
func ParseRFSTS(lines []string) (ServingCell, IMSI, error) {
	const cmd = "#RFSTS"
	rest, line, ok := findPrefixed(lines, "#RFSTS:")
	if !ok {
		return ServingCell{}, "", perr(cmd, "", strings.Join(lines, "|"), "%v", errNoLine)
	}
	fs := splitFields(rest)
	if noTelitCell(fieldAt(fs, 0).s, fieldAt(fs, 1).s) {
		// `#RFSTS: "",0,0,0,0,0000,255,,0,0,0,0000000,"",""` and the like:
		// no serving cell. Its zeros are not values; only the IMSI, when
		// the firmware prints it, still means something.
		var imsi IMSI
		for _, f := range fs {
			if v := IMSI(f.s); f.quoted && len(f.s) >= 14 && v.Valid() && strings.Trim(f.s, "0") != "" {
				imsi = v
				break
			}
		}
		return ServingCell{}, imsi, nil
	}
	var sc ServingCell
	var err, e error
	set := func(x error) {
		if err == nil {
			err = x
		}
	}
	plmn := strings.NewReplacer(" ", "", "-", "").Replace(fs[0].s)
	if plmn != "" {
		if sc.PLMN, e = ParsePLMN(plmn); e != nil {
			set(perr(cmd, "PLMN", line, "%v", e))
		}
	}
	imsiAt := -1
	switch {
	case len(fs) >= 19:
		sc.Tech = TechUMTS
		sc.EARFCN, e = optIntF(cmd, "UARFCN", line, fieldAt(fs, 1))
		set(e)
		sc.PCI, e = optIntF(cmd, "PSC", line, fieldAt(fs, 2))
		set(e)
		// Ec/Io comes with a decimal ("-8.5") on LE910 firmware.
		sc.Signal.EcIo, e = optDecDBF(cmd, "Ec/Io", line, fieldAt(fs, 3))
		set(e)
		sc.Signal.RSCP, e = optDBmF(cmd, "RSCP", line, fieldAt(fs, 4))
		set(e)
		sc.Signal.RSSI, e = optDBmF(cmd, "RSSI", line, fieldAt(fs, 5))
		set(e)
		sc.Area, e = optHex32F(cmd, "LAC", line, fieldAt(fs, 6))
		set(e)
		sc.CellID, e = optHex64F(cmd, "CID", line, fieldAt(fs, 14))
		set(e)
		imsiAt = 15
	case len(fs) >= 15:
		sc.Tech = TechLTE
		sc.EARFCN, e = optIntF(cmd, "EARFCN", line, fieldAt(fs, 1))
		set(e)
		sc.Signal.RSRP, e = optDBmF(cmd, "RSRP", line, fieldAt(fs, 2))
		set(e)
		sc.Signal.RSSI, e = optDBmF(cmd, "RSSI", line, fieldAt(fs, 3))
		set(e)
		sc.Signal.RSRQ, e = optDBF(cmd, "RSRQ", line, fieldAt(fs, 4))
		set(e)
		sc.Area, e = optHex32F(cmd, "TAC", line, fieldAt(fs, 5))
		set(e)
		// Firmware differs after <TAC>: TXPWR may be missing and a field
		// may follow ABND. The quoted 15-digit IMSI anchors the rest:
		// <CID> before it, <RRC> before that, <NetNameAsc>,<SD>,<ABND> after.
		imsiAt = 12
		for i := 8; i < len(fs); i++ {
			if fs[i].quoted && len(fs[i].s) >= 14 && isDigits(fs[i].s) {
				imsiAt = i
				break
			}
		}
		sc.State = fieldAt(fs, imsiAt-2).s // RRC state
		sc.CellID, e = optHex64F(cmd, "CID", line, fieldAt(fs, imsiAt-1))
		set(e)
		if b := fieldAt(fs, imsiAt+3).s; !unknownValue(b) {
			sc.Band = "B" + b
		}
	case len(fs) == 13:
		// GSM without <TXPWR>: <MM>,<RR>,<NOM> move up by one.
		sc.Tech = TechGSM
		sc.EARFCN, e = optIntF(cmd, "ARFCN", line, fieldAt(fs, 1))
		set(e)
		sc.Signal.RSSI, e = optDBmF(cmd, "RSSI", line, fieldAt(fs, 2))
		set(e)
		sc.Area, e = optHex32F(cmd, "LAC", line, fieldAt(fs, 3))
		set(e)
		sc.CellID, e = optHex64F(cmd, "CID", line, fieldAt(fs, 8))
		set(e)
		imsiAt = 9
	case len(fs) == 14:
		sc.Tech = TechGSM
		sc.EARFCN, e = optIntF(cmd, "ARFCN", line, fieldAt(fs, 1))
		set(e)
		sc.Signal.RSSI, e = optDBmF(cmd, "RSSI", line, fieldAt(fs, 2))
		set(e)
		sc.Area, e = optHex32F(cmd, "LAC", line, fieldAt(fs, 3))
		set(e)
		sc.CellID, e = optHex64F(cmd, "CID", line, fieldAt(fs, 9))
		set(e)
		imsiAt = 10
	default:
		return ServingCell{}, "", perr(cmd, "", line, "unknown layout with %d fields", len(fs))
	}
	if err != nil {
		return ServingCell{}, "", err
	}
	var imsi IMSI
	if v := IMSI(fieldAt(fs, imsiAt).s); v.Valid() && strings.Trim(string(v), "0") != "" {
		imsi = v
	}
	sc.Signal.Tech, sc.Signal.Source = sc.Tech, cmd
	return sc, imsi, nil
}

// optDecDBF reads an optional dB field that may carry decimals.
func optDecDBF(cmd, name, line string, f field) (*DB, error) {
	if unknownValue(f.s) {
		return nil, nil
	}
	v, err := atof(f.s)
	if err != nil {
		return nil, perr(cmd, name, line, "%v", err)
	}
	return db(v), nil
}

// noTelitCell reports whether a Telit serving-cell line is the no-service
// placeholder: no network code and no channel. A camped cell always has a
// channel number, and the PLMN is known once the cell is read.
func noTelitCell(plmn, channel string) bool {
	p := strings.Trim(plmn, " -0")
	// 32767 and -1 are the "no channel" values LE910/HE910 print.
	noChannel := channel == "" || strings.Trim(channel, "0") == "" || channel == "32767" || channel == "-1"
	return p == "" && noChannel
}

// ParseSERVINFO reads Telit "#SERVINFO:". LTE has 9 fields:
// <EARFCN>,<dBm>,<NetNameAsc>,<NetCode>,<PhysicalCellId(hex)>,<TAC>,<DRX>,<SD>,<RSRP>;
// UMTS 11: <UARFCN>,<dBm>,<NetNameAsc>,<NetCode>,<PSC>,<LAC>,<DRX>,<SD>,<RSCP>,<NOM>,<RAC>;
// GSM otherwise: <B-ARFCN>,<dBm>,<NetNameAsc>,<NetCode>,<BSIC>,<LAC>,<TA>,<GPRS>[,...].
// Trailing blanks after the last field are ignored.
func ParseSERVINFO(lines []string) (ServingCell, error) {
	const cmd = "#SERVINFO"
	rest, line, ok := findPrefixed(lines, "#SERVINFO:")
	if !ok {
		return ServingCell{}, perr(cmd, "", strings.Join(lines, "|"), "%v", errNoLine)
	}
	fs := splitFields(rest)
	if len(fs) < 6 {
		return ServingCell{}, perr(cmd, "", line, "want at least 6 fields, have %d", len(fs))
	}
	if noTelitCell(fs[3].s, fs[0].s) {
		// `#SERVINFO: 0,0,"","",0,0,0,0,0`: no serving cell.
		return ServingCell{}, nil
	}
	var sc ServingCell
	var err, e error
	set := func(x error) {
		if err == nil {
			err = x
		}
	}
	sc.EARFCN, e = optIntF(cmd, "ARFCN", line, fs[0])
	set(e)
	sc.Signal.RSSI, e = optDBmF(cmd, "dBm", line, fs[1])
	set(e)
	if !unknownValue(fs[3].s) {
		if sc.PLMN, e = ParsePLMN(fs[3].s); e != nil {
			set(perr(cmd, "NetCode", line, "%v", e))
		}
	}
	sc.Area, e = optHex32F(cmd, "LAC/TAC", line, fs[5])
	set(e)
	switch len(fs) {
	case 9:
		sc.Tech = TechLTE
		if v, e := optHex64F(cmd, "PhysicalCellId", line, fs[4]); e != nil {
			set(e)
		} else if v != nil && *v <= 503 {
			sc.PCI = ptr(int(*v))
		}
		sc.Signal.RSRP, e = optDBmF(cmd, "RSRP", line, fs[8])
		set(e)
	case 11:
		sc.Tech = TechUMTS
		sc.PCI, e = optIntF(cmd, "PSC", line, fs[4])
		set(e)
		sc.Signal.RSCP, e = optDBmF(cmd, "RSCP", line, fs[8])
		set(e)
	default:
		sc.Tech = TechGSM
		sc.PCI, e = optIntF(cmd, "BSIC", line, fs[4])
		set(e)
	}
	if err != nil {
		return ServingCell{}, err
	}
	sc.Signal.Tech, sc.Signal.Source = sc.Tech, cmd
	return sc, nil
}

// ParseGDATAVOL reads Telit "#GDATAVOL: <cid>,<tot>,<sent>,<received>" lines
// and sums them.
func ParseGDATAVOL(lines []string) (DataCounters, error) {
	var total DataCounters
	found := false
	for _, l := range lines {
		rest, ok := cutPrefix(l, "#GDATAVOL:")
		if !ok {
			continue
		}
		c, err := parseCounterPair("#GDATAVOL", l, splitFields(rest), 2, 3, 10)
		if err != nil {
			return DataCounters{}, err
		}
		total.Sent += c.Sent
		total.Received += c.Received
		found = true
	}
	if !found {
		return DataCounters{}, perr("#GDATAVOL", "", strings.Join(lines, "|"), "%v", errNoLine)
	}
	return total, nil
}

// ParseQSS reads Telit "#QSS: <mode>,<status>" (status 0 not inserted,
// 1 inserted, 2 inserted and PIN unlocked, 3 inserted and READY).
func ParseQSS(line string) (mode, status int, err error) {
	rest, ok := cutPrefix(line, "#QSS:")
	if !ok {
		return 0, 0, perr("#QSS", "", line, "missing #QSS: prefix")
	}
	fs := splitFields(rest)
	if len(fs) < 2 {
		// The URC form carries the status alone.
		status, err = atoi(fs[0].s)
		if err != nil {
			return 0, 0, perr("#QSS", "status", line, "%v", err)
		}
		return -1, status, nil
	}
	if mode, err = atoi(fs[0].s); err != nil {
		return 0, 0, perr("#QSS", "mode", line, "%v", err)
	}
	if status, err = atoi(fs[1].s); err != nil {
		return 0, 0, perr("#QSS", "status", line, "%v", err)
	}
	return mode, status, nil
}

// ParseWS46 reads "+WS46: <n>".
func ParseWS46(line string) (int, error) {
	rest, ok := cutPrefix(line, "+WS46:")
	if !ok {
		return 0, perr("+WS46", "", line, "missing +WS46: prefix")
	}
	n, err := atoi(fieldAt(splitFields(rest), 0).s)
	if err != nil {
		return 0, perr("+WS46", "n", line, "%v", err)
	}
	return n, nil
}

// DialectTelit: Telit LE910/LE910Cx/ME910/LN920/FN980.
const DialectTelit Dialect = "telit"

func init() {
	register(&vendor{
		dialect:       DialectTelit,
		dataCall:      telitDataCall,
		manufacturers: []string{"telit"},
		models:        []string{"le910", "le866", "me910", "ln920", "fn980", "lm960", "ul865", "he910"},
		// #QSS SIM status URCs including READY.
		startup:     []string{"#QSS=2"},
		iccid:       []cmdSpec{{cmd: "#CCID", prefix: []string{"#CCID:"}}},
		servingCell: telitServingCell,
		counters: func(ctx context.Context, q querier) (DataCounters, error) {
			lines, err := q.opt(ctx, cmdSpec{cmd: "#GDATAVOL=1", prefix: []string{"#GDATAVOL:"}})
			if err != nil {
				return DataCounters{}, err
			}
			c, err := ParseGDATAVOL(lines)
			return c, opErr("#GDATAVOL=1", err)
		},
	})
}

func telitServingCell(ctx context.Context, q querier) (ServingCell, []Neighbour, error) {
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
	lines, err2 := q.opt(ctx, cmdSpec{cmd: "#SERVINFO", prefix: []string{"#SERVINFO:"}})
	if err2 != nil {
		return ServingCell{}, nil, err
	}
	sc, err2 := ParseSERVINFO(lines)
	return sc, nil, opErr("#SERVINFO", err2)
}

// telitDataCall: AT#ECM=<instance>,<did> sets the ECM call up on the
// context #ECM uses (instance 1, did 0 as Telit's LE910 manual writes it);
// AT#ECMD=<instance> takes it down. Telit's ECM call always uses the
// context configured for it, so cid is not on the command line.
func telitDataCall(_ int, up bool) string {
	if up {
		return "#ECM=1,0"
	}
	return "#ECMD=0"
}
