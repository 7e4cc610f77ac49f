package modem

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// APDU is an ISO 7816-4 command APDU.
type APDU struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	// Le is the expected response length: 0 = absent, 1..256 (256 is sent as
	// 00), more than 256 forces the extended form.
	Le int
}

// Bytes encodes the APDU, in the short form whenever it fits.
func (a APDU) Bytes() []byte {
	out := []byte{a.CLA, a.INS, a.P1, a.P2}
	ext := len(a.Data) > 255 || a.Le > 256
	if len(a.Data) > 0 {
		if ext {
			out = append(out, 0, byte(len(a.Data)>>8), byte(len(a.Data)))
		} else {
			out = append(out, byte(len(a.Data)))
		}
		out = append(out, a.Data...)
	}
	if a.Le > 0 {
		switch {
		case ext && len(a.Data) > 0:
			out = append(out, byte(a.Le>>8), byte(a.Le))
		case ext:
			out = append(out, 0, byte(a.Le>>8), byte(a.Le))
		default:
			out = append(out, byte(a.Le)) // 256 wraps to 00, as ISO wants
		}
	}
	return out
}

// Hex is Bytes in upper-case hex, as AT+CSIM/AT+CGLA carry it.
func (a APDU) Hex() string { return strings.ToUpper(hex.EncodeToString(a.Bytes())) }

// SW is a status word, SW1 in the high byte.
type SW uint16

// SW1 and SW2 split the word.
func (s SW) SW1() byte { return byte(s >> 8) }

// SW2 is the low byte.
func (s SW) SW2() byte { return byte(s) }

// OK reports normal completion: 9000, or 91xx (done, and a proactive
// command is waiting, which the modem's STK handles).
func (s SW) OK() bool { return s == 0x9000 || s.SW1() == 0x91 }

// MoreData reports 61xx: n bytes are waiting for GET RESPONSE (00 = 256).
func (s SW) MoreData() (n int, ok bool) {
	if s.SW1() != 0x61 {
		return 0, false
	}
	if s.SW2() == 0 {
		return 256, true
	}
	return int(s.SW2()), true
}

// WrongLength reports 6Cxx: resend with Le = n.
func (s SW) WrongLength() (n int, ok bool) {
	if s.SW1() != 0x6C {
		return 0, false
	}
	if s.SW2() == 0 {
		return 256, true
	}
	return int(s.SW2()), true
}

func (s SW) String() string { return fmt.Sprintf("%04X", uint16(s)) }

// Response is a response APDU.
type Response struct {
	Data []byte
	SW   SW
}

// ParseResponseHex splits "<data>SW1SW2" as the modem returns it.
func ParseResponseHex(s string) (Response, error) {
	s = strings.TrimSpace(s)
	if len(s) < 4 || len(s)%2 != 0 {
		return Response{}, fmt.Errorf("response %q: want an even number of hex digits, at least 4", truncate(s, 40))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return Response{}, fmt.Errorf("response: %w", err)
	}
	n := len(b)
	return Response{Data: b[:n-2], SW: SW(uint16(b[n-2])<<8 | uint16(b[n-1]))}, nil
}

// SWError is a status word the operation did not expect.
// errors.Is(err, ErrStatusWord) holds for it.
type SWError struct {
	Op string // what was being done, e.g. "SELECT ISD-R"
	SW SW
}

func (e *SWError) Error() string { return fmt.Sprintf("modem: %s: status word %s", e.Op, e.SW) }

// Is matches ErrStatusWord.
func (e *SWError) Is(target error) bool { return target == ErrStatusWord }
