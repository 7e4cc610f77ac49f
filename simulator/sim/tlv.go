package sim

import (
	"errors"
	"fmt"
)

// BER-TLV for the card side of the wire, written from the rules themselves
// (ITU-T X.690 §8.1, ISO/IEC 7816-4 §5.2) and deliberately not from package
// modem's reader: the two ends of the wire stay independent.
//
// Two halves:
//   - an encoder, ber, that appends data objects and nests constructed ones
//     by back-patching their length once the children are written;
//   - a tree decoder, parseTree/parseSeq, that turns a buffer into nodes,
//     descending into every constructed object (X.690 §8.1.2.5: the content
//     of a constructed encoding is itself a series of encodings).
//
// A tag is kept as its identifier octets read big-endian (5A, 9F70, BF2D).
// SGP.22 and 7816-4 use tags of at most three octets; lengths use the
// definite form (X.690 §8.1.3.3), at most four length octets.

var errTLV = errors.New("malformed BER-TLV")

const (
	maxTagOctets    = 3
	maxLengthOctets = 4
	maxDepth        = 16 // nesting; SGP.22 requests go 4 deep
)

// ---- encoder ----

// ber builds an encoding. The zero value is ready; methods chain.
type ber struct{ out []byte }

// tagOctets appends tag's identifier octets: the significant bytes of the
// number, most significant first.
func tagOctets(dst []byte, tag uint32) []byte {
	switch {
	case tag >= 1<<16:
		return append(dst, byte(tag>>16), byte(tag>>8), byte(tag))
	case tag >= 1<<8:
		return append(dst, byte(tag>>8), byte(tag))
	}
	return append(dst, byte(tag))
}

// lengthOctets is the definite length n in its shortest form: one octet
// below 128 (X.690 §8.1.3.4), else 0x80|k followed by k octets (§8.1.3.5).
func lengthOctets(n int) []byte {
	if n < 0x80 {
		return []byte{byte(n)}
	}
	var be []byte
	for v := n; v > 0; v >>= 8 {
		be = append([]byte{byte(v)}, be...)
	}
	return append([]byte{0x80 | byte(len(be))}, be...)
}

// add appends one data object with contents v (a primitive value, or the
// ready encoding of a constructed object's children).
func (e *ber) add(tag uint32, v []byte) *ber {
	e.out = tagOctets(e.out, tag)
	e.out = append(e.out, lengthOctets(len(v))...)
	e.out = append(e.out, v...)
	return e
}

// nest appends a constructed object whose children fill writes into e.
func (e *ber) nest(tag uint32, fill func(e *ber)) *ber {
	e.out = tagOctets(e.out, tag)
	start := len(e.out)
	if fill != nil {
		fill(e)
	}
	hdr := lengthOctets(len(e.out) - start)
	e.out = append(e.out, hdr...)               // room for the header
	copy(e.out[start+len(hdr):], e.out[start:]) // shift the contents right
	copy(e.out[start:], hdr)
	return e
}

// bytes returns the encoding built so far.
func (e *ber) bytes() []byte { return e.out }

// one is the encoding of a single data object.
func one(tag uint32, v []byte) []byte { return new(ber).add(tag, v).bytes() }

// ---- decoder ----

// node is one decoded data object. raw aliases the input; kids holds the
// decoded children of a constructed object.
type node struct {
	tag  uint32
	raw  []byte
	kids []node
}

// constructedTag reports bit 6 of the first identifier octet (X.690
// §8.1.2.5).
func constructedTag(tag uint32) bool {
	for tag > 0xFF {
		tag >>= 8
	}
	return tag&0x20 != 0
}

// child is n's first child with tag.
func (n node) child(tag uint32) (node, bool) { return pick(n.kids, tag) }

// pick is the first node of ns with tag.
func pick(ns []node, tag uint32) (node, bool) {
	for _, k := range ns {
		if k.tag == tag {
			return k, true
		}
	}
	return node{}, false
}

