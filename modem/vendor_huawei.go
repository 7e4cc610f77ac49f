package modem

import (
	"context"
	"strings"
)

// HuaweiSysInfo is the answer to Huawei AT^SYSINFOEX (or the older
// AT^SYSINFO). Fields the modem left empty are nil.
type HuaweiSysInfo struct {
	SrvStatus   *int // 0 no service, 1 restricted, 2 valid, 3 restricted regional, 4 power saving
	SrvDomain   *int // 0 none, 1 CS, 2 PS, 3 CS+PS, 4 searching
	RoamStatus  *int
	SIMState    *int // 1 valid, 240 / 255 not present ...
	LockState   *int
	SysMode     *int
	SysModeName string // ^SYSINFOEX only: "WCDMA", "LTE", ...
	SubMode     *int
	SubModeName string // ^SYSINFOEX only: "HSPA+", ...
}

// Tech maps the system mode onto a technology family.
func (h HuaweiSysInfo) Tech() Tech {
	if h.SysModeName != "" {
		return sysmodeTech(h.SysModeName)
	}
	if h.SysMode == nil {
		return TechUnknown
	}
	// ^SYSINFO <sys_mode>: 3 GSM/GPRS, 5 WCDMA, 7 GSM/WCDMA, 9 LTE (^SYSINFOEX: 1 GSM, 3 WCDMA, 6 LTE).
	switch *h.SysMode {
	case 3:
		return TechGSM
	case 5, 7:
		return TechUMTS
	case 9:
		return TechLTE
	}
	return TechUnknown
}

// ParseSYSINFOEX reads "^SYSINFOEX:<srv_status>,<srv_domain>,<roam_status>,
// <sim_state>,<lock_state>,<sysmode>,<sysmode_name>,<submode>,<submode_name>",
// names quoted or not, empty fields allowed.
func ParseSYSINFOEX(line string) (HuaweiSysInfo, error) {
	const cmd = "^SYSINFOEX"
	rest, ok := cutPrefix(line, "^SYSINFOEX:")
	if !ok {
		return HuaweiSysInfo{}, perr(cmd, "", line, "missing ^SYSINFOEX: prefix")
	}
	fs := splitFields(rest)
	if len(fs) < 7 {
		return HuaweiSysInfo{}, perr(cmd, "", line, "want 9 fields, have %d", len(fs))
	}
	var h HuaweiSysInfo
	var err error
	names := []string{"srv_status", "srv_domain", "roam_status", "sim_state", "lock_state", "sysmode"}
	dst := []**int{&h.SrvStatus, &h.SrvDomain, &h.RoamStatus, &h.SIMState, &h.LockState, &h.SysMode}
	for i := range dst {
		if *dst[i], err = optIntF(cmd, names[i], line, fs[i]); err != nil {
			return HuaweiSysInfo{}, err
		}
	}
	h.SysModeName = fs[6].s
	if h.SubMode, err = optIntF(cmd, "submode", line, fieldAt(fs, 7)); err != nil {
		return HuaweiSysInfo{}, err
	}
	h.SubModeName = fieldAt(fs, 8).s
	return h, nil
}

// ParseSYSINFO reads the older "^SYSINFO:<srv_status>,<srv_domain>,
// <roam_status>,<sys_mode>,<sim_state>[,<lock_state>[,<sys_submode>]]".
func ParseSYSINFO(line string) (HuaweiSysInfo, error) {
	const cmd = "^SYSINFO"
	rest, ok := cutPrefix(line, "^SYSINFO:")
	if !ok {
		return HuaweiSysInfo{}, perr(cmd, "", line, "missing ^SYSINFO: prefix")
	}
	fs := splitFields(rest)
	if len(fs) < 5 {
		return HuaweiSysInfo{}, perr(cmd, "", line, "want at least 5 fields, have %d", len(fs))
	}
	var h HuaweiSysInfo
	var err error
	names := []string{"srv_status", "srv_domain", "roam_status", "sys_mode", "sim_state", "lock_state", "sys_submode"}
	dst := []**int{&h.SrvStatus, &h.SrvDomain, &h.RoamStatus, &h.SysMode, &h.SIMState, &h.LockState, &h.SubMode}
	for i := range dst {
		if *dst[i], err = optIntF(cmd, names[i], line, fieldAt(fs, i)); err != nil {
			return HuaweiSysInfo{}, err
		}
	}
	return h, nil
}

