package modem

import (
	"math"
	"strings"
)

// round1 keeps one decimal: the conversions below are exact in tenths and
// float noise (-20.2+13.2 = -7.000000000000002) would only confuse readers.
func round1(v float64) float64 { return math.Round(v*10) / 10 }

// ParseCSQ reads "+CSQ: <rssi>,<ber>". rssi 0..31 is -113+2n dBm (31 means
// -51 or better), 99 is unknown. ber 0..7 is RxQual, 99 unknown. Values
// outside the documented ranges are treated as not reported.
func ParseCSQ(line string) (Signal, error) {
	rest, ok := cutPrefix(line, "+CSQ:")
	if !ok {
		return Signal{}, perr("+CSQ", "", line, "missing +CSQ: prefix")
	}
	fs := splitFields(rest)
	if len(fs) < 2 {
		return Signal{}, perr("+CSQ", "", line, "want 2 fields, have %d", len(fs))
	}
	s := Signal{Source: "+CSQ"}
	rssi, err := atoi(fs[0].s)
	if err != nil {
		return Signal{}, perr("+CSQ", "rssi", line, "%v", err)
	}
	ber, err := atoi(fs[1].s)
	if err != nil {
		return Signal{}, perr("+CSQ", "ber", line, "%v", err)
	}
	if rssi >= 0 && rssi <= 31 {
		s.RSSI = dbm(float64(-113 + 2*rssi))
	}
	if ber >= 0 && ber <= 7 {
		s.BER = ptr(ber)
	}
	return s, nil
}

// ParseCESQ reads "+CESQ: <rxlev>,<ber>,<rscp>,<ecno>,<rsrq>,<rsrp>[,<ss_rsrq>,<ss_rsrp>,<ss_sinr>]"
// with ModemManager's conversions (lower bound of each 27.007 range):
// RSSI -111+rxlev, RSCP -121+n, Ec/Io -24.5+n/2, RSRQ -20+n/2, RSRP -141+n;
// the 5G fields SS-RSRQ -43+n/2, SS-RSRP -156+n, SS-SINR -23+n/2.
// 99 (rxlev, ber) and 255 (the rest) are unknown and become nil.
func ParseCESQ(line string) (Signal, error) {
	rest, ok := cutPrefix(line, "+CESQ:")
	if !ok {
		return Signal{}, perr("+CESQ", "", line, "missing +CESQ: prefix")
	}
	fs := splitFields(rest)
	if len(fs) < 6 {
		return Signal{}, perr("+CESQ", "", line, "want 6 fields, have %d", len(fs))
	}
	names := []string{"rxlev", "ber", "rscp", "ecno", "rsrq", "rsrp", "ss_rsrq", "ss_rsrp", "ss_sinr"}
	maxv := []int{63, 7, 96, 49, 34, 97, 127, 127, 127}
	var v [9]*int
	for i := 0; i < len(fs) && i < 9; i++ {
		n, err := optInt(fs[i].s)
		if err != nil {
			return Signal{}, perr("+CESQ", names[i], line, "%v", err)
		}
		if n != nil && *n >= 0 && *n <= maxv[i] {
			v[i] = n
		}
	}
	s := Signal{Source: "+CESQ"}
	if v[0] != nil {
		s.RSSI = dbm(float64(-111 + *v[0]))
		s.Tech = TechGSM
	}
	if v[1] != nil {
		s.BER = v[1]
	}
	if v[2] != nil {
		s.RSCP = dbm(float64(-121 + *v[2]))
		s.Tech = TechUMTS
	}
	if v[3] != nil {
		s.EcIo = db(-24.5 + 0.5*float64(*v[3]))
		s.Tech = TechUMTS
	}
	if v[4] != nil {
		s.RSRQ = db(-20 + 0.5*float64(*v[4]))
		s.Tech = TechLTE
	}
	if v[5] != nil {
		s.RSRP = dbm(float64(-141 + *v[5]))
		s.Tech = TechLTE
	}
	// NR values only when LTE gave none: the Signal has one set of fields.
	if s.RSRP == nil && s.RSRQ == nil && (v[6] != nil || v[7] != nil) {
		if v[6] != nil {
			s.RSRQ = db(-43 + 0.5*float64(*v[6]))
		}
		if v[7] != nil {
			s.RSRP = dbm(float64(-156 + *v[7]))
		}
		if v[8] != nil {
			s.SINR = db(-23 + 0.5*float64(*v[8]))
		}
		s.Tech = TechNR5G
	}
	return s, nil
}

