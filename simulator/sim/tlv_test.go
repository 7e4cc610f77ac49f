package sim

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func h(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The encoder's identifier and length octets, X.690 §8.1.2 and §8.1.3.
func TestBEREncodeHeaders(t *testing.T) {
	for _, tc := range []struct {
		tag  uint32
		n    int
		head string
	}{
		{0x5A, 0, "5A00"},
		{0x5A, 10, "5A0A"},
		{0x9F70, 1, "9F7001"},
		{0xBF2D, 0x7F, "BF2D7F"},                   // the longest short form
		{0xBF2D, 0x80, "BF2D8180"},                 // the shortest long form
		{0xE3, 0xFF, "E381FF"},                     //
		{0xE3, 0x100, "E3820100"},                  // two length octets
		{0xDF8101, 0x10000, "DF8101830100" + "00"}, // three-octet tag, three length octets
	} {
		got := hex.EncodeToString(one(tc.tag, make([]byte, tc.n)))
		if want := strings.ToLower(tc.head); !strings.HasPrefix(got, want) || len(got) != len(want)+2*tc.n {
			t.Errorf("one(%X, %d bytes) starts %s…, want %s", tc.tag, tc.n, got[:min(len(got), len(want))], tc.head)
		}
	}
}

// nest back-patches the length, whatever the size of the children, and
// nests to any depth.
func TestBERNest(t *testing.T) {
	got := new(ber).nest(0xBF31, func(e *ber) {
		e.nest(0xA0, func(e *ber) { e.add(0x5A, h(t, "98001032547698103214")) })
		e.add(0x81, []byte{0xFF})
	}).bytes()
	// The golden EnableProfile request of at-and-sim-mechanics.md §5.2.
	if want := h(t, "BF3111A00C5A0A980010325476981032148101FF"); string(got) != string(want) {
		t.Errorf("EnableProfile = %X, want %X", got, want)
	}
	big := new(ber).nest(0xE3, func(e *ber) { e.add(0x04, make([]byte, 300)) }).bytes()
	// E3 82 0130 { 04 82 012C <300 bytes> }
	if hex.EncodeToString(big[:8]) != "e38201300482012c" || len(big) != 4+4+300 {
		t.Errorf("long nest head % X, len %d", big[:8], len(big))
	}
	empty := new(ber).nest(0xBF28, func(e *ber) { e.nest(0xA0, nil) }).bytes()
	if hex.EncodeToString(empty) != "bf2802a000" {
		t.Errorf("empty list = % X", empty)
	}
}

// The decoder builds the whole tree and finds children by tag.
func TestBERTree(t *testing.T) {
	root, err := parseTree(h(t, "BF3111 A00C 5A0A98001032547698103214 8101FF"))
	if err != nil {
		t.Fatal(err)
	}
	if root.tag != 0xBF31 || !constructedTag(root.tag) || len(root.kids) != 2 {
		t.Fatalf("root = %X with %d children", root.tag, len(root.kids))
	}
	a0, ok := root.child(0xA0)
	if !ok || len(a0.kids) != 1 || a0.kids[0].tag != 0x5A || hex.EncodeToString(a0.kids[0].raw) != "98001032547698103214" {
		t.Errorf("A0 = %+v", a0)
	}
	if f, ok := root.child(0x81); !ok || len(f.raw) != 1 || f.raw[0] != 0xFF || f.kids != nil {
		t.Errorf("81 = %+v", f)
	}
	if _, ok := root.child(0x80); ok {
		t.Error("found a child that is not there")
	}
	// Siblings, and long-form lengths that are not the shortest (BER
	// allows them; DER would not).
	ns, err := parseSeq(h(t, "5A00 9F7081 01 01 E3820003 4F0100"))
	if err != nil || len(ns) != 3 || ns[1].tag != 0x9F70 || ns[2].kids[0].tag != 0x4F {
		t.Fatalf("parseSeq = %+v, %v", ns, err)
	}
	// A tag list (5C) is identifier octets back to back.
	if tags, err := parseTags(h(t, "5A9F70BF2D4F")); err != nil || len(tags) != 4 || tags[1] != 0x9F70 || tags[2] != 0xBF2D {
		t.Errorf("parseTags = %X %v", tags, err)
	}
}

func TestBERMalformed(t *testing.T) {
	for _, in := range []string{
		"",                 // nothing
		"BF",               // multi-octet tag cut short
		"BFFFFF0100",       // a tag of four octets
		"BF2D",             // no length
		"5A0B00",           // fewer contents than announced
		"5A80",             // indefinite length
		"5AFF",             // reserved length octet
		"5A85000000000001", // five length octets
		"5A8201",           // long length cut short
		"E381",             // long length cut short
		"A003 5A0500",      // a constructed object whose content is not BER
		"BF2D00 00",        // parseTree: a trailing octet
	} {
		if _, err := parseTree(h(t, in)); !errors.Is(err, errTLV) {
			t.Errorf("parseTree(%s) = %v, want errTLV", in, err)
		}
	}
	if _, err := parseTags(h(t, "5A9F")); !errors.Is(err, errTLV) {
		t.Error("truncated tag list accepted")
	}
	deep := h(t, strings.Repeat("A0", 1)+"00")
	for i := 0; i < 20; i++ {
		deep = one(0xA0, deep)
	}
	if _, err := parseTree(deep); !errors.Is(err, errTLV) {
		t.Error("nesting past maxDepth accepted")
	}
}

func TestSW(t *testing.T) {
	for sw, ok := range map[SW]bool{SWOK: true, 0x9108: true, 0x6110: true, SWFileNotFound: false, SWWrongLength: false} {
		if sw.OK() != ok {
			t.Errorf("%s.OK() = %v", sw, !ok)
		}
	}
	if SWFileNotFound.String() != "6A82" || SWFileNotFound.SW1() != 0x6A || SWFileNotFound.SW2() != 0x82 {
		t.Error("SW accessors")
	}
}
