package modem

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// SIM-access replies (+CCHO, +CGLA, +CSIM, +CRSM) and the EF_IMSI/EF_ICCID
// byte layouts. Each takes the info lines the command owns, without OK.

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func simErr(cmd, field, line, format string, args ...any) error {
	var err error
	if format != "" {
		err = fmt.Errorf(format, args...)
	}
	return &ParseError{Cmd: cmd, Field: field, Line: clip(line, 120), Err: err}
}

// simValue returns the text after "<prefix>:" on the first line that has
// it, or the first bare line when bareOK (Fibocom answers CCHO without a
// prefix).
func simValue(lines []string, prefix string, bareOK bool) (string, string, bool) {
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if len(t) > len(prefix) && strings.EqualFold(t[:len(prefix)], prefix) && t[len(prefix)] == ':' {
			return strings.TrimSpace(t[len(prefix)+1:]), l, true
		}
	}
	if bareOK {
		for _, l := range lines {
			if t := strings.TrimSpace(l); t != "" && !hasInfoPrefix(t) {
				return t, l, true
			}
		}
	}
	return "", "", false
}

// ParseCCHO returns the session id from "+CCHO: 1", a bare "1" or Sierra's
// "+CCHO: 000000000385a7cf". The id is opaque: it is only ever sent back.
func ParseCCHO(lines []string) (string, error) {
	v, line, ok := simValue(lines, "+CCHO", true)
	if !ok {
		return "", simErr("+CCHO", "", strings.Join(lines, "|"), "no session id")
	}
	v = strings.Trim(v, `" `)
	if v == "" || len(v) > 32 {
		return "", simErr("+CCHO", "sessionid", line, "want 1 to 32 characters")
	}
	for _, r := range v {
		if !((r >= '0' && r <= '9') || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F')) {
			return "", simErr("+CCHO", "sessionid", line, "not a number or hex handle")
		}
	}
	return v, nil
}

// lengthAndHex parses `<length>,"<hex>"` (quotes optional). length counts
// hex characters; a modem that counts bytes instead is tolerated.
func lengthAndHex(cmd, v, line string) (string, error) {
	n, rest, ok := strings.Cut(v, ",")
	if !ok {
		return "", simErr(cmd, "response", line, "missing the response field")
	}
	length, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || length < 0 {
		return "", simErr(cmd, "length", line, "not a number")
	}
	h := strings.Trim(strings.TrimSpace(rest), `"`)
	if length != len(h) && length*2 != len(h) {
		return "", simErr(cmd, "length", line, "says %d, response has %d hex digits", length, len(h))
	}
	return h, nil
}

// ParseCGLA parses `+CGLA: <length>,"<response>"`.
func ParseCGLA(lines []string) (Response, error) { return parseAPDUReply("+CGLA", lines) }

// ParseCSIM parses `+CSIM: <length>,"<response>"`.
func ParseCSIM(lines []string) (Response, error) { return parseAPDUReply("+CSIM", lines) }

func parseAPDUReply(cmd string, lines []string) (Response, error) {
	v, line, ok := simValue(lines, cmd, false)
	if !ok {
		return Response{}, simErr(cmd, "", strings.Join(lines, "|"), "no %s line", cmd)
	}
	h, err := lengthAndHex(cmd, v, line)
	if err != nil {
		return Response{}, err
	}
	r, err := ParseResponseHex(h)
	if err != nil {
		return Response{}, simErr(cmd, "response", line, "%v", err)
	}
	return r, nil
}

// ParseCRSM parses `+CRSM: <sw1>,<sw2>[,<response>]`, the response quoted
// or bare, with or without spaces, possibly empty.
func ParseCRSM(lines []string) (Response, error) {
	v, line, ok := simValue(lines, "+CRSM", false)
	if !ok {
		return Response{}, simErr("+CRSM", "", strings.Join(lines, "|"), "no +CRSM line")
	}
	fs := strings.SplitN(v, ",", 3)
	if len(fs) < 2 {
		return Response{}, simErr("+CRSM", "sw2", line, "missing")
	}
	sw1, err1 := strconv.ParseUint(strings.TrimSpace(fs[0]), 10, 8)
	if err1 != nil {
		return Response{}, simErr("+CRSM", "sw1", line, "not a byte")
	}
	sw2, err2 := strconv.ParseUint(strings.TrimSpace(fs[1]), 10, 8)
	if err2 != nil {
		return Response{}, simErr("+CRSM", "sw2", line, "not a byte")
	}
	r := Response{SW: SW(sw1<<8 | sw2)}
	if len(fs) == 3 {
		h := strings.Trim(strings.TrimSpace(fs[2]), `"`)
		b, err := hex.DecodeString(h)
		if err != nil {
			return Response{}, simErr("+CRSM", "response", line, "not hex")
		}
		r.Data = b
	}
	return r, nil
}

// DecodeEFIMSI decodes EF_IMSI (3GPP TS 31.102 §4.2.2): a length byte, then
// the digits low nibble first, the first nibble holding the parity bits
// instead of a digit.
func DecodeEFIMSI(b []byte) (IMSI, error) {
	if len(b) < 2 {
		return "", simErr("EF_IMSI", "length", hex.EncodeToString(b), "too short")
	}
	n := int(b[0])
	if n < 1 || n > 8 || n+1 > len(b) {
		return "", simErr("EF_IMSI", "length", hex.EncodeToString(b), "length byte %d does not fit", n)
	}
	var d []byte
	for i, x := range b[1 : n+1] {
		lo, hi := x&0x0F, x>>4
		if i > 0 {
			if lo == 0xF {
				break
			}
			if lo > 9 {
				return "", simErr("EF_IMSI", "digits", hex.EncodeToString(b), "nibble %X", lo)
			}
			d = append(d, '0'+lo)
		}
		if hi == 0xF {
			break
		}
		if hi > 9 {
			return "", simErr("EF_IMSI", "digits", hex.EncodeToString(b), "nibble %X", hi)
		}
		d = append(d, '0'+hi)
	}
	imsi := IMSI(d)
	if !imsi.Valid() {
		return "", simErr("EF_IMSI", "digits", hex.EncodeToString(b), "%d digits is not an IMSI", len(d))
	}
	// The parity bit is not checked: cards with it wrong exist, and the
	// digits themselves are unambiguous.
	return imsi, nil
}

// DecodeEFICCID decodes EF_ICCID: BCD with the nibbles of each byte swapped,
// padded with F. Hex letters other than the padding are kept (some issuers
// use them).
func DecodeEFICCID(b []byte) (ICCID, error) {
	var d []byte
	const digits = "0123456789ABCDEF"
	for _, x := range b {
		d = append(d, digits[x&0x0F], digits[x>>4])
	}
	s := strings.TrimRight(string(d), "F")
	if len(s) < 18 || len(s) > 20 {
		return "", simErr("EF_ICCID", "digits", hex.EncodeToString(b), "%d digits is not an ICCID", len(s))
	}
	return ICCID(s), nil
}