// sysmodeTech maps the system-mode words of +QCSQ, ^HCSQ, +QNWINFO and
// +CPSI onto a Tech.
func sysmodeTech(s string) Tech {
	u := strings.ToUpper(strings.TrimSpace(s))
	switch {
	case strings.Contains(u, "NB"):
		return TechNBIoT
	case strings.Contains(u, "CAT-M") || strings.Contains(u, "CAT M") || u == "EMTC" || u == "LTE-M":
		return TechLTEM
	case strings.Contains(u, "NSA"):
		return TechNR5GNSA
	case strings.Contains(u, "NR"):
		return TechNR5G
	case strings.Contains(u, "LTE"):
		return TechLTE
	case u == "WCDMA" || u == "UMTS" || strings.Contains(u, "HSPA") || strings.Contains(u, "HSDPA") ||
		strings.Contains(u, "HSUPA") || u == "TDSCDMA" || u == "TD-SCDMA":
		return TechUMTS
	case u == "GSM" || u == "GPRS" || u == "EDGE":
		return TechGSM
	}
	return TechUnknown
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

// ParseHCSQ reads Huawei "^HCSQ: <sysmode>[,...]" (ModemManager's huawei
// plugin conversions): LTE <rssi>,<rsrp>,<sinr>,<rsrq> as -121+n dBm,
// -141+n dBm, -20.2+n/5 dB, -20+n/2 dB; WCDMA <rssi>,<rscp>,<ecio> as
// -121+n, -121+n, -32.5+n/2; GSM <rssi> as -121+n. 255 is unknown.
func ParseHCSQ(line string) (Signal, error) {
	rest, ok := cutPrefix(line, "^HCSQ:")
	if !ok {
		return Signal{}, perr("^HCSQ", "", line, "missing ^HCSQ: prefix")
	}
	fs := splitFields(rest)
	mode := strings.ToUpper(fs[0].s)
	if mode == "NOSERVICE" || mode == "" {
		return Signal{Source: "^HCSQ"}, nil
	}
	s := Signal{Source: "^HCSQ", Tech: sysmodeTech(mode)}
	val := func(i, max int) (*float64, error) {
		n, err := optInt(fieldAt(fs, i).s, 255)
		if err != nil || n == nil || *n < 0 || *n > max {
			return nil, err
		}
		v := float64(*n)
		return &v, nil
	}
	var vals [5]*float64
	for i := 1; i < len(fs) && i < 5; i++ {
		v, err := val(i, 254)
		if err != nil {
			return Signal{}, perr("^HCSQ", "value", line, "field %d: %v", i, err)
		}
		vals[i] = v
	}
	switch s.Tech {
	case TechLTE, TechLTEM, TechNBIoT:
		if v := vals[1]; v != nil {
			s.RSSI = dbm(-121 + *v)
		}
		if v := vals[2]; v != nil {
			s.RSRP = dbm(-141 + *v)
		}
		if v := vals[3]; v != nil {
			s.SINR = db(round1(-20.2 + *v/5))
		}
		if v := vals[4]; v != nil {
			s.RSRQ = db(round1(-20 + *v/2))
		}
	case TechUMTS:
		if v := vals[1]; v != nil {
			s.RSSI = dbm(-121 + *v)
		}
		if v := vals[2]; v != nil {
			s.RSCP = dbm(-121 + *v)
		}
		if v := vals[3]; v != nil {
			s.EcIo = db(round1(-32.5 + *v/2))
		}
	case TechGSM:
		if v := vals[1]; v != nil {
			s.RSSI = dbm(-121 + *v)
		}
	case TechNR5G, TechNR5GNSA:
		// Huawei 5G modules report NR like LTE: rsrp, sinr, rsrq.
		if v := vals[1]; v != nil {
			s.RSRP = dbm(-156 + *v)
		}
		if v := vals[2]; v != nil {
			s.SINR = db(round1(-23 + *v/2))
		}
		if v := vals[3]; v != nil {
			s.RSRQ = db(round1(-43 + *v/2))
		}
	default:
		return Signal{}, perr("^HCSQ", "sysmode", line, "unknown system mode")
	}
	return s, nil
}

// mergeSignal fills what base lacks (and SINR always) from extra, naming
// both sources. Values base has win: they come from the standard command.
func mergeSignal(base, extra Signal) Signal {
	out := base
	if extra.Source == "" {
		return out
	}
	used := false
	fill := func(dst **DBm, src *DBm) {
		if *dst == nil && src != nil {
			*dst, used = src, true
		}
	}
	fillDB := func(dst **DB, src *DB) {
		if *dst == nil && src != nil {
			*dst, used = src, true
		}
	}
	fill(&out.RSSI, extra.RSSI)
	fill(&out.RSCP, extra.RSCP)
	fill(&out.RSRP, extra.RSRP)
	fillDB(&out.EcIo, extra.EcIo)
	fillDB(&out.RSRQ, extra.RSRQ)
	fillDB(&out.SINR, extra.SINR)
	if out.BER == nil && extra.BER != nil {
		out.BER, used = extra.BER, true
	}
	if extra.Tech != TechUnknown && (out.Tech == TechUnknown || (out.Tech == TechLTE && extra.Tech != TechGSM && extra.Tech != TechUMTS)) {
		out.Tech = extra.Tech
	}
	if used {
		if out.Source == "" {
			out.Source = extra.Source
		} else {
			out.Source += "," + extra.Source
		}
	}
	return out
}
