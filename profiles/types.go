package profiles

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/imsid/imsid/profiles/durparse"
)

// The small domain types below all implement encoding.TextUnmarshaler: the
// YAML decoder and encoding/json both go through it, so a value is checked
// the same way whether it comes from the config file or from persisted state.

// MCC is a Mobile Country Code: exactly three decimal digits.
type MCC string

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *MCC) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if len(s) != 3 || !isDigits(s) {
		return fmt.Errorf("want a 3-digit MCC, got %q", s)
	}
	*m = MCC(s)
	return nil
}

// PLMN is an MCC followed by a 2- or 3-digit MNC, in numeric form ("310260",
// "26201"). The MNC length is significant: "31026" and "310260" differ.
type PLMN string

// UnmarshalText implements encoding.TextUnmarshaler. Separators that
// operators commonly write ("310-260", "310 260") are accepted and dropped.
func (p *PLMN) UnmarshalText(b []byte) error {
	s := strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(string(b)))
	if (len(s) != 5 && len(s) != 6) || !isDigits(s) {
		return fmt.Errorf("want a 5- or 6-digit PLMN (MCC+MNC), got %q", string(b))
	}
	*p = PLMN(s)
	return nil
}

// MCC returns the country part.
func (p PLMN) MCC() MCC {
	if len(p) < 3 {
		return ""
	}
	return MCC(p[:3])
}

// IMSIPrefix is the leading digits of the IMSIs a profile is expected to
// carry: at least MCC+MNC (5 digits), at most a whole IMSI (15).
type IMSIPrefix string

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *IMSIPrefix) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if len(s) < 5 || len(s) > 15 || !isDigits(s) {
		return fmt.Errorf("want 5 to 15 digits (at least MCC+MNC), got %d characters", len(s))
	}
	*p = IMSIPrefix(s)
	return nil
}

// Matches reports whether imsi starts with the prefix.
func (p IMSIPrefix) Matches(imsi string) bool { return p != "" && strings.HasPrefix(imsi, string(p)) }

// String masks all but MCC+MNC, since a long prefix is nearly an IMSI.
func (p IMSIPrefix) String() string {
	if len(p) <= 6 {
		return string(p)
	}
	return mask(string(p), 6, 0)
}

// LogValue keeps slog from printing the prefix in clear.
func (p IMSIPrefix) LogValue() slog.Value { return slog.StringValue(p.String()) }

// ICCID identifies a SIM card or an eUICC profile: 18 to 20 characters,
// decimal but some issuers use hex letters. A trailing padding F is dropped.
type ICCID string

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *ICCID) UnmarshalText(b []byte) error {
	s := strings.ToUpper(strings.TrimSpace(string(b)))
	if len(s) == 20 && strings.HasSuffix(s, "F") {
		s = s[:19]
	}
	if len(s) < 18 || len(s) > 20 || !isHex(s) {
		// The value itself is not echoed: it is an identifier we never print.
		return fmt.Errorf("want an ICCID of 18 to 20 hex digits, got %d characters", len(s))
	}
	*c = ICCID(s)
	return nil
}

// Reveal returns the ICCID in clear.
func (c ICCID) Reveal() string { return string(c) }

// String masks the ICCID: issuer prefix (first 7) and the last 3 stay.
func (c ICCID) String() string { return mask(string(c), 7, 3) }

// LogValue keeps slog from printing the ICCID in clear.
func (c ICCID) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Duration is a time.Duration written as "90s", "2h", "1h30m" or "7d"
// (a day is 24 h). A bare number is refused: its unit would be a guess.
type Duration time.Duration

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// UnmarshalText implements encoding.TextUnmarshaler (durparse.Parse).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := durparse.Parse(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d Duration) String() string { return time.Duration(d).String() }

// ByteSize is a number of bytes written as "500MB", "2GiB", "1.5GB" or a
// bare integer. kB/MB/GB/TB are powers of 1000 (as carriers bill),
// KiB/MiB/GiB/TiB powers of 1024.
type ByteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	// Longest suffixes first so "MiB" is not read as "B".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"t", 1e12},
	{"b", 1},
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (z *ByteSize) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	low := strings.ToLower(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(low, u.suffix) {
			mult, low = u.mult, strings.TrimSpace(strings.TrimSuffix(low, u.suffix))
			break
		}
	}
	r, ok := parseDecimal(low)
	if !ok {
		return fmt.Errorf("want a size such as 500MB or 2GiB, got %q", s)
	}
	if r.Sign() < 0 {
		return fmt.Errorf("size %q must not be negative", s)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if !r.IsInt() {
		return fmt.Errorf("size %q is not a whole number of bytes", s)
	}
	if !r.Num().IsInt64() {
		return fmt.Errorf("size %q is too large", s)
	}
	*z = ByteSize(r.Num().Int64())
	return nil
}

