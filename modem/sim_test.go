package modem

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
)

// Each transcript under testdata/sim is replayed against the engine; every
// expected command must be sent and the typed result must match.
func TestSIMTranscripts(t *testing.T) {
	iccid := ICCID("89000123456789012341")
	cases := []struct {
		file string
		run  func(ctx context.Context, m *Modem) (any, error)
		want any
		err  error
	}{
		{"enable_quectel.txt", func(ctx context.Context, m *Modem) (any, error) {
			return nil, m.EnableProfile(ctx, ProfileRef{ICCID: iccid}, true)
		}, nil, nil},
		{"enable_fibocom_bare.txt", func(ctx context.Context, m *Modem) (any, error) {
			return nil, m.EnableProfile(ctx, ProfileRef{ICCID: iccid}, true)
		}, nil, ErrProfileNotFound},
		{"profiles_sierra.txt", func(ctx context.Context, m *Modem) (any, error) {
			ps, err := m.GetProfilesInfo(ctx)
			var out []string
			for _, p := range ps {
				class := "-"
				if p.Class != nil {
					class = string(rune('0' + *p.Class))
				}
				out = append(out, strings.Join([]string{p.ICCID.Reveal(), strings.ToUpper(hex.EncodeToString(p.AID)), p.State.String(), p.Nickname, p.Provider, p.Name, class}, "|"))
			}
			return out, err
		}, []string{
			"89000123456789012341|A0000005591010FFFFFFFF8900001000|enabled|work|ACME|Profile One|2",
			"89000123456789012342|A0000005591010FFFFFFFF8900001100|disabled||||-",
		}, nil},
		{"eid_csim_fallback.txt", func(ctx context.Context, m *Modem) (any, error) {
			return m.GetEID(ctx)
		}, "89049032123451234512345678901235", nil},
		{"efimsi_quoted.txt", func(ctx context.Context, m *Modem) (any, error) {
			v, err := m.EFIMSI(ctx)
			return v.Reveal(), err
		}, "310260123456789", nil},
		{"efimsi_path_bare.txt", func(ctx context.Context, m *Modem) (any, error) {
			v, err := m.EFIMSI(ctx)
			return v.Reveal(), err
		}, "26201123456789", nil},
		{"eficcid.txt", func(ctx context.Context, m *Modem) (any, error) {
			v, err := m.EFICCID(ctx)
			return v.Reveal(), err
		}, "8944200053671052499", nil},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				steps := loadTranscript(t, "testdata/sim/"+tc.file)
				m, f := newTestModem(t, steps)
				got, err := tc.run(t.Context(), m)
				if tc.err != nil {
					if !errors.Is(err, tc.err) {
						t.Fatalf("err = %v, want %v", err, tc.err)
					}
				} else if err != nil {
					t.Fatalf("err = %v (commands %q)", err, f.commands())
				}
				if tc.want != nil {
					if g, ok := got.([]string); ok {
						if !slices.Equal(g, tc.want.([]string)) {
							t.Fatalf("got %q\nwant %q", g, tc.want)
						}
					} else if got != tc.want {
						t.Fatalf("got %v, want %v", got, tc.want)
					}
				}
				// Every expected command was sent.
				var want []string
				for _, s := range steps {
					if strings.HasPrefix(s, ">") {
						want = append(want, strings.TrimSpace(s[1:]))
					}
				}
				var sent []string
				for _, c := range f.commands() {
					if _, startup := startupDefaults[c]; !startup {
						sent = append(sent, c)
					}
				}
				if !slices.Equal(sent, want) {
					t.Fatalf("sent %q\nwant %q", sent, want)
				}
			})
		})
	}
}