// readTag reads identifier octets at b[0:]: the low five bits 11111 of the
// first octet announce subsequent octets, each with bit 8 set while more
// follow (X.690 §8.1.2.4).
func readTag(b []byte) (tag uint32, n int, err error) {
	if len(b) == 0 {
		return 0, 0, fmt.Errorf("%w: no tag", errTLV)
	}
	tag, n = uint32(b[0]), 1
	if b[0]&0x1F != 0x1F {
		return tag, n, nil
	}
	for {
		if n == len(b) {
			return 0, 0, fmt.Errorf("%w: tag %X cut short", errTLV, tag)
		}
		if n == maxTagOctets {
			return 0, 0, fmt.Errorf("%w: tag %X… longer than %d octets", errTLV, tag, maxTagOctets)
		}
		c := b[n]
		tag = tag<<8 | uint32(c)
		n++
		if c&0x80 == 0 {
			return tag, n, nil
		}
	}
}

// readLength reads length octets at b[0:]: the definite short or long form;
// the indefinite form (80) and the reserved FF are refused.
func readLength(b []byte) (length, n int, err error) {
	if len(b) == 0 {
		return 0, 0, fmt.Errorf("%w: no length", errTLV)
	}
	first := b[0]
	if first < 0x80 {
		return int(first), 1, nil
	}
	k := int(first & 0x7F)
	switch {
	case k == 0:
		return 0, 0, fmt.Errorf("%w: indefinite length", errTLV)
	case first == 0xFF || k > maxLengthOctets:
		return 0, 0, fmt.Errorf("%w: %d length octets", errTLV, k)
	case 1+k > len(b):
		return 0, 0, fmt.Errorf("%w: length cut short", errTLV)
	}
	for _, c := range b[1 : 1+k] {
		length = length<<8 | int(c)
	}
	return length, 1 + k, nil
}

// parseNode decodes the data object at the front of b and returns how many
// octets it took.
func parseNode(b []byte, depth int) (node, int, error) {
	if depth > maxDepth {
		return node{}, 0, fmt.Errorf("%w: nested deeper than %d", errTLV, maxDepth)
	}
	tag, tn, err := readTag(b)
	if err != nil {
		return node{}, 0, err
	}
	length, ln, err := readLength(b[tn:])
	if err != nil {
		return node{}, 0, fmt.Errorf("tag %X: %w", tag, err)
	}
	body := b[tn+ln:]
	if length > len(body) {
		return node{}, 0, fmt.Errorf("%w: tag %X announces %d octets, %d follow", errTLV, tag, length, len(body))
	}
	nd := node{tag: tag, raw: body[:length:length]}
	if constructedTag(tag) {
		if nd.kids, err = parseList(nd.raw, depth+1); err != nil {
			return node{}, 0, fmt.Errorf("in tag %X: %w", tag, err)
		}
	}
	return nd, tn + ln + length, nil
}

func parseList(b []byte, depth int) ([]node, error) {
	var out []node
	for off := 0; off < len(b); {
		nd, used, err := parseNode(b[off:], depth)
		if err != nil {
			return nil, err
		}
		out = append(out, nd)
		off += used
	}
	return out, nil
}

// parseSeq decodes b as a series of sibling data objects.
func parseSeq(b []byte) ([]node, error) { return parseList(b, 0) }

// parseTree decodes b as exactly one data object.
func parseTree(b []byte) (node, error) {
	nd, used, err := parseNode(b, 0)
	if err != nil {
		return node{}, err
	}
	if used != len(b) {
		return node{}, fmt.Errorf("%w: %d octets after tag %X", errTLV, len(b)-used, nd.tag)
	}
	return nd, nil
}

// parseTags splits a tag list (7816-4 tag 5C: identifier octets back to
// back, no lengths).
func parseTags(b []byte) ([]uint32, error) {
	var tags []uint32
	for len(b) > 0 {
		tag, n, err := readTag(b)
		if err != nil {
			return nil, err
		}
		tags = append(tags, tag)
		b = b[n:]
	}
	return tags, nil
}
