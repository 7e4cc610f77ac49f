package modem

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// cpsiPLMN reads "228-02".
func cpsiPLMN(s string) (PLMN, error) {
	if unknownValue(s) {
		return PLMN{}, nil
	}
	mcc, mnc, ok := strings.Cut(s, "-")
	if !ok {
		return ParsePLMN(s)
	}
	return plmnFrom(mcc, mnc)
}

// cpsiCellID reads a cell id SIMCom prints in decimal (or 0x hex on some
// firmware); a negative value (overflowed int32 in a WCDMA fixture) is none.
func cpsiCellID(s string) (*uint64, error) {
	s = strings.TrimSpace(s)
	if unknownValue(s) || strings.HasPrefix(s, "-") {
		return nil, nil
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		return optHex64(s)
	}
	v, err := parseUintBase(s, 10)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// cpsiLevels converts SIMCom's LTE/NR RSRQ, RSRP and RSSI. SIM7600 writes
// tenths of a dB (-1089 = -108.9 dBm); other firmware writes plain dB; some
// write 27.007-style indices (positive). The RSRP decides the scale: no
// real RSRP is below -200 dBm or above 0.
func cpsiLevels(rsrq, rsrp, rssi *int) (q *DB, p *DBm, r *DBm) {
	if rsrp == nil {
		return nil, nil, nil
	}
	switch {
	case *rsrp < -200:
		p = dbm(round1(float64(*rsrp) / 10))
		if rsrq != nil {
			q = db(round1(float64(*rsrq) / 10))
		}
		if rssi != nil && *rssi > -2000 {
			r = dbm(round1(float64(*rssi) / 10))
		}
	case *rsrp < 0:
		p = dbm(float64(*rsrp))
		if rsrq != nil && *rsrq <= 0 {
			q = db(float64(*rsrq))
		}
		if rssi != nil && *rssi < 0 && *rssi > -200 {
			r = dbm(float64(*rssi))
		}
	default:
		if *rsrp <= 97 {
			p = dbm(float64(-141 + *rsrp))
		}
		if rsrq != nil && *rsrq >= 0 && *rsrq <= 34 {
			q = db(-20 + 0.5*float64(*rsrq))
		}
	}
	return q, p, r
}

// ParseCPSI reads SIMCom "+CPSI: <System Mode>,<Operation Mode>[,...]" for
// LTE (incl. "LTE CAT-M1", "LTE NB-IOT"), WCDMA, GSM, NR5G_SA and
// "NO SERVICE". See cpsiLevels for the RSRP/RSRQ/RSSI scale; RSSNR is dB.
func ParseCPSI(line string) (ServingCell, error) {
	const cmd = "+CPSI"
	rest, ok := cutPrefix(line, "+CPSI:")
	if !ok {
		return ServingCell{}, perr(cmd, "", line, "missing +CPSI: prefix")
	}
	fs := splitFields(rest)
	mode := strings.ToUpper(fs[0].s)
	sc := ServingCell{State: fieldAt(fs, 1).s}
	if mode == "NO SERVICE" || len(fs) <= 2 {
		return sc, nil
	}
	var err, e error
	set := func(x error) {
		if err == nil {
			err = x
		}
	}
	sc.PLMN, e = cpsiPLMN(fieldAt(fs, 2).s)
	if e != nil {
		set(perr(cmd, "MCC-MNC", line, "%v", e))
	}
	sc.Area, e = optHex32F(cmd, "TAC/LAC", line, fieldAt(fs, 3))
	set(e)
	if sc.CellID, e = cpsiCellID(fieldAt(fs, 4).s); e != nil {
		set(perr(cmd, "cellID", line, "%v", e))
	}
	ints := func(idx ...int) []*int {
		out := make([]*int, len(idx))
		for i, k := range idx {
			v, e := optIntF(cmd, "value", line, fieldAt(fs, k))
			set(e)
			out[i] = v
		}
		return out
	}
	switch {
	case strings.HasPrefix(mode, "LTE"):
		// ...,<PCellID>,<Band>,<earfcn>,<dlbw>,<ulbw>,<RSRQ>,<RSRP>,<RSSI>,<RSSNR>
		sc.Tech = TechLTE
		if t := sysmodeTech(mode); t == TechLTEM || t == TechNBIoT {
			sc.Tech = t
		}
		sc.PCI, e = optIntF(cmd, "PCellID", line, fieldAt(fs, 5))
		set(e)
		sc.Band = cpsiBand(fieldAt(fs, 6).s)
		sc.EARFCN, e = optIntF(cmd, "earfcn", line, fieldAt(fs, 7))
		set(e)
		v := ints(10, 11, 12, 13)
		sc.Signal.RSRQ, sc.Signal.RSRP, sc.Signal.RSSI = cpsiLevels(v[0], v[1], v[2])
		if v[3] != nil {
			sc.Signal.SINR = db(float64(*v[3]))
		}
	case strings.HasPrefix(mode, "NR5G"):
		// NR5G_SA,...,<PCellID>,<Band>,<ARFCN>,<RSRP>,<RSRQ>,<SNR>
		sc.Tech = TechNR5G
		sc.PCI, e = optIntF(cmd, "PCellID", line, fieldAt(fs, 5))
		set(e)
		sc.Band = fieldAt(fs, 6).s
		sc.EARFCN, e = optIntF(cmd, "arfcn", line, fieldAt(fs, 7))
		set(e)
		v := ints(8, 9, 10)
		sc.Signal.RSRQ, sc.Signal.RSRP, _ = cpsiLevels(v[1], v[0], nil)
		if v[2] != nil {
			s := float64(*v[2])
			if v[0] != nil && *v[0] < -200 {
				s /= 10
			}
			sc.Signal.SINR = db(round1(s))
		}
	case mode == "WCDMA":
		// ...,<Band>,<PSC>,<Freq>,<SSC>,<EC/IO>,<RSCP>,<Qual>,<RxLev>,<TXPWR>
		sc.Tech = TechUMTS
		sc.Band = fieldAt(fs, 5).s
		sc.PCI, e = optIntF(cmd, "PSC", line, fieldAt(fs, 6))
		set(e)
		sc.EARFCN, e = optIntF(cmd, "Freq", line, fieldAt(fs, 7))
		set(e)
		v := ints(9, 10, 12)
		if v[0] != nil {
			sc.Signal.EcIo = db(float64(*v[0]))
		}
		if v[1] != nil && *v[1] < 0 && *v[1] > -200 {
			sc.Signal.RSCP = dbm(float64(*v[1]))
		}
		if v[2] != nil && *v[2] < 0 && *v[2] > -200 {
			sc.Signal.RSSI = dbm(float64(*v[2]))
		}
	case mode == "GSM":
		// ...,<Absolute RF Ch Num>[ <band>],<RxLev>,<Track LO Adjust>,<C1-C2>
		sc.Tech = TechGSM
		ch, band, _ := strings.Cut(fieldAt(fs, 5).s, " ")
		sc.Band = band
		sc.EARFCN, e = optIntF(cmd, "arfcn", line, field{s: ch})
		set(e)
		v := ints(6)
		if v[0] != nil && *v[0] < 0 {
			sc.Signal.RSSI = dbm(float64(*v[0]))
		}
	default:
		return ServingCell{}, perr(cmd, "System Mode", line, "unknown system mode")
	}
	if err != nil {
		return ServingCell{}, err
	}
	sc.Signal.Tech = sc.Tech
	sc.Signal.Source = cmd
	return sc, nil
}

// cpsiBand turns "EUTRAN-BAND20" into "B20".
func cpsiBand(s string) string {
	u := strings.ToUpper(s)
	if i := strings.LastIndex(u, "BAND"); i >= 0 && i+4 < len(u) {
		return "B" + u[i+4:]
	}
	return s
}

// ParseCNMP reads SIMCom "+CNMP: <mode>".
func ParseCNMP(line string) (int, error) {
	rest, ok := cutPrefix(line, "+CNMP:")
	if !ok {
		return 0, perr("+CNMP", "", line, "missing +CNMP: prefix")
	}
	n, err := atoi(fieldAt(splitFields(rest), 0).s)
	if err != nil {
		return 0, perr("+CNMP", "mode", line, "%v", err)
	}
	return n, nil
}

// DialectSIMCom: SIMCom SIM7xxx/SIM8xxx/A76xx.
const DialectSIMCom Dialect = "simcom"

func init() {
	register(&vendor{
		dialect:       DialectSIMCom,
		dataCall:      simcomDataCall,
		aliases:       []string{"simtech"},
		manufacturers: []string{"simcom", "simtech"},
		models:        []string{"sim7", "sim8", "sim5", "a76"},
		// +SIMCOMATI answers like a labelled ATI ("Manufacturer: SIMCOM
		// INCORPORATED", "Model: SIMCOM_SIM7000G", "Revision: ...",
		// "IMEI: ...") on firmware whose +CGMI/+CGSN fail.
		identity: []string{"+SIMCOMATI"},
		iccid:    []cmdSpec{{cmd: "+CICCID", prefix: []string{"+ICCID:", "+CICCID:"}}},
		signal: func(ctx context.Context, q querier) (Signal, error) {
			l, err := q.line(ctx, "+CPSI?", "+CPSI:")
			if err != nil {
				return Signal{}, err
			}
			sc, err := ParseCPSI(l)
			return sc.Signal, err
		},
		servingCell: simcomServingCell,
		ratLock:     simcomRATLock,
		setRATLock: func(ctx context.Context, q querier, mode RATMode) error {
			v, err := q.pickRAT(simcomCNMP, "+CNMP=", mode)
			if err != nil {
				return err
			}
			_, err = q.run(ctx, "+CNMP="+v)
			return err
		},
	})
}

// SIMCom AT+CNMP: 2 auto, 13 GSM, 14 WCDMA, 38 LTE, 54 WCDMA+LTE.
var simcomCNMP = newRATTable(RATAuto, "2", RATGSMOnly, "13", RATUMTSOnly, "14", RATLTEOnly, "38", RATNo2G, "54")

func simcomServingCell(ctx context.Context, q querier) (ServingCell, []Neighbour, error) {
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
}

func simcomRATLock(ctx context.Context, q querier) (RATMode, error) {
	l, err := q.line(ctx, "+CNMP?", "+CNMP:")
	if err != nil {
		return "", err
	}
	n, err := ParseCNMP(l)
	if err != nil {
		return "", opErr("+CNMP?", err)
	}
	return simcomCNMP.mode(strconv.Itoa(n)), nil
}

// simcomDataCall: AT$QCRMCALL=<action>,<instance>[,<IP type>,<act>,<umts
// profile>] starts the RmNet/NDIS call over the AT port (reference §7.1,
// from a SIM7600 NDIS recipe): action 1 up, 0 down; instance 1; IP type 1
// IPv4; act 2 3GPP; the profile is the PDP context. Context 1 is the
// default and is sent in the short form the recipe uses.
func simcomDataCall(cid int, up bool) string {
	action := "0"
	if up {
		action = "1"
	}
	if cid == 1 {
		return "$QCRMCALL=" + action + ",1"
	}
	return "$QCRMCALL=" + action + ",1,1,2," + strconv.Itoa(cid)
}