// MarshalText writes the largest decimal unit that is exact.
func (z ByteSize) MarshalText() ([]byte, error) { return []byte(z.String()), nil }

func (z ByteSize) String() string {
	for _, u := range []struct {
		s string
		m int64
	}{{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}} {
		if z != 0 && int64(z)%u.m == 0 {
			return strconv.FormatInt(int64(z)/u.m, 10) + u.s
		}
	}
	return strconv.FormatInt(int64(z), 10) + "B"
}

// Money is an amount in integer millionths of a currency unit, never a float,
// with its ISO 4217 currency code. Written as "0.012 EUR", "EUR 0.012" or a
// bare "0.012" (the currency then comes from the enclosing cost section).
type Money struct {
	Micros   int64
	Currency string
}

const microsPerUnit = 1_000_000

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Money) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	f := strings.Fields(s)
	var num, cur string
	switch len(f) {
	case 1:
		num = f[0]
	case 2:
		num, cur = f[0], f[1]
		if isCurrency(f[0]) {
			num, cur = f[1], f[0]
		}
		if !isCurrency(cur) {
			return fmt.Errorf("want a 3-letter ISO 4217 currency code such as EUR, got %q", cur)
		}
	default:
		return fmt.Errorf("want an amount such as \"0.012 EUR\", got %q", s)
	}
	r, ok := parseDecimal(num)
	if !ok {
		return fmt.Errorf("want an amount such as \"0.012 EUR\", got %q", s)
	}
	if r.Sign() < 0 {
		return fmt.Errorf("amount %q must not be negative", s)
	}
	r.Mul(r, big.NewRat(microsPerUnit, 1))
	if !r.IsInt() {
		return fmt.Errorf("amount %q has more than 6 decimal places", s)
	}
	if !r.Num().IsInt64() {
		return fmt.Errorf("amount %q is too large", s)
	}
	*m = Money{Micros: r.Num().Int64(), Currency: cur}
	return nil
}

// MarshalText writes "0.012 EUR" (or the bare amount without a currency).
func (m Money) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

func (m Money) String() string {
	neg := m.Micros < 0
	v := uint64(m.Micros)
	if neg {
		v = uint64(-m.Micros)
	}
	s := strconv.FormatUint(v/microsPerUnit, 10)
	if frac := v % microsPerUnit; frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
	}
	if neg {
		s = "-" + s
	}
	if m.Currency != "" {
		s += " " + m.Currency
	}
	return s
}

// IsZero reports whether the amount is zero.
func (m Money) IsZero() bool { return m.Micros == 0 }

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// DBm is a power level in dBm (RSRP, RSSI). Written as -110 or "-110dBm".
type DBm float64

// UnmarshalText implements encoding.TextUnmarshaler.
func (v *DBm) UnmarshalText(b []byte) error {
	f, err := parseLevel(string(b), "dbm")
	*v = DBm(f)
	return err
}

// DB is a ratio in dB (SINR, RSRQ, margins). Written as 3 or "3dB".
type DB float64

// UnmarshalText implements encoding.TextUnmarshaler.
func (v *DB) UnmarshalText(b []byte) error {
	f, err := parseLevel(string(b), "db")
	*v = DB(f)
	return err
}

func parseLevel(s, unit string) (float64, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	t = strings.TrimSpace(strings.TrimSuffix(t, unit))
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("want a number of %s, got %q", unit, s)
	}
	return f, nil
}

// FileMode is a Unix permission mode written in octal ("0660", "0o660").
type FileMode uint32

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *FileMode) UnmarshalText(b []byte) error {
	s := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(string(b)), "0o"), "0O")
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o777 {
		return fmt.Errorf("want an octal permission mode such as 0660, got %q", string(b))
	}
	*m = FileMode(n)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (m FileMode) MarshalText() ([]byte, error) { return []byte(fmt.Sprintf("0%o", uint32(m))), nil }

