package modem

import (
	"encoding/hex"
	"errors"
	"fmt"
)

// BER-TLV (ISO 7816-4 §5.2, ITU X.690 definite lengths) as SGP.22 ES10
// uses it: tags of up to 3 bytes, lengths of up to 3 bytes (16 MiB, far past
// anything a eUICC sends). Written here rather than with encoding/asn1 because
// ES10 mixes context and application tags in ways asn1's struct tags do not
// express, and the eUICC answers are small and flat enough to walk by hand.

// TLV is one BER-TLV data object. For a constructed tag, Value holds the
// encoded children; Children decodes them.
type TLV struct {
	Tag   uint32 // the tag bytes big-endian: 0x5A, 0xBF2D, 0x9F70
	Value []byte
}

var errTLV = errors.New("bad BER-TLV")

// Constructed reports whether the tag's first byte has the constructed bit.
func (t TLV) Constructed() bool {
	first := t.Tag
	for first > 0xFF {
		first >>= 8
	}
	return first&0x20 != 0
}

// Children decodes Value as a sequence of TLVs.
func (t TLV) Children() ([]TLV, error) { return ParseTLVs(t.Value) }

// Bytes encodes the TLV.
func (t TLV) Bytes() []byte { return EncodeTLV(t.Tag, t.Value) }

// ParseTLV decodes one TLV from the front of b and returns the rest.
func ParseTLV(b []byte) (TLV, []byte, error) {
	if len(b) == 0 {
		return TLV{}, nil, fmt.Errorf("%w: empty", errTLV)
	}
	i := 0
	tag := uint32(b[0])
	i++
	if b[0]&0x1F == 0x1F {
		for {
			if i >= len(b) {
				return TLV{}, nil, fmt.Errorf("%w: tag runs past the end", errTLV)
			}
			if i >= 3 {
				return TLV{}, nil, fmt.Errorf("%w: tag longer than 3 bytes", errTLV)
			}
			tag = tag<<8 | uint32(b[i])
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return TLV{}, nil, fmt.Errorf("%w: tag %X has no length", errTLV, tag)
	}
	l := int(b[i])
	i++
	if l&0x80 != 0 {
		n := l & 0x7F
		if n == 0 || n > 3 {
			return TLV{}, nil, fmt.Errorf("%w: tag %X: length form %02X", errTLV, tag, 0x80|n)
		}
		if i+n > len(b) {
			return TLV{}, nil, fmt.Errorf("%w: tag %X: length runs past the end", errTLV, tag)
		}
		l = 0
		for _, x := range b[i : i+n] {
			l = l<<8 | int(x)
		}
		i += n
	}
	if l > len(b)-i {
		return TLV{}, nil, fmt.Errorf("%w: tag %X: length %d, only %d bytes left", errTLV, tag, l, len(b)-i)
	}
	return TLV{Tag: tag, Value: b[i : i+l]}, b[i+l:], nil
}

// ParseTLVs decodes a whole buffer of consecutive TLVs.
func ParseTLVs(b []byte) ([]TLV, error) {
	var out []TLV
	for len(b) > 0 {
		t, rest, err := ParseTLV(b)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		b = rest
	}
	return out, nil
}

// EncodeTLV encodes tag and value with the shortest definite length.
func EncodeTLV(tag uint32, value []byte) []byte {
	var out []byte
	switch {
	case tag > 0xFFFF:
		out = append(out, byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xFF:
		out = append(out, byte(tag>>8), byte(tag))
	default:
		out = append(out, byte(tag))
	}
	l := len(value)
	switch {
	case l < 0x80:
		out = append(out, byte(l))
	case l <= 0xFF:
		out = append(out, 0x81, byte(l))
	case l <= 0xFFFF:
		out = append(out, 0x82, byte(l>>8), byte(l))
	default:
		out = append(out, 0x83, byte(l>>16), byte(l>>8), byte(l))
	}
	return append(out, value...)
}

// EncodeConstructed encodes tag around the concatenated children.
func EncodeConstructed(tag uint32, children ...[]byte) []byte {
	var v []byte
	for _, c := range children {
		v = append(v, c...)
	}
	return EncodeTLV(tag, v)
}

// findTLV returns the first object with tag among ts.
func findTLV(ts []TLV, tag uint32) (TLV, bool) {
	for _, t := range ts {
		if t.Tag == tag {
			return t, true
		}
	}
	return TLV{}, false
}

func (t TLV) String() string {
	return fmt.Sprintf("%X[%s]", t.Tag, hex.EncodeToString(t.Value))
}
