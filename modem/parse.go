package modem

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseError says which command, field and line a reply could not be read
// from. errors.Is(err, ErrParse) holds for every ParseError.
type ParseError struct {
	Cmd   string // the prefix or command, e.g. "+CEREG"
	Field string // the field that failed, "" when the whole line did
	Line  string // the offending line, truncated for logs
	Err   error  // what was wrong, optional
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("modem: cannot parse ")
	b.WriteString(e.Cmd)
	if e.Field != "" {
		b.WriteString(" field ")
		b.WriteString(e.Field)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	fmt.Fprintf(&b, " in %q", truncate(maskIdentifiers(e.Line), 120))
	return b.String()
}

// maskIdentifiers hides the middle of every run of 14+ hex characters
// (IMSI, ICCID, IMEI) so that an error about a line carrying one (#RFSTS
// has the IMSI) never puts it in a log in clear.
func maskIdentifiers(s string) string {
	b := []byte(s)
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && isHexString(string(b[j:j+1])) {
			j++
		}
		if j-i >= 14 {
			for k := i + 6; k < j-2; k++ {
				b[k] = '*'
			}
		}
		if j == i {
			j++
		}
		i = j
	}
	return string(b)
}

// Is makes every ParseError match ErrParse.
func (e *ParseError) Is(target error) bool { return target == ErrParse }

// Unwrap returns the detail error, if any.
func (e *ParseError) Unwrap() error { return e.Err }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func perr(cmd, field, line string, format string, args ...any) error {
	var err error
	if format != "" {
		err = fmt.Errorf(format, args...)
	}
	return &ParseError{Cmd: cmd, Field: field, Line: line, Err: err}
}

var errNoLine = errors.New("no matching line in the reply")

// cutPrefix removes an information-line prefix such as "+CSQ:" from line,
// case-insensitively and whatever the spacing around the colon, and returns
// the rest with surrounding blanks trimmed.
func cutPrefix(line, prefix string) (string, bool) {
	s := strings.TrimSpace(line)
	p := strings.TrimSuffix(prefix, ":")
	if len(s) < len(p) || !strings.EqualFold(s[:len(p)], p) {
		return "", false
	}
	rest := strings.TrimLeft(s[len(p):], " \t")
	if !strings.HasPrefix(rest, ":") {
		return "", false
	}
	return strings.TrimSpace(rest[1:]), true
}

// findPrefixed returns the text after prefix on the first line that has it.
func findPrefixed(lines []string, prefix string) (string, string, bool) {
	for _, l := range lines {
		if rest, ok := cutPrefix(l, prefix); ok {
			return rest, l, true
		}
	}
	return "", "", false
}

// field is one comma-separated element of an information line.
type field struct {
	s      string // trimmed, quotes removed
	quoted bool
}

// splitFields splits s at commas outside double quotes. Blanks around each
// field are dropped (modems pad with spaces: "2,1, 1F00, 79D903 ,7") and the
// quotes of a quoted field are removed. An unterminated quote runs to the end.
func splitFields(s string) []field {
	var out []field
	var cur strings.Builder
	quoted, inQuote := false, false
	flush := func() {
		v := cur.String()
		if !quoted {
			v = strings.TrimSpace(v)
		}
		out = append(out, field{s: v, quoted: quoted})
		cur.Reset()
		quoted = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			if !inQuote {
				// Whatever blank came before the opening quote is padding.
				if strings.TrimSpace(cur.String()) == "" {
					cur.Reset()
				}
				quoted = true
			}
			inQuote = !inQuote
		case c == ',' && !inQuote:
			flush()
		case !inQuote && quoted && (c == ' ' || c == '\t'):
			// blank after the closing quote
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

func fieldAt(fs []field, i int) field {
	if i < 0 || i >= len(fs) {
		return field{}
	}
	return fs[i]
}

// unknownValue reports whether s is one of the ways modems write "nothing
// here": empty, "-", "--" or "NA".
func unknownValue(s string) bool {
	switch strings.TrimSpace(s) {
	case "", "-", "--", "NA", "N/A", "na":
		return true
	}
	return false
}

// atoi parses a signed decimal integer, tolerating zero padding and a '+'.
func atoi(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty")
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("not an integer: %q", truncate(s, 20))
	}
	return int(n), nil
}

// optInt parses an integer field; empty, "-" and any of the unknown values
// give nil.
func optInt(s string, unknown ...int) (*int, error) {
	if unknownValue(s) {
		return nil, nil
	}
	n, err := atoi(s)
	if err != nil {
		return nil, err
	}
	for _, u := range unknown {
		if n == u {
			return nil, nil
		}
	}
	return &n, nil
}

func atof(s string) (float64, error) {
	s = strings.TrimSpace(s)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("not a number: %q", truncate(s, 20))
	}
	return f, nil
}

// parseHex parses a hex field as modems write them: quoted or not, upper or
// lower case, with or without 0x, zero padded, sometimes with stray blanks
// inside ("  0 5").
func parseHex(s string, bits int) (uint64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s = s[2:]
	}
	if s == "" {
		return 0, errors.New("empty")
	}
	v, err := strconv.ParseUint(s, 16, bits)
	if err != nil {
		return 0, fmt.Errorf("not hex: %q", truncate(s, 20))
	}
	return v, nil
}

func optHex32(s string) (*uint32, error) {
	if unknownValue(s) {
		return nil, nil
	}
	v, err := parseHex(s, 32)
	if err != nil {
		return nil, err
	}
	u := uint32(v)
	return &u, nil
}

func optHex64(s string) (*uint64, error) {
	if unknownValue(s) {
		return nil, nil
	}
	v, err := parseHex(s, 64)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func ptr[T any](v T) *T { return &v }

func dbm(v float64) *DBm { d := DBm(v); return &d }
func db(v float64) *DB   { d := DB(v); return &d }

// unquote strips surrounding blanks and one pair of double quotes.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return strings.Trim(s, `"`)
}

// isHexString reports whether s is non-empty and only hex digits.
func isHexString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return true
}

// plmnFrom builds a PLMN from separate MCC and MNC fields as serving-cell
// commands print them: bare integers that may have lost their zero padding.
// mncDigits is how many digits the MNC should have when known (0 = keep).
func plmnFrom(mcc, mnc string) (PLMN, error) {
	mcc, mnc = strings.TrimSpace(mcc), strings.TrimSpace(mnc)
	if unknownValue(mcc) || unknownValue(mnc) {
		return PLMN{}, nil
	}
	if !isDigits(mcc) || !isDigits(mnc) || len(mcc) > 3 || len(mnc) > 3 {
		if strings.EqualFold(mcc, "fff") || strings.EqualFold(mnc, "fff") {
			return PLMN{}, nil // u-blox "no service"
		}
		return PLMN{}, fmt.Errorf("bad MCC/MNC %q/%q", truncate(mcc, 8), truncate(mnc, 8))
	}
	for len(mcc) < 3 {
		mcc = "0" + mcc
	}
	// A 1-digit MNC lost its padding; 2 digits may be a real 2-digit MNC.
	for len(mnc) < 2 {
		mnc = "0" + mnc
	}
	return PLMN{MCC: mcc, MNC: mnc}, nil
}

func parseUintBase(s string, base int) (uint64, error) {
	s = strings.TrimSpace(s)
	if base == 16 && len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s = s[2:]
	}
	v, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		return 0, fmt.Errorf("not a counter: %q", truncate(s, 24))
	}
	return v, nil
}
