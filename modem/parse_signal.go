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
