package modem

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// RATMode is a radio-technology lock as the switcher thinks of it. Each
// dialect maps it onto its own command; a mode a dialect cannot express is
// ErrNotSupported, never silently something else.
type RATMode string

// RAT modes.
const (
	RATAuto     RATMode = "auto"      // every technology the modem has
	RATLTEOnly  RATMode = "lte-only"  // LTE (incl. LTE-M/NB-IoT where the modem has them)
	RATNo2G     RATMode = "no-2g"     // UMTS and LTE, never GSM (the downgrade-attack defence)
	RATUMTSOnly RATMode = "umts-only" // UMTS only
	RATGSMOnly  RATMode = "gsm-only"  // GSM only (tests)
	RATOther    RATMode = "other"     // a vendor setting none of the above describes
)

// ParseRATMode accepts the names above.
func ParseRATMode(s string) (RATMode, error) {
	m := RATMode(strings.ToLower(strings.TrimSpace(s)))
	switch m {
	case RATAuto, RATLTEOnly, RATNo2G, RATUMTSOnly, RATGSMOnly:
		return m, nil
	}
	return "", fmt.Errorf("modem: unknown RAT mode %q", truncate(s, 32))
}

// ratTable maps a mode to a dialect's wire value and back.
type ratTable struct {
	to   map[RATMode]string
	from map[string]RATMode
}

func newRATTable(pairs ...any) ratTable {
	t := ratTable{to: map[RATMode]string{}, from: map[string]RATMode{}}
	for i := 0; i+1 < len(pairs); i += 2 {
		m, v := pairs[i].(RATMode), pairs[i+1].(string)
		if _, ok := t.to[m]; !ok {
			t.to[m] = v
		}
		t.from[v] = m
	}
	return t
}

var (
	// Quectel LTE modules: AT+QCFG="nwscanmode",<0 auto|1 GSM|2 UMTS|3 LTE>.
	// Some EC200 firmware reads back 5 for LTE+UMTS.
	quectelScanMode = newRATTable(RATAuto, "0", RATGSMOnly, "1", RATUMTSOnly, "2", RATLTEOnly, "3", RATNo2G, "5")
	// Quectel 5G modules: AT+QNWPREFCFG="mode_pref",<AUTO|LTE|WCDMA:LTE|...>.
	quectelModePref = newRATTable(RATAuto, "AUTO", RATLTEOnly, "LTE", RATNo2G, "WCDMA:LTE", RATNo2G, "LTE:WCDMA",
		RATUMTSOnly, "WCDMA", RATLTEOnly, "LTE:NR5G", RATAuto, "WCDMA:LTE:NR5G", RATAuto, "LTE:NR5G:WCDMA")
	// SIMCom AT+CNMP: 2 auto, 13 GSM, 14 WCDMA, 38 LTE, 54 WCDMA+LTE.
	simcomCNMP = newRATTable(RATAuto, "2", RATGSMOnly, "13", RATUMTSOnly, "14", RATLTEOnly, "38", RATNo2G, "54")
	// u-blox AT+URAT first AcT: 0 GSM, 2 UMTS, 3 LTE, 4 GSM/UMTS/LTE, 6 UMTS/LTE; 7/8 LTE-M/NB-IoT.
	ubloxURAT = newRATTable(RATGSMOnly, "0", RATUMTSOnly, "2", RATLTEOnly, "3", RATAuto, "4", RATNo2G, "6", RATLTEOnly, "7", RATLTEOnly, "8")
	// 27.007 AT+WS46: 12 GERAN, 22 UTRAN, 25 GERAN+UTRAN+E-UTRAN, 28 E-UTRAN, 31 UTRAN+E-UTRAN.
	genericWS46 = newRATTable(RATAuto, "25", RATGSMOnly, "12", RATUMTSOnly, "22", RATLTEOnly, "28", RATNo2G, "31")
)

func (t ratTable) mode(v string) RATMode {
	if m, ok := t.from[strings.ToUpper(strings.TrimSpace(v))]; ok {
		return m
	}
	return RATOther
}

// RATLock reads the current technology lock.
func (m *Modem) RATLock(ctx context.Context) (RATMode, error) { return m.q().ratLock(ctx) }

func (q querier) ratLock(ctx context.Context) (RATMode, error) {
	switch q.d {
	case DialectQuectel:
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
	case DialectSIMCom:
		l, err := q.line(ctx, "+CNMP?", "+CNMP:")
		if err != nil {
			return "", err
		}
		n, err := ParseCNMP(l)
		if err != nil {
			return "", opErr("+CNMP?", err)
		}
		return simcomCNMP.mode(strconv.Itoa(n)), nil
	case DialectUBlox:
		l, err := q.line(ctx, "+URAT?", "+URAT:")
		if err != nil {
			return "", err
		}
		acts, err := ParseURAT(l)
		if err != nil {
			return "", opErr("+URAT?", err)
		}
		return ubloxURAT.mode(strconv.Itoa(acts[0])), nil
	}
	l, err := q.line(ctx, "+WS46?", "+WS46:")
	if err != nil {
		return "", err
	}
	n, err := ParseWS46(l)
	if err != nil {
		return "", opErr("+WS46?", err)
	}
	return genericWS46.mode(strconv.Itoa(n)), nil
}

// SetRATLock writes a technology lock with the dialect's command. Some
// modems only apply it after re-registration; the call does not wait.
func (m *Modem) SetRATLock(ctx context.Context, mode RATMode) error {
	return m.q().setRATLock(ctx, mode)
}

func (q querier) setRATLock(ctx context.Context, mode RATMode) error {
	if _, err := ParseRATMode(string(mode)); err != nil {
		return &OpError{Cmd: "RAT lock", Err: fmt.Errorf("%w: %v", ErrIncorrectParameters, err)}
	}
	pick := func(t ratTable, cmd string) (string, error) {
		v, ok := t.to[mode]
		if !ok {
			return "", &OpError{Cmd: "AT" + cmd, Err: fmt.Errorf("%w: RAT mode %s by the %s dialect", ErrNotSupported, mode, q.d)}
		}
		return v, nil
	}
	switch q.d {
	case DialectQuectel:
		if mode != RATNo2G {
			v, _ := pick(quectelScanMode, `+QCFG="nwscanmode"`)
			_, err := q.run(ctx, `+QCFG="nwscanmode",`+v+",1")
			if err == nil || !unsupportedCmd(err) || ctx.Err() != nil {
				return err
			}
		}
		v, err := pick(quectelModePref, `+QNWPREFCFG="mode_pref"`)
		if err != nil {
			return err
		}
		_, err = q.run(ctx, `+QNWPREFCFG="mode_pref",`+v)
		if err != nil && unsupportedCmd(err) && ctx.Err() == nil {
			// LTE-only modules know neither a no-2G scan mode nor +QNWPREFCFG.
			return &OpError{Cmd: `AT+QNWPREFCFG="mode_pref"`, Err: fmt.Errorf("%w: RAT mode %s on this model: %v", ErrNotSupported, mode, err)}
		}
		return err
	case DialectSIMCom:
		v, err := pick(simcomCNMP, "+CNMP=")
		if err != nil {
			return err
		}
		_, err = q.run(ctx, "+CNMP="+v)
		return err
	case DialectUBlox:
		v, err := pick(ubloxURAT, "+URAT=")
		if err != nil {
			return err
		}
		_, err = q.run(ctx, "+URAT="+v)
		return err
	}
	v, err := pick(genericWS46, "+WS46=")
	if err != nil {
		return err
	}
	_, err = q.run(ctx, "+WS46="+v)
	return err
}
