package sim

import (
	"bytes"
	"errors"
	"testing"
)

func TestTLVEncode(t *testing.T) {
	for _, tc := range []struct {
		tag  uint32
		n    int
		head string
	}{
		{0x5A, 10, "5A0A"},
		{0x9F70, 1, "9F7001"},
		{0xBF2D, 0x7F, "BF2D7F"},
		{0xBF2D, 0x80, "BF2D8180"},
		{0xE3, 0x100, "E3820100"},
		{0xDF8101, 0x10000, "DF8101830100" + "00"},
	} {
		enc := appendTLV(nil, tc.tag, make([]byte, tc.n))
		if got := hexU(enc[:len(tc.head)/2]); got != tc.head {
			t.Errorf("tag %X len %d: head %s, want %s", tc.tag, tc.n, got, tc.head)
		}
		d, rest, err := readTLV(enc)
		if err != nil || d.Tag != tc.tag || len(d.Value) != tc.n || len(rest) != 0 {
			t.Errorf("tag %X len %d: decoded %X/%d/%d %v", tc.tag, tc.n, d.Tag, len(d.Value), len(rest), err)
		}
	}
}

func TestTLVDecodeErrors(t *testing.T) {
	for _, in := range []string{"BF", "BF2D", "5A0B00", "5A80", "5A85000000000000", "5A8201", "BFFFFF0100", "E381"} {
		if _, err := readTLVs(unhex(t, in)); !errors.Is(err, errTLV) {
			t.Errorf("readTLVs(%s) = %v, want errTLV", in, err)
		}
	}
	ts, err := readTLVs(unhex(t, "BF3111A00C5A0A980010325476981032148101FF"))
	if err != nil || len(ts) != 1 || !ts[0].constructed() {
		t.Fatalf("golden: %v %v", ts, err)
	}
	inner, _ := readTLVs(ts[0].Value)
	if a0, ok := find(inner, 0xA0); !ok || !a0.constructed() || !bytes.Equal(a0.Value[2:], encTBCD(iccidA, 10)) {
		t.Errorf("A0 = %v", inner)
	}
	if tags, err := readTagList(unhex(t, "5A9F70BF2D4F")); err != nil || len(tags) != 4 || tags[1] != 0x9F70 || tags[2] != 0xBF2D {
		t.Errorf("readTagList = %X %v", tags, err)
	}
	if _, err := readTagList(unhex(t, "5A9F")); err == nil {
		t.Error("truncated tag list accepted")
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
