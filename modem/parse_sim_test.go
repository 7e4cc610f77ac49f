package modem

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func FuzzParseCCHO(f *testing.F) {
	for _, s := range []string{"+CCHO: 1", "1", "+CCHO: 000000000385a7cf", `+CCHO: "2"`, "+CCHO:", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseCCHO(strings.Split(s, "\n"))
		if err == nil && (id == "" || strings.ContainsAny(id, `", `)) {
			t.Fatalf("ParseCCHO(%q) = %q", s, id)
		}
	})
}

func FuzzParseCGLA(f *testing.F) {
	for _, s := range []string{`+CGLA: 16,"BF31038001009000"`, `+CGLA: 4,6110`, `+CGLA: 2,"90"`, `+CGLA:`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseCGLA([]string{s})
		if err != nil {
			return
		}
		// Round trip: what parsed re-formats to the same bytes.
		h := strings.ToUpper(hex.EncodeToString(r.Data)) + r.SW.String()
		r2, err := ParseCGLA([]string{"+CGLA: " + itoa(len(h)) + `,"` + h + `"`})
		if err != nil || r2.SW != r.SW || !bytes.Equal(r2.Data, r.Data) {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}

func itoa(n int) string { return fmtInt(n) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func FuzzParseCRSM(f *testing.F) {
	for _, s := range []string{`+CRSM: 144,0,"083901621032547698"`, `+CRSM: 144, 0, 0054`, `+CRSM: 148,8,""`, `+CRSM: 106,130`, `+CRSM: 1`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseCRSM([]string{s})
		if err != nil {
			return
		}
		line := "+CRSM: " + fmtInt(int(r.SW.SW1())) + "," + fmtInt(int(r.SW.SW2())) + `,"` + hex.EncodeToString(r.Data) + `"`
		r2, err := ParseCRSM([]string{line})
		if err != nil || r2.SW != r.SW || !bytes.Equal(r2.Data, r.Data) {
			t.Fatalf("round trip of %q via %q: %v", s, line, err)
		}
	})
}

func FuzzBERTLV(f *testing.F) {
	for _, h := range []string{"BF3111A00C5A0A980010325476981032148101FF", "BF31038001009000", "9F70820001FF", "5A80", "BF2D00"} {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := ParseTLVs(b)
		if err != nil {
			return
		}
		var re []byte
		for _, x := range ts {
			if x.Constructed() {
				x.Children() // must not panic
			}
			re = append(re, x.Bytes()...)
		}
		// Re-encoding uses the shortest length form, so compare decoded.
		ts2, err := ParseTLVs(re)
		if err != nil || len(ts2) != len(ts) {
			t.Fatalf("re-parse: %v", err)
		}
		for i := range ts {
			if ts[i].Tag != ts2[i].Tag || !bytes.Equal(ts[i].Value, ts2[i].Value) {
				t.Fatalf("object %d differs", i)
			}
		}
	})
}

func FuzzDecodeEFIMSI(f *testing.F) {
	for _, h := range []string{"083901621032547698", "0821261021436587F9", "08", "FF"} {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Add([]byte("310260123456789"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if imsi, err := DecodeEFIMSI(b); err == nil && !imsi.Valid() {
			t.Fatalf("invalid IMSI %q accepted", imsi.Reveal())
		}
		// And the other direction: a valid IMSI survives encode/decode.
		s := string(b)
		if !IMSI(s).Valid() {
			return
		}
		enc, _ := hex.DecodeString(encodeEFIMSI(s))
		got, err := DecodeEFIMSI(enc)
		if err != nil || got.Reveal() != s {
			t.Fatalf("round trip %s: %q %v", s, got.Reveal(), err)
		}
	})
}
