package sim

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// FuzzTransmit: any bytes, on the basic channel and on an ISD-R and an
// applet channel, never panic and always end in a two-byte status word.
// The input is also split at 0x00 0x00 0x00 into a sequence of APDUs so the
// fuzzer reaches stateful paths (STORE DATA blocks, GET RESPONSE, channels).
func FuzzTransmit(f *testing.F) {
	for _, s := range []string{
		"00A4000C026F07", "00B0000009", "0070000001", "0070800100", "80F2010112",
		"01A404000AF04D554C5449494D5349", "8110000000", "81140101", "811801000400000E10",
		"81E2910014BF3111A00C5A0A980010325476981032148101FF", "80E2910003BF2D00",
		"80E2110008BF3117A0124F10A0" + "000000" + "80E2910112000005591010FFFFFFFF8900001100010101",
		"80E2910003BF2D00" + "000000" + "80C0000010" + "000000" + "00C0000000",
		"80E2910006BF3E035C015A", "80E29100", "00", "",
	} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := euiccConfig()
		cfg.ResponseLimit = 16
		cfg.Profiles[0].IMSIs = append(cfg.Profiles[0].IMSIs, IMSIConfig{IMSI: "001010000000001"})
		c := mustCard(t, cfg)
		isdr, err := c.OpenChannel(unhex(t, ISDRAID))
		if err != nil {
			t.Fatal(err)
		}
		applet, _ := c.OpenChannel(unhex(t, DefaultAppletAID))
		for _, apdu := range bytes.Split(data, []byte{0, 0, 0}) {
			if r := c.Transmit(apdu); len(r) < 2 {
				t.Fatalf("Transmit(% X) = % X", apdu, r)
			}
			for _, ch := range []int{isdr, applet} {
				r, err := c.TransmitChannel(ch, apdu)
				if err == nil && len(r) < 2 {
					t.Fatalf("TransmitChannel(%d, % X) = % X", ch, apdu, r)
				}
			}
			_, _ = c.CRSM(int(apdu0(apdu)), FidIMSI, 0, 0, len(apdu)%256, apdu)
			c.TakeRefresh()
		}
		c.Reset()
		if c.IMSI() == "" && c.liveProfile() != nil {
			t.Fatal("enabled profile without IMSI")
		}
	})
}

func apdu0(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// FuzzBERTLV: decoding never panics, values stay inside the input, and a
// decoded tree re-encoded with the builder (shortest lengths) decodes to the
// same tree.
func FuzzBERTLV(f *testing.F) {
	for _, s := range []string{
		"BF3111A00C5A0A980010325476981032148101FF", "BF2D00", "BF2D8100", "9F700101",
		"BF3E125A1089049032123451234512345678901235", "5C035A9F70", "30820001FF", "1F", "BF", "8180", "E3",
		"BF4314A012301080020560A10730058003EEEEEE820100", "A0 80", "30833000000",
	} {
		if b, err := hex.DecodeString(strings.ReplaceAll(s, " ", "")); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ns, err := parseSeq(data)
		_, _ = parseTags(data)
		_, _ = parseTree(data)
		if err != nil {
			return
		}
		var e ber
		for _, n := range ns {
			reencode(&e, n, len(data), t)
		}
		again, err := parseSeq(e.bytes())
		if err != nil {
			t.Fatalf("re-encoded % X does not decode: %v", e.bytes(), err)
		}
		if !sameTrees(again, ns) {
			t.Fatalf("round trip changed the tree of % X", data)
		}
	})
}

// reencode writes n back with the builder: primitives with add,
// constructed objects with nest over their re-encoded children.
func reencode(e *ber, n node, limit int, t *testing.T) {
	if len(n.raw) > limit {
		t.Fatalf("value longer than the input")
	}
	if !constructedTag(n.tag) {
		e.add(n.tag, n.raw)
		return
	}
	e.nest(n.tag, func(e *ber) {
		for _, k := range n.kids {
			reencode(e, k, limit, t)
		}
	})
}

func sameTrees(a, b []node) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].tag != b[i].tag || constructedTag(a[i].tag) != constructedTag(b[i].tag) {
			return false
		}
		if constructedTag(a[i].tag) {
			if !sameTrees(a[i].kids, b[i].kids) {
				return false
			}
		} else if !bytes.Equal(a[i].raw, b[i].raw) {
			return false
		}
	}
	return true
}
