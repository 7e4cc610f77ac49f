package sim

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// encIMSI is pySim's enc_imsi: length byte, then the parity nibble (1, or 9
// for an odd digit count) and the digits, nibble-swapped and F-padded to 9
// bytes. The length byte counts only the bytes that hold digits.
func encIMSI(imsi string) []byte {
	nibbles := make([]byte, 0, 16)
	parity := byte(1)
	if len(imsi)%2 == 1 {
		parity = 9
	}
	nibbles = append(nibbles, parity)
	for i := 0; i < len(imsi); i++ {
		nibbles = append(nibbles, imsi[i]-'0')
	}
	out := make([]byte, 9)
	out[0] = byte((len(imsi) + 2) / 2)
	for i := 0; i < 8; i++ {
		lo, hi := byte(0xF), byte(0xF)
		if 2*i < len(nibbles) {
			lo = nibbles[2*i]
		}
		if 2*i+1 < len(nibbles) {
			hi = nibbles[2*i+1]
		}
		out[1+i] = hi<<4 | lo
	}
	return out
}

// encTBCD swaps the nibbles of each digit pair (hex letters kept as their
// nibble value) and pads with F to size bytes; used for ICCIDs.
func encTBCD(digits string, size int) []byte {
	out := make([]byte, size)
	for i := range out {
		out[i] = 0xFF
	}
	for i := 0; i < len(digits) && i/2 < size; i++ {
		v := hexNibble(digits[i])
		if i%2 == 0 {
			out[i/2] = 0xF0 | v
		} else {
			out[i/2] = out[i/2]&0x0F | v<<4
		}
	}
	return out
}

// decTBCD reverses encTBCD, stopping at the first F filler nibble.
func decTBCD(b []byte) string {
	var sb strings.Builder
	const digits = "0123456789ABCDEF"
	for _, x := range b {
		for _, n := range []byte{x & 0x0F, x >> 4} {
			if n == 0xF {
				return sb.String()
			}
			sb.WriteByte(digits[n])
		}
	}
	return sb.String()
}

func hexNibble(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0xF
}

// encPLMN is the 3-byte TS 24.008 PLMN encoding used by EF_FPLMN:
// MCC2 MCC1 | MNC3 MCC3 | MNC2 MNC1, MNC3 = F for a two-digit MNC.
func encPLMN(plmn string) []byte {
	d := func(i int) byte {
		if i < len(plmn) {
			return plmn[i] - '0'
		}
		return 0xF
	}
	return []byte{d(1)<<4 | d(0), d(5)<<4 | d(2), d(4)<<4 | d(3)}
}

// encFPLMN lists the PLMNs, padded with FF to at least four entries, the
// usual minimum size of EF_FPLMN.
func encFPLMN(list []string) []byte {
	n := max(len(list), 4)
	out := make([]byte, 0, 3*n)
	for _, p := range list {
		out = append(out, encPLMN(p)...)
	}
	for len(out) < 3*n {
		out = append(out, 0xFF)
	}
	return out
}

// encSPN is EF_SPN: display condition byte 00, then the name in the GSM
// 7-bit default alphabet, one character per byte, padded with FF to 17.
func encSPN(spn string) []byte {
	out := make([]byte, 17)
	for i := range out {
		out[i] = 0xFF
	}
	out[0] = 0x00
	for i := 0; i < len(spn) && i < 16; i++ {
		c, _ := gsm7(spn[i])
		out[1+i] = c
	}
	return out
}

// gsm7 maps the ASCII characters the GSM default alphabet shares with
// ASCII (and @ $ _, which sit elsewhere); others are not encodable.
func gsm7(c byte) (byte, bool) {
	switch {
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return c, true
	case strings.IndexByte(" !\"#%&'()*+,-./:;<=>?", c) >= 0:
		return c, true
	case c == '@':
		return 0x00, true
	case c == '$':
		return 0x02, true
	case c == '_':
		return 0x11, true
	}
	return 0, false
}

// encAD is EF_AD: normal operation, no additional info, MNC length.
func encAD(mncLen int) []byte { return []byte{0x00, 0x00, 0x00, byte(mncLen)} }

// encEID packs 32 decimal digits into 16 bytes, high nibble first (the EID
// is shown as the hex of these bytes, not nibble-swapped).
func encEID(eid string) []byte {
	b, _ := hex.DecodeString(eid)
	return b
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if hexNibble(s[i]) == 0xF && s[i] != 'f' && s[i] != 'F' {
			return false
		}
	}
	return true
}

// defaultMNCLength: North American MCCs use three-digit MNCs.
func defaultMNCLength(imsi string) int {
	switch imsi[:3] {
	case "302", "310", "311", "312", "313", "314", "315", "316", "334":
		return 3
	}
	return 2
}

func fieldErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// decFPLMN lists the PLMNs in an EF_FPLMN body, skipping FFFFFF entries.
func decFPLMN(b []byte) []string {
	var out []string
	for i := 0; i+3 <= len(b); i += 3 {
		if b[i] == 0xFF && b[i+1] == 0xFF && b[i+2] == 0xFF {
			continue
		}
		digits := []byte{b[i] & 0xF, b[i] >> 4, b[i+1] & 0xF, b[i+2] & 0xF, b[i+2] >> 4, b[i+1] >> 4}
		var s []byte
		for _, d := range digits {
			if d <= 9 {
				s = append(s, '0'+d)
			}
		}
		out = append(out, string(s))
	}
	return out
}