func TestEnableProfileGolden(t *testing.T) {
	// Reference §5.2 worked example.
	req, err := EncodeEnableProfile(ProfileRef{ICCID: "89000123456789012341"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ToUpper(hex.EncodeToString(req)); got != "BF3111A00C5A0A980010325476981032148101FF" {
		t.Fatalf("request = %s", got)
	}
	apdus := StoreDataAPDUs(req)
	if len(apdus) != 1 || apdus[0].Hex() != "80E2910014BF3111A00C5A0A980010325476981032148101FF" {
		t.Fatalf("apdus = %v", apdus)
	}
}

func TestStoreDataSegments(t *testing.T) {
	req := bytes.Repeat([]byte{0xAB}, 250)
	as := StoreDataAPDUs(req)
	if len(as) != 3 {
		t.Fatalf("%d segments", len(as))
	}
	for i, a := range as {
		wantP1 := byte(0x11)
		if i == 2 {
			wantP1 = 0x91
		}
		if a.P1 != wantP1 || a.P2 != byte(i) || a.CLA != 0x80 || a.INS != 0xE2 {
			t.Errorf("segment %d: %X", i, a.Bytes()[:4])
		}
	}
	if len(as[0].Data) != 120 || len(as[2].Data) != 10 {
		t.Errorf("segment sizes %d/%d", len(as[0].Data), len(as[2].Data))
	}
}

func TestEFIMSIVectors(t *testing.T) {
	for h, want := range map[string]string{
		"083901621032547698": "310260123456789",
		"0821261021436587F9": "26201123456789",
		"082982608200002080": "228062800000208",
		"082926101160845740": "262011106487504",
		"082943519099999999": "234150999999999",
	} {
		b, _ := hex.DecodeString(h)
		got, err := DecodeEFIMSI(b)
		if err != nil || got.Reveal() != want {
			t.Errorf("DecodeEFIMSI(%s) = %q, %v; want %s", h, got.Reveal(), err, want)
		}
		if enc := encodeEFIMSI(want); !strings.EqualFold(enc, h) {
			t.Errorf("encodeEFIMSI(%s) = %s, want %s", want, enc, h)
		}
	}
	for _, bad := range []string{"", "08", "0939016210325476", "08390162103254769A", "FF3901621032547698"} {
		b, _ := hex.DecodeString(bad)
		if _, err := DecodeEFIMSI(b); !errors.Is(err, ErrParse) {
			t.Errorf("DecodeEFIMSI(%s) err = %v", bad, err)
		}
	}
}

// encodeEFIMSI is pySim's enc_imsi, the other side of DecodeEFIMSI, for
// round trips.
func encodeEFIMSI(imsi string) string {
	parity := byte(1)
	if len(imsi)%2 == 1 {
		parity = 9
	}
	digits := string(rune('0'+parity)) + imsi
	if len(digits)%2 == 1 {
		digits += "F"
	}
	var b []byte
	for i := 0; i < len(digits); i += 2 {
		lo, _ := hexNibble(digits[i])
		hi, _ := hexNibble(digits[i+1])
		b = append(b, hi<<4|lo)
	}
	for len(b) < 8 {
		b = append(b, 0xFF)
	}
	return hex.EncodeToString(append([]byte{byte((len(imsi) + 2) / 2)}, b...))
}

func TestParseCCHOShapes(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"+CCHO: 1"}, "1"},
		{[]string{"1"}, "1"},
		{[]string{"+CCHO: 000000000385a7cf"}, "000000000385a7cf"},
		{[]string{`+CCHO: "2"`}, "2"},
		{[]string{"+CCHO:3"}, "3"},
	} {
		got, err := ParseCCHO(tc.lines)
		if err != nil || got != tc.want {
			t.Errorf("ParseCCHO(%q) = %q, %v", tc.lines, got, err)
		}
	}
	for _, bad := range [][]string{nil, {"+CCHO: "}, {"+CCHO: 1,2"}, {"+CCHO: zz"}} {
		if _, err := ParseCCHO(bad); !errors.Is(err, ErrParse) {
			t.Errorf("ParseCCHO(%q) err = %v", bad, err)
		}
	}
}

func TestParseCRSMShapes(t *testing.T) {
	for _, tc := range []struct {
		line string
		sw   SW
		data string
	}{
		{`+CRSM: 144,0,"083901621032547698"`, 0x9000, "083901621032547698"},
		{`+CRSM: 144, 0, 0054`, 0x9000, "0054"},
		{`+CRSM: 144, 0,"0054"`, 0x9000, "0054"},
		{`+CRSM: 148,8,""`, 0x9408, ""},
		{`+CRSM: 106,130`, 0x6A82, ""},
	} {
		r, err := ParseCRSM([]string{tc.line})
		if err != nil || r.SW != tc.sw || hex.EncodeToString(r.Data) != tc.data {
			t.Errorf("ParseCRSM(%q) = %v %x, %v", tc.line, r.SW, r.Data, err)
		}
	}
	for _, bad := range []string{"+CRSM: 144", "+CRSM: 256,0", `+CRSM: 144,0,"0G"`, "+CSQ: 1,2"} {
		if _, err := ParseCRSM([]string{bad}); !errors.Is(err, ErrParse) {
			t.Errorf("ParseCRSM(%q) err = %v", bad, err)
		}
	}
}

func TestParseCGLA(t *testing.T) {
	r, err := ParseCGLA([]string{`+CGLA: 16,"BF31038001009000"`})
	if err != nil || r.SW != 0x9000 || !r.SW.OK() || hex.EncodeToString(r.Data) != "bf3103800100" {
		t.Fatalf("got %v %x %v", r.SW, r.Data, err)
	}
	r, err = ParseCGLA([]string{`+CGLA: 4,6110`})
	if n, ok := r.SW.MoreData(); err != nil || !ok || n != 16 {
		t.Fatalf("61xx: %v %v", r.SW, err)
	}
	for _, bad := range []string{`+CGLA: 6,"9000"`, `+CGLA: 2,"90"`, `+CGLA: x,"9000"`, `+CGLA: 4`} {
		if _, err := ParseCGLA([]string{bad}); !errors.Is(err, ErrParse) {
			t.Errorf("ParseCGLA(%q) err = %v", bad, err)
		}
	}
}

