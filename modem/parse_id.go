package modem

import (
	"errors"
	"strings"
)

// identity labels as ATI prints them ("Manufacturer: Quectel") and the
// +GMx/+CGMx prefixes some firmware puts on the per-command answers.
var (
	manufacturerTags = []string{"Manufacturer:", "+CGMI:", "+GMI:"}
	modelTags        = []string{"Model:", "+CGMM:", "+GMM:"}
	revisionTags     = []string{"Revision:", "+CGMR:", "+GMR:"}
	imeiTags         = []string{"IMEI:", "+CGSN:", "+GSN:"}
)

// cutAnyTag strips the first matching label (case-insensitive) from line.
func cutAnyTag(line string, tags []string) (string, bool) {
	s := strings.TrimSpace(line)
	for _, t := range tags {
		if len(s) >= len(t) && strings.EqualFold(s[:len(t)], t) {
			return strings.TrimSpace(s[len(t):]), true
		}
	}
	return "", false
}

// ParseInfoText returns the value of a one-value command (+CGMI, +CGMM,
// +CGMR): the first plausible line with any label in tags removed and
// surrounding quotes dropped ("\"Motorola\"" from old phones). Plausible
// is printable ASCII with a letter or digit in it: what vendors write
// there, and what line noise almost never is.
func ParseInfoText(lines []string, tags ...string) (string, error) {
	for _, l := range lines {
		v := strings.TrimSpace(l)
		if r, ok := cutAnyTag(v, tags); ok {
			v = r
		}
		v = unquote(v)
		if plausibleText(v) {
			return v, nil
		}
	}
	// The lines are not quoted back: they may be binary noise.
	return "", perr(strings.Join(tags, "/"), "", "", "no line of text in %d line(s)", len(lines))
}

// plausibleOr returns v if it is plausible text, else old.
func plausibleOr(v, old string) string {
	if plausibleText(v) {
		return v
	}
	return old
}

// plausibleText reports whether v can be an identity value.
func plausibleText(v string) bool {
	alnum := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c > 0x7e {
			return false
		}
		if (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') {
			alnum = true
		}
	}
	return alnum
}

// ParseCGMI returns the manufacturer from the +CGMI (or +GMI) answer.
func ParseCGMI(lines []string) (string, error) { return ParseInfoText(lines, manufacturerTags...) }

// ParseCGMM returns the model from the +CGMM (or +GMM) answer.
func ParseCGMM(lines []string) (string, error) { return ParseInfoText(lines, modelTags...) }

// ParseCGMR returns the firmware revision from the +CGMR answer; it keeps
// spaces and brackets ("M0.09.00 [Jan 31 2019 18:59:31]").
func ParseCGMR(lines []string) (string, error) { return ParseInfoText(lines, revisionTags...) }

// ParseIMEI returns the IMEI from the +CGSN (or +GSN) answer. Only 14 to 16
// digits are accepted; a masked or garbled value is an error, never a
// half-IMEI.
func ParseIMEI(lines []string) (string, error) {
	for _, l := range lines {
		v := strings.TrimSpace(l)
		if r, ok := cutAnyTag(v, imeiTags); ok {
			v = r
		}
		v = unquote(v)
		// Option modems append ",SERIAL".
		if i := strings.IndexByte(v, ','); i >= 0 {
			v = v[:i]
		}
		if len(v) >= 14 && len(v) <= 16 && isDigits(v) {
			return v, nil
		}
	}
	return "", perr("+CGSN", "imei", strings.Join(lines, "|"), "no 14-16 digit IMEI")
}

// ParseATI reads the ATI answer. Three layouts exist: labelled lines
// ("Manufacturer: u-blox", "Model: ...", "Revision: ...", "IMEI: ..."),
// Quectel's bare manufacturer and model lines followed by "Revision: ...",
// and Telit's model alone on one bare line ("LE910C4-EU"). A single bare
// line is therefore the model, never the manufacturer. What is not there
// stays empty.
func ParseATI(lines []string) (Identity, error) {
	var id Identity
	var bare []string
	for _, l := range lines {
		s := strings.TrimSpace(l)
		if s == "" || s == "OK" {
			continue
		}
		if v, ok := cutAnyTag(s, manufacturerTags); ok {
			id.Manufacturer = plausibleOr(v, id.Manufacturer)
		} else if v, ok := cutAnyTag(s, modelTags); ok {
			id.Model = plausibleOr(v, id.Model)
		} else if v, ok := cutAnyTag(s, revisionTags); ok {
			id.Revision = plausibleOr(v, id.Revision)
		} else if v, ok := cutAnyTag(s, imeiTags); ok {
			if imei, err := ParseIMEI([]string{v}); err == nil {
				id.IMEI = imei
			}
		} else if !strings.Contains(s, ":") && plausibleText(s) {
			bare = append(bare, s)
		}
	}
	if id.Manufacturer == "" && id.Model == "" && len(bare) >= 2 {
		id.Manufacturer, id.Model = bare[0], bare[1]
	} else if id.Model == "" && len(bare) > 0 {
		id.Model = bare[0]
	}
	if id.Manufacturer == "" && id.Model == "" && id.Revision == "" {
		return id, perr("ATI", "", strings.Join(lines, "|"), "no identity lines")
	}
	return id, nil
}