// ParseDSFLOWQRY reads Huawei "^DSFLOWQRY: <last_ds_time>,<last_tx>,<last_rx>,
// <total_ds_time>,<total_tx>,<total_rx>" (all hex) and returns the totals.
func ParseDSFLOWQRY(line string) (DataCounters, error) {
	rest, ok := cutPrefix(line, "^DSFLOWQRY:")
	if !ok {
		return DataCounters{}, perr("^DSFLOWQRY", "", line, "missing ^DSFLOWQRY: prefix")
	}
	fs := splitFields(rest)
	if len(fs) < 6 {
		return DataCounters{}, perr("^DSFLOWQRY", "", line, "want 6 fields, have %d", len(fs))
	}
	return parseCounterPair("^DSFLOWQRY", line, fs, 4, 5, 16)
}

// ParseMONSC reads Huawei "^MONSC: <RAT>,...": Huawei's own formatter
// prints LTE as <MCC>,<MNC>,<ARFCN>,<Cell_ID hex>,<PCI hex>,<TAC hex>,<RSRP>,<RSRQ>,<RSSI>;
// NR as <MCC>,<MNC>,<ARFCN>,<SCS>,<Cell_ID>,<PCI>,<TAC>,<RSRP>,<RSRQ>,<SINR> (hex ids);
// WCDMA as <MCC>,<MNC>,<ARFCN>,<PSC>,<Cell_ID>,<LAC>,<RSCP>,<RXLEV>,<EC/N0>,...;
// GSM as <MCC>,<MNC>,<BAND>,<ARFCN>,<BSIC>,<Cell_ID>,<LAC>,<RXLEV>,<RxQuality>,<TA>.
// "^MONSC: NONE" is no service.
func ParseMONSC(line string) (ServingCell, error) {
	const cmd = "^MONSC"
	rest, ok := cutPrefix(line, "^MONSC:")
	if !ok {
		return ServingCell{}, perr(cmd, "", line, "missing ^MONSC: prefix")
	}
	fs := splitFields(rest)
	rat := strings.ToUpper(fs[0].s)
	var sc ServingCell
	if len(fs) < 3 {
		if rat == "NONE" || rat == "" {
			return sc, nil
		}
		return ServingCell{}, perr(cmd, "", line, "want at least 3 fields")
	}
	var err, e error
	set := func(x error) {
		if err == nil {
			err = x
		}
	}
	if sc.PLMN, e = plmnFrom(fs[1].s, fs[2].s); e != nil {
		set(perr(cmd, "MCC/MNC", line, "%v", e))
	}
	hexInt := func(name string, f field) *int {
		v, e := optHex32F(cmd, name, line, f)
		set(e)
		if v == nil || *v > 1<<20 {
			return nil
		}
		return ptr(int(*v))
	}
	switch rat {
	case "LTE":
		sc.Tech = TechLTE
		sc.EARFCN, e = optIntF(cmd, "ARFCN", line, fieldAt(fs, 3))
		set(e)
		sc.CellID, e = optHex64F(cmd, "Cell_ID", line, fieldAt(fs, 4))
		set(e)
		sc.PCI = hexInt("PCI", fieldAt(fs, 5))
		sc.Area, e = optHex32F(cmd, "TAC", line, fieldAt(fs, 6))
		set(e)
		sc.Signal.RSRP, e = optDBmF(cmd, "RSRP", line, fieldAt(fs, 7))
		set(e)
		sc.Signal.RSRQ, e = optDBF(cmd, "RSRQ", line, fieldAt(fs, 8))
		set(e)
		sc.Signal.RSSI, e = optDBmF(cmd, "RSSI", line, fieldAt(fs, 9))
		set(e)
	case "NR":
		sc.Tech = TechNR5G
		sc.EARFCN, e = optIntF(cmd, "ARFCN", line, fieldAt(fs, 3))
		set(e)
		sc.CellID, e = optHex64F(cmd, "Cell_ID", line, fieldAt(fs, 5))
		set(e)
		sc.PCI = hexInt("PCI", fieldAt(fs, 6))
		sc.Area, e = optHex32F(cmd, "TAC", line, fieldAt(fs, 7))
		set(e)
		sc.Signal.RSRP, e = optDBmF(cmd, "RSRP", line, fieldAt(fs, 8))
		set(e)
		sc.Signal.RSRQ, e = optDBF(cmd, "RSRQ", line, fieldAt(fs, 9))
		set(e)
		sc.Signal.SINR, e = optDBF(cmd, "SINR", line, fieldAt(fs, 10))
		set(e)
	case "WCDMA", "TD-SCDMA":
		sc.Tech = TechUMTS
		sc.EARFCN, e = optIntF(cmd, "ARFCN", line, fieldAt(fs, 3))
		set(e)
		sc.PCI, e = optIntF(cmd, "PSC", line, fieldAt(fs, 4))
		set(e)
		sc.CellID, e = optHex64F(cmd, "Cell_ID", line, fieldAt(fs, 5))
		set(e)
		sc.Area, e = optHex32F(cmd, "LAC", line, fieldAt(fs, 6))
		set(e)
		sc.Signal.RSCP, e = optDBmF(cmd, "RSCP", line, fieldAt(fs, 7))
		set(e)
		sc.Signal.RSSI, e = optDBmF(cmd, "RXLEV", line, fieldAt(fs, 8))
		set(e)
		sc.Signal.EcIo, e = optDBF(cmd, "EC/N0", line, fieldAt(fs, 9))
		set(e)
	case "GSM":
		sc.Tech = TechGSM
		sc.Band = fieldAt(fs, 3).s
		sc.EARFCN, e = optIntF(cmd, "ARFCN", line, fieldAt(fs, 4))
		set(e)
		sc.PCI, e = optIntF(cmd, "BSIC", line, fieldAt(fs, 5))
		set(e)
		sc.CellID, e = optHex64F(cmd, "Cell_ID", line, fieldAt(fs, 6))
		set(e)
		sc.Area, e = optHex32F(cmd, "LAC", line, fieldAt(fs, 7))
		set(e)
		sc.Signal.RSSI, e = optDBmF(cmd, "RXLEV", line, fieldAt(fs, 8))
		set(e)
	default:
		return ServingCell{}, perr(cmd, "RAT", line, "unknown RAT")
	}
	if err != nil {
		return ServingCell{}, err
	}
	sc.Signal.Tech, sc.Signal.Source = sc.Tech, cmd
	return sc, nil
}