func TestAPDUBytes(t *testing.T) {
	for _, tc := range []struct {
		a    APDU
		want string
	}{
		{APDU{CLA: 0x80, INS: 0x14, P1: 2, P2: 1}, "80140201"},
		{APDU{CLA: 0x00, INS: 0xC0, Le: 0x21}, "00C0000021"},
		{APDU{CLA: 0x00, INS: 0xB0, Le: 256}, "00B0000000"},
		{APDU{CLA: 0x00, INS: 0xA4, P1: 4, Data: []byte{1, 2}, Le: 256}, "00A40400020102" + "00"},
	} {
		if got := tc.a.Hex(); got != tc.want {
			t.Errorf("Hex = %s, want %s", got, tc.want)
		}
		back, err := decodeCommandAPDU(tc.a.Bytes())
		if err != nil || back.Hex() != tc.want {
			t.Errorf("decode(%s) = %s, %v", tc.want, back.Hex(), err)
		}
	}
	ext := APDU{CLA: 0x80, INS: 0xE2, Data: make([]byte, 300)}
	if b := ext.Bytes(); len(b) != 4+3+300 || b[4] != 0 || b[5] != 0x01 || b[6] != 0x2C {
		t.Errorf("extended Lc: % X", b[:7])
	}
}

func TestAppletTemplate(t *testing.T) {
	tmpl := DefaultAppletTemplate()
	if err := tmpl.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := tmpl.APDUs[0].build(2)
	if err != nil || a.Hex() != "80140201" {
		t.Fatalf("build = %s, %v", a.Hex(), err)
	}
	for _, sw := range []SW{0x9000, 0x9110} {
		if !tmpl.APDUs[0].accepts(sw) {
			t.Errorf("rejects %s", sw)
		}
	}
	if tmpl.APDUs[0].accepts(0x6A82) {
		t.Error("accepts 6A82")
	}
	for _, bad := range []AppletTemplate{
		{AID: "zz", APDUs: tmpl.APDUs},
		{AID: tmpl.AID},
		{AID: tmpl.AID, APDUs: []APDUTemplate{{APDU: "8014{index}0"}}},
		{AID: tmpl.AID, APDUs: []APDUTemplate{{APDU: "8014{index}01", Expect: []string{"90"}}}},
		{AID: tmpl.AID, APDUs: []APDUTemplate{{APDU: "80140000" + "05AABB"}}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", bad)
		}
	}
	if _, err := tmpl.APDUs[0].build(256); err == nil {
		t.Error("index 256 accepted")
	}
}

func TestAppletSwitchTranscript(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestModem(t, parseTranscript(`
			> AT+CCHO="F04D554C5449494D5349"
			< +CCHO: 2
			< OK
			> AT+CGLA=2,8,"80140201"
			< +CGLA: 4,"9000"
			< OK
			> AT+CCHC=2
			< OK
		`))
		if err := m.SelectAppletProfile(t.Context(), DefaultAppletTemplate(), 2); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBERTLV(t *testing.T) {
	b, _ := hex.DecodeString("BF2D66A064E33E5A0A980010325476981032144F10A0000005591010FFFFFFFF89000010009F7001019004776F726B910441434D45920B50726F66696C65204F6E65950102E3225A0A980010325476981032244F10A0000005591010FFFFFFFF89000011009F700100")
	top, rest, err := ParseTLV(b)
	if err != nil || len(rest) != 0 || top.Tag != 0xBF2D || !top.Constructed() {
		t.Fatalf("top %v rest %d err %v", top, len(rest), err)
	}
	if !bytes.Equal(top.Bytes(), b) {
		t.Fatal("re-encoding differs")
	}
	long := EncodeTLV(0x9F70, make([]byte, 300))
	if !bytes.HasPrefix(long, []byte{0x9F, 0x70, 0x82, 0x01, 0x2C}) {
		t.Fatalf("long form % X", long[:5])
	}
	if t2, _, err := ParseTLV(long); err != nil || t2.Tag != 0x9F70 || len(t2.Value) != 300 {
		t.Fatalf("long parse %v %v", t2.Tag, err)
	}
	for _, bad := range []string{"5A", "5A05AABB", "BF", "9F808080", "5A80", "5A84FFFFFFFF"} {
		x, _ := hex.DecodeString(bad)
		if _, err := ParseTLVs(x); err == nil {
			t.Errorf("ParseTLVs(%s) = nil error", bad)
		}
	}
}

func TestES10ErrorsMapToSentinels(t *testing.T) {
	for code, want := range map[int]error{1: ErrProfileNotFound, 2: ErrProfileState, 3: ErrDisallowedByPolicy, 5: ErrCATBusy, 127: ErrEUICCUndefined} {
		if err := error(&ES10Error{Op: "EnableProfile", Code: code}); !errors.Is(err, want) {
			t.Errorf("code %d: %v", code, err)
		}
	}
}
