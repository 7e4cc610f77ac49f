package modem

import (
	"fmt"
	"strings"
)

// Dialect names the AT command set spoken beyond 3GPP TS 27.007: which
// command reads the ICCID, the serving cell, the data counters, the RAT
// lock and the SIM slot, and how it scales what it reports. Each dialect
// but the generic one is a family registered by its vendor_<name>.go.
type Dialect string

// DialectGeneric is a modem that speaks 27.007 only. The vendor dialects
// (DialectQuectel, ...) are declared in their vendor files.
const DialectGeneric Dialect = "generic"

// Dialects lists every dialect, generic first, then the registered
// families.
var Dialects = []Dialect{DialectGeneric}

func (d Dialect) String() string {
	if d == "" {
		return string(DialectGeneric)
	}
	return string(d)
}

// normDialectName is how ParseDialect compares names.
func normDialectName(s string) string {
	n := strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer("-", "", "_", "", " ", "").Replace(n)
}

// ParseDialect accepts a dialect name as the CLI and config write it
// (case-insensitive; "u-blox" and "sierra wireless" too).
func ParseDialect(s string) (Dialect, error) {
	n := normDialectName(s)
	if n == "" || n == string(DialectGeneric) {
		return DialectGeneric, nil
	}
	for _, v := range append([]*vendor{genericVendor}, registry...) {
		if n == normDialectName(string(v.dialect)) {
			return v.dialect, nil
		}
		for _, a := range v.aliases {
			if n == a {
				return v.dialect, nil
			}
		}
	}
	return "", fmt.Errorf("modem: unknown dialect %q (want one of %v)", truncate(s, 32), Dialects)
}

// DetectDialect picks the dialect from the manufacturer and model the
// modem reported (+CGMI/+GMI, +CGMM/+GMM, ATI, +SIMCOMATI),
// case-insensitively: a family's manufacturer word in either ("SIMCOM
// INCORPORATED", or the model "SIMCOM_SIM7000G"), then a model prefix of
// the model or of any of its words ("SIM7000G R1529"). Unknown modems get
// DialectGeneric.
func DetectDialect(manufacturer, model string) Dialect {
	m := strings.ToLower(manufacturer)
	mo := strings.ToLower(strings.TrimSpace(model))
	for _, text := range []string{m, mo} {
		for _, v := range registry {
			for _, s := range v.manufacturers {
				if text != "" && strings.Contains(text, s) {
					return v.dialect
				}
			}
		}
	}
	words := append([]string{mo}, strings.FieldsFunc(mo, func(r rune) bool {
		return r == ' ' || r == '_' || r == '/' || r == ','
	})...)
	for _, w := range words {
		for _, v := range registry {
			for _, s := range v.models {
				if strings.HasPrefix(w, s) {
					return v.dialect
				}
			}
		}
	}
	return DialectGeneric
}

// StartupCommands are the vendor URC settings sent after the engine's own
// start-up commands. None of them resets the modem, touches the radio or
// changes a persistent setting that alters behaviour after a reboot.
func (d Dialect) StartupCommands() []string {
	return append([]string(nil), vendorOf(d).startup...)
}

// iccidCmds is the dialect's ICCID command and the prefixes of its answer,
// then the generic fallbacks.
func (d Dialect) iccidCmds() []cmdSpec {
	generic := []cmdSpec{
		{cmd: "+CCID", prefix: []string{"+CCID:", "+ICCID:"}, bare: true},
		// Sierra EM7455 answers +ICCID with "ICCID: <digits>", no "+".
		{cmd: "+ICCID", prefix: []string{"+ICCID:", "+CCID:", "ICCID:"}},
	}
	cmds := append(append([]cmdSpec(nil), vendorOf(d).iccid...), generic...)
	for i := range cmds {
		// Reads of a fixed shape: a reply without an ICCID was not theirs.
		cmds[i].need = true
		cmds[i].check = func(l []string) error { _, err := ParseICCID(l); return err }
	}
	return cmds
}
