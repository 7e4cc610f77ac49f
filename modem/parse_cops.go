package modem

import (
	"encoding/hex"
	"strings"
	"unicode/utf16"
)

// ParseCOPS reads "+COPS: <mode>[,<format>,<oper>[,<AcT>]]". The operator
// lands in PLMN for format 2 and in Name for formats 0 and 1. "+COPS: 0"
// (nothing selected) is a valid answer with an empty operator.
func ParseCOPS(line string) (Operator, error) {
	rest, ok := cutPrefix(line, "+COPS:")
	if !ok {
		return Operator{}, perr("+COPS", "", line, "missing +COPS: prefix")
	}
	fs := splitFields(rest)
	var op Operator
	mode, err := atoi(fs[0].s)
	if err != nil || mode < 0 || mode > 4 {
		return Operator{}, perr("+COPS", "mode", line, "want 0..4")
	}
	op.Mode = mode
	if len(fs) < 3 || unknownValue(fs[2].s) {
		return op, nil
	}
	format, err := atoi(fs[1].s)
	if err != nil {
		return Operator{}, perr("+COPS", "format", line, "%v", err)
	}
	oper := fs[2].s
	switch format {
	case 2:
		if p, err := ParsePLMN(oper); err == nil {
			op.PLMN = p
		} else if dec, ok := decodeUCS2(oper); ok {
			if op.PLMN, err = ParsePLMN(dec); err != nil {
				return Operator{}, perr("+COPS", "oper", line, "%v", err)
			}
		} else {
			return Operator{}, perr("+COPS", "oper", line, "%v", err)
		}
	case 0, 1:
		// Some firmware (a Huawei E169, gammu issue 385) pads the network
		// name with GSM 7-bit 0x00, which is "@" in the default alphabet:
		// "+COPS: 0,0,"Orange@",2". No operator name ends in "@".
		op.Name = oper
		if t := strings.TrimRight(oper, "@"); t != "" {
			op.Name = t
		}
	default:
		return Operator{}, perr("+COPS", "format", line, "want 0..2")
	}
	if a, err := optInt(fieldAt(fs, 3).s); err != nil {
		return Operator{}, perr("+COPS", "AcT", line, "%v", err)
	} else if a != nil && *a >= 0 && *a <= 13 {
		op.AcT = ptr(AcT(*a))
	}
	return op, nil
}

// decodeUCS2 decodes a hex UCS2 string as modems send under +CSCS="UCS2".
func decodeUCS2(s string) (string, bool) {
	if len(s) < 4 || len(s)%4 != 0 || !isHexString(s) {
		return "", false
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return "", false
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(u)), true
}

// copsGroups returns the contents of the top-level parenthesised groups of
// a +COPS=? answer, in order, ignoring whatever lies between them (commas,
// ",,", a stray ")", an elided "....", a missing separator).
func copsGroups(s string) []string {
	var out []string
	depth, start, inQuote := 0, -1, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			if depth == 0 {
				start = i + 1
			}
			depth++
		case c == ')':
			if depth == 0 {
				continue // stray ")"
			}
			depth--
			if depth == 0 {
				out = append(out, s[start:i])
			}
		}
	}
	return out
}

// ParseCOPSTest reads the +COPS=? scan result: one or several lines (some
// firmware splits the list, with or without a repeated "+COPS:" prefix), a
// missing AcT, empty names, a stray ")", elided entries, a missing ",,"
// before the mode lists, and UCS2 hex strings. Groups that are not networks
// (the supported modes and formats) are skipped. A malformed entry is
// skipped too so that one bad entry does not hide the rest; the call fails
// only when no network could be read and the reply was not an empty list.
func ParseCOPSTest(lines []string) ([]NetworkEntry, error) {
	var b strings.Builder
	for _, l := range lines {
		if r, ok := cutPrefix(l, "+COPS:"); ok {
			l = r
		}
		b.WriteString(strings.TrimSpace(l))
	}
	joined := b.String()
	var out []NetworkEntry
	bad := 0
	for _, g := range copsGroups(joined) {
		fs := splitFields(g)
		quoted := false
		for _, f := range fs {
			quoted = quoted || f.quoted
		}
		if !quoted || len(fs) < 4 {
			continue // "(0,1,2,3,4)", "(0-2)"
		}
		e, ok := copsEntry(fs)
		if !ok {
			bad++
			continue
		}
		out = append(out, e)
	}
	if len(out) == 0 && bad > 0 {
		return nil, perr("+COPS=?", "network", truncate(joined, 200), "%d malformed network entr(y/ies)", bad)
	}
	if out == nil {
		out = []NetworkEntry{}
	}
	return out, nil
}

func copsEntry(fs []field) (NetworkEntry, bool) {
	var e NetworkEntry
	stat, err := atoi(fs[0].s)
	if err != nil || stat < 0 || stat > 3 {
		return e, false
	}
	e.Stat = stat
	long, short, num := fs[1].s, fs[2].s, fs[3].s
	p, err := ParsePLMN(num)
	if err != nil {
		dec, ok := decodeUCS2(num)
		if !ok {
			return e, false
		}
		if p, err = ParsePLMN(dec); err != nil {
			return e, false
		}
		// The numeric was UCS2, so the names are too.
		if d, ok := decodeUCS2(long); ok {
			long = d
		}
		if d, ok := decodeUCS2(short); ok {
			short = d
		}
	}
	e.LongName, e.ShortName, e.PLMN = long, short, p
	if a, err := optInt(fieldAt(fs, 4).s); err == nil && a != nil && *a >= 0 && *a <= 13 {
		e.AcT = ptr(AcT(*a))
	}
	return e, true
}
