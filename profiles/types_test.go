package profiles

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"90s", 90 * time.Second, ""},
		{"2h", 2 * time.Hour, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"7d", 7 * 24 * time.Hour, ""},
		{"1d12h", 36 * time.Hour, ""},
		{"0", 0, ""},
		{"0s", 0, ""},
		{"10", 0, "has no unit"},
		{"", 0, "empty"},
		{"-1s", 0, "negative"},
		{"soon", 0, "want a duration"},
		{"d", 0, "want a duration"},
		{"99999d", 0, "out of range"},
	}
	for _, tt := range tests {
		var d Duration
		err := d.UnmarshalText([]byte(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || d.Std() != tt.want {
			t.Errorf("%q = %v, %v; want %v", tt.in, d, err, tt.want)
		}
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"500MB", 500e6, ""},
		{"500 MB", 500e6, ""},
		{"2GiB", 2 << 30, ""},
		{"1.5GB", 1.5e9, ""},
		{"1.5gb", 1.5e9, ""},
		{"10kB", 10e3, ""},
		{"1KiB", 1024, ""},
		{"123", 123, ""},
		{"0", 0, ""},
		{"1.5B", 0, "whole number"},
		{"-1MB", 0, "negative"},
		{"1e9", 0, "want a size"},
		{"lots", 0, "want a size"},
		{"99999999999TB", 0, "too large"},
	}
	for _, tt := range tests {
		var z ByteSize
		err := z.UnmarshalText([]byte(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || int64(z) != tt.want {
			t.Errorf("%q = %d, %v; want %d", tt.in, z, err, tt.want)
		}
	}
	for _, z := range []ByteSize{0, 1, 500e6, 2e9, 1024, 1500} {
		b, _ := z.MarshalText()
		var back ByteSize
		if err := back.UnmarshalText(b); err != nil || back != z {
			t.Errorf("round trip %d -> %s -> %d, %v", z, b, back, err)
		}
	}
}

func TestMoney(t *testing.T) {
	tests := []struct {
		in   string
		want Money
		err  string
	}{
		{"0.012 EUR", Money{12_000, "EUR"}, ""},
		{"EUR 0.012", Money{12_000, "EUR"}, ""},
		{"1.50", Money{1_500_000, ""}, ""},
		{"3", Money{3_000_000, ""}, ""},
		{"0.000001 USD", Money{1, "USD"}, ""},
		{"0.0000001 USD", Money{}, "6 decimal places"},
		{"-1 USD", Money{}, "negative"},
		{"1 usd", Money{}, "ISO 4217"},
		{"1 2 USD", Money{}, "want an amount"},
		{"abc", Money{}, "want an amount"},
		{"1e3 USD", Money{}, "want an amount"},
		{"99999999999999 USD", Money{}, "too large"},
	}
	for _, tt := range tests {
		var m Money
		err := m.UnmarshalText([]byte(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || m != tt.want {
			t.Errorf("%q = %+v, %v; want %+v", tt.in, m, err, tt.want)
		}
	}
	for _, m := range []Money{{12_000, "EUR"}, {1_500_000, "USD"}, {0, "GBP"}, {1, ""}} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back Money
		if err := json.Unmarshal(b, &back); err != nil || back != m {
			t.Errorf("JSON round trip %+v -> %s -> %+v, %v", m, b, back, err)
		}
	}
	if s := (Money{12_000, "EUR"}).String(); s != "0.012 EUR" {
		t.Errorf("String = %q", s)
	}
}

func TestSmallTypes(t *testing.T) {
	var p PLMN
	if err := p.UnmarshalText([]byte("310-260")); err != nil || p != "310260" || p.MCC() != "310" {
		t.Errorf("PLMN = %q, %v", p, err)
	}
	var c ICCID
	if err := c.UnmarshalText([]byte("89860412345678901234F")); err == nil {
		t.Errorf("21-character ICCID accepted")
	}
	if err := c.UnmarshalText([]byte("8901260123456789012f")); err != nil || c != "8901260123456789012" {
		t.Errorf("ICCID with padding F = %q, %v", c, err)
	}
	if s := c.String(); strings.Contains(s, "456789") || !strings.HasPrefix(s, "8901260") {
		t.Errorf("ICCID.String = %q, want masked", s)
	}
	if s := slog.AnyValue(c).Resolve().String(); strings.Contains(s, "456789") {
		t.Errorf("ICCID LogValue = %q, want masked", s)
	}
	if s := IMSIPrefix("310260123456789").String(); s != "310260*********" {
		t.Errorf("IMSIPrefix.String = %q", s)
	}
	var lv DBm
	if err := lv.UnmarshalText([]byte("-110dBm")); err != nil || lv != -110 {
		t.Errorf("DBm = %v, %v", lv, err)
	}
	var db DB
	if err := db.UnmarshalText([]byte("nan")); err == nil {
		t.Errorf("DB accepted NaN")
	}
	var m FileMode
	if err := m.UnmarshalText([]byte("0o640")); err != nil || m != 0o640 {
		t.Errorf("FileMode = %o, %v", m, err)
	}
	if err := m.UnmarshalText([]byte("1777")); err == nil {
		t.Errorf("FileMode accepted sticky bit")
	}
	var k PublicKey
	if err := k.UnmarshalText([]byte("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")); err != nil || len(k) != 32 {
		t.Errorf("base64 key: %v", err)
	}
	if got := ExpandAPDU("00A40400{aid_len}{aid}", []byte{0xF0, 1, 2, 3, 4}, 3); got != "00A4040005F001020304" {
		t.Errorf("ExpandAPDU select = %q", got)
	}
	if got := ExpandAPDU("8014{index}01", nil, 10); got != "80140A01" {
		t.Errorf("ExpandAPDU activate = %q", got)
	}
}

func TestQuarantineTTL(t *testing.T) {
	q := Quarantine{Base: Duration(30 * time.Minute), Max: Duration(24 * time.Hour)}
	for n, want := range map[int]time.Duration{1: 30 * time.Minute, 2: time.Hour, 3: 2 * time.Hour, 6: 16 * time.Hour, 7: 24 * time.Hour, 60: 24 * time.Hour} {
		if got := q.TTL(n).Std(); got != want {
			t.Errorf("TTL(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestCloseEnough(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"modme", "modem", true}, {"levle", "level", true}, {"apm", "apn", true}, {"ap", "apn", false},
		{"state-dir", "state_dir", true}, {"devic", "device", true}, {"devicee", "device", true}, {"xyz", "device", false},
	} {
		if got := closeEnough(tt.a, tt.b); got != tt.want {
			t.Errorf("closeEnough(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

func TestSelectorAndApplet(t *testing.T) {
	cfg := Defaults()
	cfg.SIM.Method = MethodApplet
	two := 2
	p := Profile{Name: "a", Index: &two, ICCID: "8901260123456789012"}
	s, ok := cfg.Selector(&p)
	if !ok || s.Index != 2 || s.String() != "applet index 2" {
		t.Errorf("applet selector = %+v, %v", s, ok)
	}
	cfg.SIM.Method = MethodEUICC
	if s, ok := cfg.Selector(&p); !ok || s.ICCID != p.ICCID || strings.Contains(s.String(), "3456789") {
		t.Errorf("euicc selector = %v, %v", s, ok)
	}
	cfg.SIM.Method = MethodAutonomous
	if _, ok := cfg.Selector(&p); ok {
		t.Error("autonomous method returned a selector")
	}
	a := Defaults().SIM.Applet
	if got := fmt.Sprintf("%X", a.ActivateCommand(2)); got != "80140201" {
		t.Errorf("activate = %s", got)
	}
	a.ExpectSW = []string{"9000", "61XX"}
	for sw, want := range map[uint16]bool{0x9000: true, 0x6110: true, 0x6A82: false, 0x9001: false} {
		if a.SuccessSW(sw) != want {
			t.Errorf("SuccessSW(%04X) = %v", sw, !want)
		}
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	p := Profile{Name: "a", APNPassword: "hunter2"}
	u := Upstream{FleetSalt: "pepper-pepper-pepper"}
	b, _ := json.Marshal(struct {
		P Profile
		U Upstream
	}{p, u})
	for _, s := range []string{fmt.Sprintf("%v %+v %#v", p, p, p), fmt.Sprint(u), string(b), slog.AnyValue(p.APNPassword).Resolve().String()} {
		if strings.Contains(s, "hunter2") || strings.Contains(s, "pepper") {
			t.Errorf("secret leaked: %s", s)
		}
	}
	if p.APNPassword.Reveal() != "hunter2" {
		t.Error("Reveal lost the value")
	}
}