// PublicKey is an ed25519 public key written as base64 or 64 hex digits.
type PublicKey []byte

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *PublicKey) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	var raw []byte
	var err error
	if len(s) == 64 && isHex(s) {
		raw, err = hex.DecodeString(s)
	} else {
		raw, err = base64.StdEncoding.DecodeString(s)
	}
	if err != nil || len(raw) != 32 {
		return errors.New("want a 32-byte ed25519 public key in base64 or hex")
	}
	*k = raw
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (k PublicKey) MarshalText() ([]byte, error) {
	return []byte(base64.StdEncoding.EncodeToString(k)), nil
}

// HexBytes is a byte string written in hex ("A0000005591010FFFFFFFF8900000100").
type HexBytes []byte

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *HexBytes) UnmarshalText(b []byte) error {
	s := strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "")
	raw, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("want an even number of hex digits, got %q", string(b))
	}
	*h = raw
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (h HexBytes) MarshalText() ([]byte, error) {
	return []byte(strings.ToUpper(hex.EncodeToString(h))), nil
}

// parseEnum matches b, case-insensitively, against an enumeration's values;
// the error lists them so the operator sees the choices.
func parseEnum[T ~string](b []byte, what string, allowed []T) (T, error) {
	s := strings.ToLower(strings.TrimSpace(string(b)))
	for _, a := range allowed {
		if string(a) == s {
			return a, nil
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return "", fmt.Errorf("unknown %s %q; want one of %s", what, string(b), strings.Join(names, ", "))
}

// Dialect selects the vendor AT dialect; auto detects it from ATI/+CGMM.
type Dialect string

// Dialects.
const (
	DialectAuto    Dialect = "auto"
	DialectGeneric Dialect = "generic"
	DialectQuectel Dialect = "quectel"
	DialectSIMCom  Dialect = "simcom"
	DialectUblox   Dialect = "ublox"
	DialectTelit   Dialect = "telit"
	DialectSierra  Dialect = "sierra"
	DialectHuawei  Dialect = "huawei"
)

// Dialects lists every accepted dialect.
var Dialects = []Dialect{DialectAuto, DialectGeneric, DialectQuectel, DialectSIMCom, DialectUblox, DialectTelit, DialectSierra, DialectHuawei}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Dialect) UnmarshalText(b []byte) (err error) {
	*d, err = parseEnum(b, "dialect", Dialects)
	return err
}

// Method is how the SIM's profiles are selected.
type Method string

// Selection methods.
const (
	// MethodApplet drives a multi-IMSI applet with proprietary APDUs.
	MethodApplet Method = "applet"
	// MethodEUICC enables eUICC profiles by ICCID (ES10c over +CCHO/+CGLA).
	MethodEUICC Method = "euicc"
	// MethodSlot switches between physical SIM slots.
	MethodSlot Method = "slot"
	// MethodAutonomous leaves switching to the applet; imsid only observes.
	MethodAutonomous Method = "autonomous"
)

// Methods lists every selection method.
var Methods = []Method{MethodApplet, MethodEUICC, MethodSlot, MethodAutonomous}

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Method) UnmarshalText(b []byte) (err error) {
	*m, err = parseEnum(b, "method", Methods)
	return err
}

// RAT is a radio access technology a profile may use.
type RAT string

// Radio access technologies.
const (
	RATGSM   RAT = "gsm"
	RATUMTS  RAT = "umts"
	RATLTE   RAT = "lte"
	RATLTEM  RAT = "lte-m"
	RATNBIoT RAT = "nb-iot"
	RATNR    RAT = "nr"
)

// RATs lists every known RAT.
var RATs = []RAT{RATGSM, RATUMTS, RATLTE, RATLTEM, RATNBIoT, RATNR}

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *RAT) UnmarshalText(b []byte) (err error) {
	*r, err = parseEnum(b, "RAT", RATs)
	return err
}

// AuthType is the PDP context authentication.
type AuthType string

// Authentication types.
const (
	AuthNone    AuthType = "none"
	AuthPAP     AuthType = "pap"
	AuthCHAP    AuthType = "chap"
	AuthPAPCHAP AuthType = "pap-chap"
)

// AuthTypes lists every authentication type.
var AuthTypes = []AuthType{AuthNone, AuthPAP, AuthCHAP, AuthPAPCHAP}

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *AuthType) UnmarshalText(b []byte) (err error) {
	*a, err = parseEnum(b, "auth type", AuthTypes)
	return err
}