// ParseIdentity combines the answers to +CGMI, +CGMM, +CGMR and +CGSN (any
// may be nil when the command failed) into an Identity.
func ParseIdentity(cgmi, cgmm, cgmr, cgsn []string) Identity {
	var id Identity
	id.Manufacturer, _ = ParseCGMI(cgmi)
	id.Model, _ = ParseCGMM(cgmm)
	id.Revision, _ = ParseCGMR(cgmr)
	id.IMEI, _ = ParseIMEI(cgsn)
	return id
}

// ParseIMSI finds the IMSI in the +CIMI answer: a bare line of 6 to 15
// digits, or the same behind a "+CIMI:" prefix, maybe quoted.
func ParseIMSI(lines []string) (IMSI, error) {
	for _, l := range lines {
		v := strings.TrimSpace(l)
		if r, ok := cutPrefix(v, "+CIMI:"); ok {
			v = r
		}
		v = unquote(v)
		if imsi := IMSI(v); imsi.Valid() {
			return imsi, nil
		}
	}
	// The line is not echoed into the error: it may be an IMSI with junk.
	return "", perr("+CIMI", "imsi", "", "no line of 6-15 digits in %d line(s)", len(lines))
}

// iccidPrefixes are the vendor spellings of an ICCID answer.
var iccidPrefixes = []string{"+QCCID:", "+ICCID:", "+CCID:", "^ICCID:", "#CCID:", "!ICCID:", "+CICCID:", "ICCID:"}

// ParseICCID finds the ICCID in any vendor's answer: +QCCID, +ICCID (SIMCom
// +CICCID), +CCID (quoted, sometimes with a second empty field), ^ICCID,
// #CCID, !ICCID or a bare line. Hex letters are kept (some issuers use
// them), a trailing padding F is dropped and the result is upper case.
func ParseICCID(lines []string) (ICCID, error) {
	for _, l := range lines {
		v := strings.TrimSpace(l)
		for _, p := range iccidPrefixes {
			if r, ok := cutPrefix(v, p); ok {
				v = r
				break
			}
		}
		v = fieldAt(splitFields(v), 0).s
		v = strings.ToUpper(strings.TrimSpace(v))
		v = strings.TrimRight(v, "F")
		if len(v) >= 18 && len(v) <= 20 && isHexString(v) && isDigits(v[:2]) {
			return ICCID(v), nil
		}
	}
	return "", perr("ICCID", "iccid", "", "no 18-20 character ICCID in %d line(s)", len(lines))
}

// ParseCPIN maps "+CPIN: <code>" (quoted or not) onto a SIMState.
func ParseCPIN(line string) (SIMState, error) {
	rest, ok := cutPrefix(line, "+CPIN:")
	if !ok {
		return SIMUnknown, perr("+CPIN", "", line, "missing +CPIN: prefix")
	}
	code := strings.ToUpper(strings.Join(strings.Fields(unquote(rest)), " "))
	switch code {
	case "READY":
		return SIMReady, nil
	case "NOT READY":
		return SIMNotReady, nil
	case "NOT INSERTED", "SIM REMOVED":
		return SIMNotInserted, nil
	case "SIM PIN", "PH-SIM PIN", "PH-FSIM PIN":
		return SIMPIN, nil
	case "SIM PUK", "PH-FSIM PUK":
		return SIMPUK, nil
	case "SIM PIN2":
		return SIMPIN2, nil
	case "SIM PUK2":
		return SIMPUK2, nil
	}
	if strings.HasPrefix(code, "PH-") {
		return SIMPersonalisation, nil
	}
	return SIMUnknown, perr("+CPIN", "code", line, "unknown code")
}

// SIMStateFromError maps the CME errors a +CPIN? can end with onto a state
// (10 not inserted, 13 failure, 14 busy, ...). ok is false for other errors.
func SIMStateFromError(err error) (SIMState, bool) {
	switch {
	case err == nil:
		return SIMUnknown, false
	case errors.Is(err, ErrSIMNotInserted):
		return SIMNotInserted, true
	case errors.Is(err, ErrSIMBusy):
		return SIMBusy, true
	case errors.Is(err, ErrSIMFailure):
		return SIMFailure, true
	case errors.Is(err, ErrSIMPUK):
		return SIMPUK, true
	case errors.Is(err, ErrSIMPIN):
		return SIMPIN, true
	case errors.Is(err, ErrSIMWrong):
		return SIMFailure, true
	}
	return SIMUnknown, false
}

// ParseCFUN returns <fun> from "+CFUN: <fun>[,...]".
func ParseCFUN(line string) (int, error) {
	rest, ok := cutPrefix(line, "+CFUN:")
	if !ok {
		return 0, perr("+CFUN", "", line, "missing +CFUN: prefix")
	}
	n, err := atoi(fieldAt(splitFields(rest), 0).s)
	if err != nil || n < 0 {
		return 0, perr("+CFUN", "fun", line, "%v", err)
	}
	return n, nil
}

// ParseCEER returns the text of "+CEER: <report>" (implementation defined;
// log it, do not decide on it).
func ParseCEER(lines []string) (string, error) {
	var parts []string
	for _, l := range lines {
		if r, ok := cutPrefix(l, "+CEER:"); ok {
			parts = append(parts, unquote(r))
		}
	}
	if len(parts) == 0 {
		return "", perr("+CEER", "", strings.Join(lines, "|"), "%v", errNoLine)
	}
	return strings.Join(parts, "; "), nil
}
