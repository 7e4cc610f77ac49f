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

// 27.007 AT+WS46: 12 GERAN, 22 UTRAN, 25 GERAN+UTRAN+E-UTRAN, 28 E-UTRAN, 31 UTRAN+E-UTRAN.
var genericWS46 = newRATTable(RATAuto, "25", RATGSMOnly, "12", RATUMTSOnly, "22", RATLTEOnly, "28", RATNo2G, "31")

func (t ratTable) mode(v string) RATMode {
	if m, ok := t.from[strings.ToUpper(strings.TrimSpace(v))]; ok {
		return m
	}
	return RATOther
}

// RATLock reads the current technology lock.
func (m *Modem) RATLock(ctx context.Context) (RATMode, error) { return m.qc(ctx).ratLock(ctx) }

func (q querier) ratLock(ctx context.Context) (RATMode, error) {
	if f := q.v().ratLock; f != nil {
		return f(ctx, q)
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
	return m.qc(ctx).setRATLock(ctx, mode)
}

// pickRAT maps mode onto t's wire value; a mode t cannot express is
// ErrNotSupported for cmd.
func (q querier) pickRAT(t ratTable, cmd string, mode RATMode) (string, error) {
	v, ok := t.to[mode]
	if !ok {
		return "", &OpError{Cmd: "AT" + cmd, Err: fmt.Errorf("%w: RAT mode %s by the %s dialect", ErrNotSupported, mode, q.d)}
	}
	return v, nil
}

func (q querier) setRATLock(ctx context.Context, mode RATMode) error {
	if _, err := ParseRATMode(string(mode)); err != nil {
		return &OpError{Cmd: "RAT lock", Err: fmt.Errorf("%w: %v", ErrIncorrectParameters, err)}
	}
	if f := q.v().setRATLock; f != nil {
		return f(ctx, q, mode)
	}
	v, err := q.pickRAT(genericWS46, "+WS46=", mode)
	if err != nil {
		return err
	}
	_, err = q.run(ctx, "+WS46="+v)
	return err
}