// DialectHuawei: Huawei ME909/ME906/MU709/E3372.
const DialectHuawei Dialect = "huawei"

func init() {
	register(&vendor{
		dialect:       DialectHuawei,
		manufacturers: []string{"huawei"},
		models:        []string{"me909", "me906", "mu709", "e3372", "me936", "mu609", "ms2131", "e1550"},
		// Huawei firmware ends a command it does not know with this
		// instead of ERROR (ModemManager's serial parser takes it as an
		// error final result, src/mm-serial-parsers.c; reference §2.1);
		// without it every such command runs into its timeout.
		finalResults: []string{"COMMAND NOT SUPPORT"},
		// Keep the periodic ^RSSI/^HCSQ/^MODE reports off: they drown the
		// event stream and carry nothing the queries do not.
		startup: []string{"^CURC=0"},
		iccid:   []cmdSpec{{cmd: "^ICCID?", prefix: []string{"^ICCID:"}}},
		signal: func(ctx context.Context, q querier) (Signal, error) {
			l, err := q.optLine(ctx, "^HCSQ?", "^HCSQ:")
			if err != nil {
				return Signal{}, err
			}
			return ParseHCSQ(l)
		},
		servingCell: func(ctx context.Context, q querier) (ServingCell, []Neighbour, error) {
			l, err := q.optLine(ctx, "^MONSC", "^MONSC:")
			if err != nil {
				return ServingCell{}, nil, err
			}
			sc, err := ParseMONSC(l)
			return sc, nil, opErr("^MONSC", err)
		},
		counters: func(ctx context.Context, q querier) (DataCounters, error) {
			l, err := q.optLine(ctx, "^DSFLOWQRY", "^DSFLOWQRY:")
			if err != nil {
				return DataCounters{}, err
			}
			c, err := ParseDSFLOWQRY(l)
			return c, opErr("^DSFLOWQRY", err)
		},
	})
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