// PDPType is the PDP context type (+CGDCONT <PDP_type>).
type PDPType string

// PDP types, lower case in the config; the driver upper-cases them for AT.
const (
	PDPIPv4   PDPType = "ip"
	PDPIPv6   PDPType = "ipv6"
	PDPIPv4v6 PDPType = "ipv4v6"
)

// PDPTypes lists every PDP type.
var PDPTypes = []PDPType{PDPIPv4, PDPIPv6, PDPIPv4v6}

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *PDPType) UnmarshalText(b []byte) (err error) {
	*p, err = parseEnum(b, "PDP type", PDPTypes)
	return err
}

// Mobility says whether the gateway moves; baseline detectors need it still.
type Mobility string

// Mobility values.
const (
	Stationary Mobility = "stationary"
	Mobile     Mobility = "mobile"
)

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Mobility) UnmarshalText(b []byte) (err error) {
	*m, err = parseEnum(b, "mobility", []Mobility{Stationary, Mobile})
	return err
}

// LogFormat is the slog handler.
type LogFormat string

// Log formats.
const (
	LogText LogFormat = "text"
	LogJSON LogFormat = "json"
)

// UnmarshalText implements encoding.TextUnmarshaler.
func (f *LogFormat) UnmarshalText(b []byte) (err error) {
	*f, err = parseEnum(b, "log format", []LogFormat{LogText, LogJSON})
	return err
}

// LogOutput is where log lines go and how their priority travels.
type LogOutput string

// Log outputs.
const (
	// LogAuto: LogJournald when stderr is connected to the journal
	// (systemd sets JOURNAL_STREAM), else LogStderr.
	LogAuto LogOutput = "auto"
	// LogStderr: plain lines on stderr.
	LogStderr LogOutput = "stderr"
	// LogJournald: lines on stderr with a "<N>" syslog priority prefix,
	// which journald turns into the entry's priority; no time field (the
	// journal has its own).
	LogJournald LogOutput = "journald"
	// LogSyslog: to the local syslog socket (/dev/log) at each line's
	// priority, facility daemon, tag imsid: OpenWrt's logd under procd.
	LogSyslog LogOutput = "syslog"
)

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *LogOutput) UnmarshalText(b []byte) (err error) {
	*o, err = parseEnum(b, "log output", []LogOutput{LogAuto, LogStderr, LogJournald, LogSyslog})
	return err
}

// UpstreamAuth is how requests to the upstream are authenticated.
type UpstreamAuth string

// Upstream authentication methods.
const (
	AuthBearer UpstreamAuth = "bearer"
	AuthHMAC   UpstreamAuth = "hmac"
)

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *UpstreamAuth) UnmarshalText(b []byte) (err error) {
	*a, err = parseEnum(b, "upstream auth", []UpstreamAuth{AuthBearer, AuthHMAC})
	return err
}

// DetectorMode says whether threat detectors may act or only log.
type DetectorMode string

// Detector modes.
const (
	// ModeEnforce lets detectors' responses run.
	ModeEnforce DetectorMode = "enforce"
	// ModeShadow logs and reports events but takes no action, for pilots.
	ModeShadow DetectorMode = "shadow"
)

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *DetectorMode) UnmarshalText(b []byte) (err error) {
	*m, err = parseEnum(b, "detector mode", []DetectorMode{ModeEnforce, ModeShadow})
	return err
}

// parseDecimal reads a plain decimal ("12", "0.012", "1.5e3" is refused:
// exponents make typos like "1e9" silently huge).
func parseDecimal(s string) (*big.Rat, bool) {
	if s == "" || len(s) > 40 || strings.ContainsAny(s, "eE/") {
		return nil, false
	}
	for _, r := range s {
		if !unicode.IsDigit(r) && r != '.' && r != '-' && r != '+' {
			return nil, false
		}
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func isHex(s string) bool {
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return false
		}
	}
	return s != ""
}

func mask(s string, head, tail int) string {
	if len(s) <= head+tail {
		return strings.Repeat("*", len(s))
	}
	return s[:head] + strings.Repeat("*", len(s)-head-tail) + s[len(s)-tail:]
}

// Secret is a credential held in the config (APN password, fleet salt). It
// prints as "[redacted]" through fmt, slog and JSON so that dumping a Config
// never leaks it; Reveal returns the value.
type Secret string

// Reveal returns the secret in clear.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler with the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
