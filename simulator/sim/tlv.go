package sim

import (
	"errors"
	"fmt"
)

// BER-TLV as SGP.22 uses it: tags of up to three bytes (BF2D, 9F70),
// definite lengths in short or long form up to four length bytes. Written
// here rather than shared with package modem so the two sides of the wire
// stay independent.

// tlv is one decoded element; Value aliases the input.
type tlv struct {
	Tag   uint32
	Value []byte
}

// constructed reports bit 6 of the tag's first byte.
func (t tlv) constructed() bool { return tagFirstByte(t.Tag)&0x20 != 0 }

func tagFirstByte(tag uint32) byte {
	for tag > 0xFF {
		tag >>= 8
	}
	return byte(tag)
}

var errTLV = errors.New("malformed BER-TLV")

// readTLV decodes the element at the start of b and returns the rest.
func readTLV(b []byte) (t tlv, rest []byte, err error) {
	if len(b) == 0 {
		return t, nil, fmt.Errorf("%w: empty", errTLV)
	}
	i := 0
	tag := uint32(b[0])
	i++
	if b[0]&0x1F == 0x1F {
		for {
			if i >= len(b) {
				return t, nil, fmt.Errorf("%w: tag truncated", errTLV)
			}
			if i >= 3 {
				return t, nil, fmt.Errorf("%w: tag longer than 3 bytes", errTLV)
			}
			tag = tag<<8 | uint32(b[i])
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return t, nil, fmt.Errorf("%w: length missing after tag %X", errTLV, tag)
	}
	n := int(b[i])
	i++
	if n&0x80 != 0 {
		k := n & 0x7F
		if k == 0 {
			return t, nil, fmt.Errorf("%w: indefinite length in tag %X", errTLV, tag)
		}
		if k > 3 {
			return t, nil, fmt.Errorf("%w: %d length bytes in tag %X", errTLV, k, tag)
		}
		if i+k > len(b) {
			return t, nil, fmt.Errorf("%w: length truncated in tag %X", errTLV, tag)
		}
		n = 0
		for j := 0; j < k; j++ {
			n = n<<8 | int(b[i+j])
		}
		i += k
	}
	if n > len(b)-i {
		return t, nil, fmt.Errorf("%w: tag %X says %d bytes, %d left", errTLV, tag, n, len(b)-i)
	}
	return tlv{Tag: tag, Value: b[i : i+n]}, b[i+n:], nil
}

// readTLVs decodes a whole sequence of sibling elements.
func readTLVs(b []byte) ([]tlv, error) {
	var out []tlv
	for len(b) > 0 {
		t, rest, err := readTLV(b)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		b = rest
	}
	return out, nil
}

// find returns the first element with tag, if any.
func find(ts []tlv, tag uint32) (tlv, bool) {
	for _, t := range ts {
		if t.Tag == tag {
			return t, true
		}
	}
	return tlv{}, false
}

// appendTLV encodes tag, length (minimal form) and value onto dst.
func appendTLV(dst []byte, tag uint32, value []byte) []byte {
	switch {
	case tag > 0xFFFF:
		dst = append(dst, byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xFF:
		dst = append(dst, byte(tag>>8), byte(tag))
	default:
		dst = append(dst, byte(tag))
	}
	n := len(value)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n <= 0xFF:
		dst = append(dst, 0x81, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, value...)
}

// readTagList splits a tagList (5C) value into tags.
func readTagList(b []byte) ([]uint32, error) {
	var out []uint32
	for len(b) > 0 {
		tag := uint32(b[0])
		i := 1
		if b[0]&0x1F == 0x1F {
			for {
				if i >= len(b) || i >= 3 {
					return nil, fmt.Errorf("%w: tag list entry truncated", errTLV)
				}
				tag = tag<<8 | uint32(b[i])
				i++
				if b[i-1]&0x80 == 0 {
					break
				}
			}
		}
		out = append(out, tag)
		b = b[i:]
	}
	return out, nil
}
