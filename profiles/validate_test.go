package profiles_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/imsid/imsid/profiles"
)

// base is the smallest valid config; top-level sections appended to it start
// on line 13.
const base = `modem:
  device: /dev/ttyUSB2
sim:
  method: applet
profiles:
  - name: home
    index: 0
    apn: internet
    plmns: ["310260"]
policy:
  site:
    country_mcc: "310"
`

// withProfiles builds a config whose profile list starts on line 9.
func withProfiles(method, list string) string {
	return `modem:
  device: /dev/ttyUSB2
policy:
  site:
    country_mcc: "310"
sim:
  method: ` + method + `
profiles:
` + list
}

type want struct {
	line int
	path string
	msg  string // substring of the message
}

func checkErrors(t *testing.T, src string, wants []want) {
	t.Helper()
	_, err := profiles.Parse("t.yaml", []byte(src))
	if len(wants) == 0 {
		if err != nil {
			t.Fatalf("unexpected error:\n%v", err)
		}
		return
	}
	var ve *profiles.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v (%T), want *ValidationError", err, err)
	}
	var fe profiles.FieldError
	if !errors.As(err, &fe) || fe != ve.Errors[0] {
		t.Errorf("errors.As(FieldError) did not yield the first problem")
	}
	if len(ve.Errors) != len(wants) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ve.Errors), len(wants), err)
	}
	for i, w := range wants {
		got := ve.Errors[i]
		prefix := "t.yaml: "
		if w.line > 0 {
			prefix = fmt.Sprintf("t.yaml:%d: ", w.line)
		}
		if w.path != "" {
			prefix += w.path + ": "
		}
		if got.File != "t.yaml" || got.Line != w.line || got.Path != w.path || !strings.Contains(got.Msg, w.msg) ||
			!strings.HasPrefix(got.Error(), prefix) {
			t.Errorf("problem %d = %q\nwant prefix %q and message containing %q", i, got.Error(), prefix, w.msg)
		}
	}
}

func TestMinimalConfigIsValid(t *testing.T) {
	checkErrors(t, base, nil)
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		wants []want
	}{
		{"unknown top-level key", base + "modme:\n  baud: 9600\n",
			[]want{{13, "modme", `unknown field (did you mean "modem"?)`}}},
		{"unknown nested key", base + "log:\n  levle: debug\n",
			[]want{{14, "log.levle", `did you mean "level"?`}}},
		{"dash instead of underscore", base + "state-dir: /x\n",
			[]want{{13, "state-dir", `did you mean "state_dir"?`}}},
		{"duplicate key", base + "log:\n  level: info\n  level: debug\n",
			[]want{{15, "log.level", "duplicate key (first set on line 14)"}}},
		{"not an integer", base + "upstream:\n  batch_size: lots\n",
			[]want{{14, "upstream.batch_size", `want an integer, got "lots"`}}},
		{"bool", base + "policy2: x\n",
			[]want{{13, "policy2", "unknown field"}}},
		{"not a bool", strings.Replace(base, "policy:\n", "policy:\n  critical_overrides_pin: maybe\n", 1),
			[]want{{11, "policy.critical_overrides_pin", "want true or false"}}},
		{"duration without unit", strings.Replace(base, "policy:\n", "policy:\n  min_dwell: 10\n", 1),
			[]want{{11, "policy.min_dwell", "has no unit"}}},
		{"bad duration", strings.Replace(base, "policy:\n", "policy:\n  min_dwell: soon\n", 1),
			[]want{{11, "policy.min_dwell", "want a duration"}}},
		{"negative duration", strings.Replace(base, "policy:\n", "policy:\n  min_dwell: -5m\n", 1),
			[]want{{11, "policy.min_dwell", "must not be negative"}}},
		{"bad size", strings.Replace(base, "    plmns:", "    data_cap: lots\n    plmns:", 1),
			[]want{{9, "profiles[0].data_cap", "want a size"}}},
		{"fractional byte", strings.Replace(base, "    plmns:", "    data_cap: 1.5B\n    plmns:", 1),
			[]want{{9, "profiles[0].data_cap", "not a whole number"}}},
		{"money too precise", strings.Replace(base, "    plmns:", "    cost: {per_mb: \"0.0000001 EUR\"}\n    plmns:", 1),
			[]want{{9, "profiles[0].cost.per_mb", "more than 6 decimal places"}}},
		{"money negative", strings.Replace(base, "    plmns:", "    cost: {per_mb: \"-1 EUR\"}\n    plmns:", 1),
			[]want{{9, "profiles[0].cost.per_mb", "must not be negative"}}},
		{"money bad currency", strings.Replace(base, "    plmns:", "    cost: {per_mb: \"1 euro\"}\n    plmns:", 1),
			[]want{{9, "profiles[0].cost.per_mb", "3-letter ISO 4217"}}},
		{"unknown dialect", strings.Replace(base, "  device: /dev/ttyUSB2\n", "  device: /dev/ttyUSB2\n  dialect: nokia\n", 1),
			[]want{{3, "modem.dialect", `unknown dialect "nokia"; want one of auto, generic`}}},
		{"unknown RAT", strings.Replace(base, "    plmns:", "    rats: [lte, 6g]\n    plmns:", 1),
			[]want{{9, "profiles[0].rats[1]", `unknown RAT "6g"`}}},
		{"bad PLMN", strings.Replace(base, `["310260"]`, `["31026X"]`, 1),
			[]want{{9, "profiles[0].plmns[0]", "5- or 6-digit PLMN"}}},
		{"bad MCC", strings.Replace(base, `country_mcc: "310"`, `country_mcc: "31"`, 1),
			[]want{{12, "policy.site.country_mcc", "3-digit MCC"}}},
		{"bad ICCID is not echoed", strings.Replace(base, "    plmns:", "    iccid: \"89012601234\"\n    plmns:", 1),
			[]want{{9, "profiles[0].iccid", "got 11 characters"}}},
		{"mapping for scalar", strings.Replace(base, "  device: /dev/ttyUSB2\n", "  device: {path: /dev/ttyUSB2}\n", 1),
			[]want{{2, "modem.device", "want a string, got a mapping"}}},
		{"scalar for list", strings.Replace(base, `["310260"]`, `"310260"`, 1),
			[]want{{9, "profiles[0].plmns", `want a list, got "310260"`}}},
		{"scalar for struct", base + "api: yes\n",
			[]want{{13, "api", `want a mapping, got "yes"`}}},
		{"list for text value", strings.Replace(base, `country_mcc: "310"`, `country_mcc: [310]`, 1),
			[]want{{12, "policy.site.country_mcc", "want a single value, got a list"}}},
		{"root not a mapping", "- a\n- b\n",
			[]want{{1, "", "want a mapping, got a list"}}},
		{"empty file", "  \n", []want{{0, "", "empty config"}}},
		{"only comments", "# nothing\n", []want{{0, "", "empty config"}}},
		{"syntax error", "modem:\n  device: [\n", []want{{0, "", "yaml:"}}},
		{"two documents", base + "---\nmodem: {}\n", []want{{13, "", "more than one YAML document"}}},
		{"decode and validation errors together, sorted by line",
			"modem:\n  baud: fast\nsim:\n  method: applet\nprofiles:\n  - name: Home!\n    index: 0\n    apn: internet\n    plmns: [\"310260\"]\npolicy:\n  site:\n    country_mcc: \"310\"\n",
			[]want{
				{1, "modem.device", "required"},
				{2, "modem.baud", "want an integer"},
				{6, "profiles[0].name", `"Home!": use 1-32`},
			}},
		{"null keeps default", strings.Replace(base, "  device: /dev/ttyUSB2\n", "  device: /dev/ttyUSB2\n  baud: ~\n", 1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErrors(t, tt.src, tt.wants) })
	}
}

func TestValidationRules(t *testing.T) {
	p := func(s string) string { return strings.ReplaceAll(s, "\t", "    ") } // profile body indent
	tests := []struct {
		name  string
		src   string
		wants []want
	}{
		// modem
		{"device required", strings.Replace(base, "  device: /dev/ttyUSB2\n", "  baud: 115200\n", 1),
			[]want{{1, "modem.device", "required"}}},
		{"device absolute", strings.Replace(base, "/dev/ttyUSB2", "ttyUSB2", 1),
			[]want{{2, "modem.device", "must be an absolute path"}}},
		{"baud standard", strings.Replace(base, "  device: /dev/ttyUSB2\n", "  device: /dev/ttyUSB2\n  baud: 12345\n", 1),
			[]want{{3, "modem.baud", "12345 is not a standard baud rate"}}},

		// sim
		{"method required", strings.Replace(base, "  method: applet\n", "  apn: x\n", 1),
			[]want{{3, "sim.method", "required"}}},
		{"unknown method", strings.Replace(base, "method: applet", "method: magic", 1),
			[]want{{4, "sim.method", `unknown method "magic"`}}},
		{"shared apn only for applet/autonomous", withProfiles("euicc\n  apn: x", p("  - name: a\n\ticcid: \"8901260123456789012\"\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{8, "sim.apn", "only for the applet and autonomous"}}},
		{"applet section with euicc", withProfiles("euicc\n  applet: {expect_sw: [\"9000\"]}", p("  - name: a\n\ticcid: \"8901260123456789012\"\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{8, "sim.applet", "only used with method applet"}}},
		{"euicc section with slot", withProfiles("slot\n  euicc: {refresh: false}", p("  - name: a\n\tslot: 1\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{8, "sim.euicc", "only used with method euicc"}}},
		{"applet aid length", strings.Replace(base, "  method: applet\n", "  method: applet\n  applet:\n    aid: A0000000\n", 1),
			[]want{{6, "sim.applet.aid", "5 to 16 bytes, got 4"}}},
		{"applet channel was removed", strings.Replace(base, "  method: applet\n", "  method: applet\n  applet:\n    channel: logical\n", 1),
			[]want{{6, "sim.applet.channel", "field sim.applet.channel was removed: the driver always opens a logical channel"}}},
		{"activate needs index", strings.Replace(base, "  method: applet\n", "  method: applet\n  applet:\n    activate_apdu: \"80140001\"\n", 1),
			[]want{{6, "sim.applet.activate_apdu", "{index}"}}},
		{"unknown placeholder", strings.Replace(base, "  method: applet\n", "  method: applet\n  applet:\n    activate_apdu: \"8014{index}{p2}\"\n", 1),
			[]want{{6, "sim.applet.activate_apdu", "unknown placeholder"}}},
		{"apdu not hex", strings.Replace(base, "  method: applet\n", "  method: applet\n  applet:\n    activate_apdu: \"80ZZ{index}01\"\n", 1),
			[]want{{6, "sim.applet.activate_apdu", "want a 4- to 261-byte APDU"}}},
		{"select apdu was removed", strings.Replace(base, "  method: applet\n", "  method: applet\n  applet:\n    select_apdu: \"00A4\"\n", 1),
			[]want{{6, "sim.applet.select_apdu", "field sim.applet.select_apdu was removed"}}},
		{"expect_sw shape", strings.Replace(base, "  method: applet\n", "  method: applet\n  applet:\n    expect_sw: [\"9000\", \"6x00\"]\n", 1),
			[]want{{6, "sim.applet.expect_sw[1]", `got "6x00"`}}},
		{"expect_sw empty", strings.Replace(base, "  method: applet\n", "  method: applet\n  applet:\n    expect_sw: []\n", 1),
			[]want{{6, "sim.applet.expect_sw", "at least one status word"}}},
		{"isdr aid was removed", withProfiles("euicc\n  euicc: {isdr_aid: A0000005591010FFFFFFFF8900000100}", p("  - name: a\n\ticcid: \"8901260123456789012\"\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{8, "sim.euicc.isdr_aid", "field sim.euicc.isdr_aid was removed: the ISD-R AID is fixed by GSMA SGP.22"}}},
		{"d7 poll was removed", base + "  threats:\n    d7_neighbours: {poll: 60s}\n",
			[]want{{14, "policy.threats.d7_neighbours.poll", "field policy.threats.d7_neighbours.poll was removed"}}},
		{"d10 check was removed", base + "  threats:\n    d10_sim: {check: 1h}\n",
			[]want{{14, "policy.threats.d10_sim.check", "field policy.threats.d10_sim.check was removed"}}},

		// profiles: presence, names
		{"no profiles", strings.Replace(base, "profiles:\n  - name: home\n    index: 0\n    apn: internet\n    plmns: [\"310260\"]\n", "profiles: []\n", 1),
			[]want{{5, "profiles", "at least one profile"}}},
		{"profiles missing", withProfiles("applet", "")[:len(withProfiles("applet", ""))-len("profiles:\n")],
			[]want{{1, "profiles", "at least one profile"}}},
		{"name required", withProfiles("applet", p("  - index: 0\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{9, "profiles[0].name", "required"}}},
		{"name shape", withProfiles("applet", p("  - name: My Profile\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{9, "profiles[0].name", "typed on the CLI"}}},
		{"name unique", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n  - name: a\n\tindex: 1\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{13, "profiles[1].name", `"a" already used by profiles[0]`}}},

		// selectors
		{"applet index required", withProfiles("applet", p("  - name: a\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{9, "profiles[0].index", "required with method applet"}}},
		{"applet index range", withProfiles("applet", p("  - name: a\n\tindex: 256\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{10, "profiles[0].index", "0-255, got 256"}}},
		{"applet index unique", withProfiles("applet", p("  - name: a\n\tindex: 1\n\tapn: y\n\tmccs: [\"310\"]\n  - name: b\n\tindex: 1\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{14, "profiles[1].index", "1 already used by profiles[0]"}}},
		{"slot with applet", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tslot: 1\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{11, "profiles[0].slot", "not used with method applet"}}},
		{"euicc iccid required", withProfiles("euicc", p("  - name: a\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{9, "profiles[0].iccid", "required with method euicc"}}},
		{"euicc iccid unique", withProfiles("euicc", p("  - name: a\n\ticcid: \"8901260123456789012\"\n\tapn: y\n\tmccs: [\"310\"]\n  - name: b\n\ticcid: \"8901260123456789012F\"\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{14, "profiles[1].iccid", "already used by profiles[0]"}}},
		{"euicc index forbidden", withProfiles("euicc", p("  - name: a\n\ticcid: \"8901260123456789012\"\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{11, "profiles[0].index", "not used with method euicc"}}},
		{"slot required", withProfiles("slot", p("  - name: a\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{9, "profiles[0].slot", "required with method slot"}}},
		{"slot range", withProfiles("slot", p("  - name: a\n\tslot: 0\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{10, "profiles[0].slot", "1-8, got 0"}}},
		{"slot unique", withProfiles("slot", p("  - name: a\n\tslot: 2\n\tapn: y\n\tmccs: [\"310\"]\n  - name: b\n\tslot: 2\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{14, "profiles[1].slot", "2 already used by profiles[0]"}}},
		{"slot index forbidden", withProfiles("slot", p("  - name: a\n\tslot: 1\n\tindex: 3\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{11, "profiles[0].index", "not used with method slot"}}},
		{"autonomous needs identity", withProfiles("autonomous", p("  - name: a\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{9, "profiles[0]", "imsi_prefix or iccid is required"}}},
		{"autonomous prefixes overlap", withProfiles("autonomous", p("  - name: a\n\timsi_prefix: \"310260\"\n\tapn: y\n\tmccs: [\"310\"]\n  - name: b\n\timsi_prefix: \"3102601\"\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{14, "profiles[1].imsi_prefix", "overlaps profiles[0].imsi_prefix"}}},
		{"autonomous without index is fine", withProfiles("autonomous\n  apn: shared", p("  - name: a\n\timsi_prefix: \"310260\"\n\tmccs: [\"310\"]\n")), nil},
		{"bad imsi prefix", withProfiles("autonomous", p("  - name: a\n\timsi_prefix: \"3102\"\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{10, "profiles[0].imsi_prefix", "5 to 15 digits"}}},

		// APN
		{"apn required", withProfiles("euicc", p("  - name: a\n\ticcid: \"8901260123456789012\"\n\tmccs: [\"310\"]\n")),
			[]want{{9, "profiles[0].apn", "required"}}},
		{"apn required hints sim.apn for applet", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tmccs: [\"310\"]\n")),
			[]want{{9, "profiles[0].apn", "or set sim.apn"}}},
		{"sim.apn satisfies applet profiles", withProfiles("applet\n  apn: iot.example", p("  - name: a\n\tindex: 0\n\tmccs: [\"310\"]\n")), nil},
		{"apn shape", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: \"bad apn!\"\n\tmccs: [\"310\"]\n")),
			[]want{{11, "profiles[0].apn", "not a valid APN"}}},
		{"sim.apn shape", withProfiles("applet\n  apn: \"a..b\"", p("  - name: a\n\tindex: 0\n\tmccs: [\"310\"]\n")),
			[]want{{8, "sim.apn", "not a valid APN"}}},
		{"credentials without auth", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tapn_user: u\n\tmccs: [\"310\"]\n")),
			[]want{{9, "profiles[0].apn_auth", "apn_auth is none"}}},
		{"auth without user", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tapn_auth: chap\n\tmccs: [\"310\"]\n")),
			[]want{{9, "profiles[0].apn_user", "required when apn_auth is chap"}}},
		{"unknown pdp type", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tpdp_type: x25\n\tmccs: [\"310\"]\n")),
			[]want{{12, "profiles[0].pdp_type", `unknown PDP type "x25"`}}},

		// networks and RATs
		{"allowlist required", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n")),
			[]want{{9, "profiles[0]", "plmns or mccs is required"}}},
		{"duplicate plmn", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tplmns: [\"310260\", \"310-260\"]\n")),
			[]want{{12, "profiles[0].plmns[1]", "duplicate 310260"}}},
		{"rats empty", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n\trats: []\n")),
			[]want{{13, "profiles[0].rats", "at least one RAT"}}},
		{"gsm needs live 2g", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n\trats: [lte, gsm]\n")),
			[]want{{13, "profiles[0].rats[1]", "legacy_2g_live: true"}}},
		{"umts needs live 3g", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n\trats: [umts]\n")),
			[]want{{13, "profiles[0].rats[0]", "legacy_3g_live: true"}}},
		{"gsm allowed where 2g lives", strings.Replace(withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"262\"]\n\trats: [lte, gsm]\n")),
			"    country_mcc: \"310\"\n", "    country_mcc: \"262\"\n    legacy_2g_live: true\n", 1), nil},
		{"duplicate rat", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n\trats: [lte, lte]\n")),
			[]want{{13, "profiles[0].rats[1]", "duplicate lte"}}},

		// cost, cap, billing, priority
		{"money without currency", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n\tcost: {per_mb: \"0.01\"}\n")),
			[]want{{13, "profiles[0].cost.per_mb", "no currency"}}},
		{"currency mismatch in profile", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n\tcost:\n\t  currency: USD\n\t  per_mb: \"0.01 EUR\"\n")),
			[]want{{15, "profiles[0].cost.per_mb", "currency EUR differs from the profile's USD"}}},
		{"currency mismatch across profiles", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n\tcost: {per_mb: \"0.01 USD\"}\n  - name: b\n\tindex: 1\n\tapn: y\n\tmccs: [\"310\"]\n\tcost: {per_mb: \"0.01 EUR\"}\n")),
			[]want{{18, "profiles[1].cost.currency", "EUR differs from USD used by profiles[0]"}}},
		{"bad currency code", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n\tcost: {currency: usd}\n")),
			[]want{{13, "profiles[0].cost.currency", "3-letter ISO 4217"}}},
		{"billing day 0", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n\tbilling_day: 0\n")),
			[]want{{13, "profiles[0].billing_day", "(every month has it), got 0"}}},
		{"billing day 29", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n\tbilling_day: 29\n")),
			[]want{{13, "profiles[0].billing_day", "(every month has it), got 29"}}},
		{"billing day 28 ok", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n\tbilling_day: 28\n")), nil},
		{"priority range", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n\tpriority: 0\n")),
			[]want{{13, "profiles[0].priority", "1-1000, got 0"}}},
		{"priority unique", withProfiles("applet", p("  - name: a\n\tindex: 0\n\tapn: y\n\tmccs: [\"310\"]\n\tpriority: 2\n  - name: b\n\tindex: 1\n\tapn: y\n\tmccs: [\"310\"]\n")),
			[]want{{14, "profiles[1].priority", "2 already used by profiles[0]"}}},

		// policy
		{"probes required", base + "  probes:\n    http: []\n",
			[]want{{13, "policy.probes", "at least one http or icmp"}}},
		{"probe url", base + "  probes:\n    http: [\"ftp://x/\"]\n",
			[]want{{14, "policy.probes.http[0]", `got "ftp://x/"`}}},
		{"probe host", base + "  probes:\n    icmp: [\"not a host\"]\n",
			[]want{{14, "policy.probes.icmp[0]", "IP address or host name"}}},
		{"probe timeout below interval", base + "  probes:\n    interval: 10s\n    timeout: 10s\n",
			[]want{{15, "policy.probes.timeout", "shorter than policy.probes.interval"}}},
		{"probe failures", base + "  probes:\n    failures_to_down: 0\n",
			[]want{{14, "policy.probes.failures_to_down", "at least 1"}}},
		{"rsrp ordered", base + "  thresholds:\n    rsrp_floor: -100\n    rsrp_good: -110dBm\n",
			[]want{{15, "policy.thresholds.rsrp_good", "must be above rsrp_floor"}}},
		{"rsrp range", base + "  thresholds:\n    rsrp_floor: -150\n",
			[]want{{14, "policy.thresholds.rsrp_floor", "between -140 and -44 dBm, got -150"}}},
		{"sinr ordered", base + "  thresholds:\n    sinr_floor: 5dB\n    sinr_good: 5\n",
			[]want{{15, "policy.thresholds.sinr_good", "must be above sinr_floor"}}},
		{"hysteresis range", base + "  thresholds:\n    hysteresis: -1\n",
			[]want{{14, "policy.thresholds.hysteresis", "between 0 and 30"}}},
		{"dwell positive", base + "  min_dwell: 0s\n",
			[]want{{13, "policy.min_dwell", "must be a positive duration"}}},
		{"signal poll positive", base + "  signal_poll: 0s\n",
			[]want{{13, "policy.signal_poll", "must be a positive duration"}}},
		{"signal poll floor", base + "  signal_poll: 1ns\n",
			[]want{{13, "policy.signal_poll", "1ns is too short: at least 1s"}}},
		{"probe interval floor", base + "  probes:\n    interval: 1s\n    timeout: 500ms\n    retry: 1s\n",
			[]want{{14, "policy.probes.interval", "too short: at least 3s"}}},
		{"dwell floor", base + "  min_dwell: 999ms\n",
			[]want{{13, "policy.min_dwell", "too short: at least 1s"}}},
		{"switch cap", base + "  switch_cap: {max: 0, window: 0s}\n",
			[]want{{13, "policy.switch_cap.max", "at least 1"}, {13, "policy.switch_cap.window", "positive"}}},
		{"verify deadline vs probe timeout", base + "  verify_deadline: 2s\n",
			[]want{{13, "policy.verify_deadline", "leaves no time for a probe"}}},
		{"quarantine ordered", base + "  quarantine: {base: 2h, max: 1h}\n",
			[]want{{13, "policy.quarantine.max", "shorter than policy.quarantine.base"}}},
		{"no service trigger", base + "  no_service_trigger: 0s\n",
			[]want{{13, "policy.no_service_trigger", "positive"}}},
		{"country required", strings.Replace(base, "  site:\n    country_mcc: \"310\"\n", "  min_dwell: 5m\n", 1),
			[]want{{10, "policy.site.country_mcc", "required"}}},
		{"mobility", strings.Replace(base, "    country_mcc: \"310\"\n", "    country_mcc: \"310\"\n    mobility: parked\n", 1),
			[]want{{13, "policy.site.mobility", `unknown mobility "parked"`}}},
		{"time zone", strings.Replace(base, "    country_mcc: \"310\"\n", "    country_mcc: \"310\"\n    time_zone: ../../etc/passwd\n", 1),
			[]want{{13, "policy.site.time_zone", "IANA zone name"}}},
		{"threat tiers", base + "  threats:\n    suspect: 5\n",
			[]want{{13, "policy.threats", "tiers must rise"}}},
		{"d5 windows ordered", base + "  threats:\n    d5_unknown_cell: {transient: 8d}\n",
			[]want{{14, "policy.threats.d5_unknown_cell.return_window", "longer than transient"}}},
		{"d9 windows ordered", base + "  threats:\n    d9_churn:\n      long_window: 5m\n",
			[]want{{15, "policy.threats.d9_churn.long_window", "longer than short_window"}}},
		{"detector threshold", base + "  threats:\n    d8_jamming: {polls: 0}\n",
			[]want{{14, "policy.threats.d8_jamming.polls", "at least 1"}}},

		// api
		{"socket mode world", base + "api:\n  socket_mode: \"0666\"\n",
			[]want{{14, "api.socket_mode", "every local user"}}},
		{"socket mode owner", base + "api:\n  socket_mode: \"0060\"\n",
			[]want{{14, "api.socket_mode", "daemon's own user"}}},
		{"socket mode syntax", base + "api:\n  socket_mode: \"rw-rw----\"\n",
			[]want{{14, "api.socket_mode", "octal permission mode"}}},
		{"listen needs token", base + "api:\n  listen: \"8787\"\n",
			[]want{{13, "api.token_file", "required when api.listen is set"}}},
		{"listen shape", base + "api:\n  listen: \"host:99999\"\n  token_file: t\n",
			[]want{{14, "api.listen", "want host:port or a port"}}},
		{"listen host", base + "api:\n  listen: \"example.com:80\"\n  token_file: t\n",
			[]want{{14, "api.listen", "want an IP address to bind"}}},
		{"tls pair", base + "api:\n  listen: \"8787\"\n  token_file: t\n  tls_cert: c.pem\n",
			[]want{{16, "api.tls_cert", "tls_cert and tls_key go together"}}},
		{"tls needs listen", base + "api:\n  tls_cert: c.pem\n  tls_key: k.pem\n",
			[]want{{14, "api.tls_cert", "set api.listen"}}},
		{"listen off loopback needs tls", base + "api:\n  listen: \"0.0.0.0:8787\"\n  token_file: t\n",
			[]want{{14, "api.listen", "not a loopback address: set api.tls_cert"}}},
		{"listen off loopback insecure ok", base + "api:\n  listen: \"0.0.0.0:8787\"\n  token_file: t\n  insecure_plaintext: true\n", nil},
		{"listen off loopback tls ok", base + "api:\n  listen: \"192.0.2.1:8787\"\n  token_file: t\n  tls_cert: c.pem\n  tls_key: k.pem\n", nil},
		{"public reads need hosts", base + "api:\n  listen: \"8787\"\n  token_file: t\n  token_for_reads: false\n",
			[]want{{16, "api.token_for_reads", "need api.hosts"}}},
		{"public reads with hosts ok", base + "api:\n  listen: \"8787\"\n  token_file: t\n  token_for_reads: false\n  hosts: [gw.lan, 127.0.0.1]\n", nil},
		{"hosts entry", base + "api:\n  listen: \"8787\"\n  token_file: t\n  hosts: [\"gw.lan:8787\"]\n",
			[]want{{16, "api.hosts[0]", "not a host name or IP address"}}},
		{"socket required", base + "api:\n  socket: \"\"\n",
			[]want{{14, "api.socket", "required"}}},

		// upstream
		{"upstream url", base + "upstream:\n  url: \"fleet.example.com\"\n  token_file: t\n  fleet_salt: 0123456789abcdef\n",
			[]want{{14, "upstream.url", "want an https:// URL"}}},
		{"upstream http only loopback", base + "upstream:\n  url: \"http://fleet.example.com/\"\n  token_file: t\n  fleet_salt: 0123456789abcdef\n",
			[]want{{14, "upstream.url", "only allowed to a loopback"}}},
		{"upstream http loopback ok", base + "upstream:\n  url: \"http://127.0.0.1:9000/\"\n  token_file: t\n  fleet_salt: 0123456789abcdef\n", nil},
		{"upstream bearer token", base + "upstream:\n  url: \"https://fleet.example.com/\"\n  fleet_salt: 0123456789abcdef\n",
			[]want{{13, "upstream.token_file", "required with auth bearer"}}},
		{"upstream hmac key", base + "upstream:\n  url: \"https://fleet.example.com/\"\n  auth: hmac\n  fleet_salt: 0123456789abcdef\n",
			[]want{{13, "upstream.hmac_key_file", "required with auth hmac"}}},
		{"upstream salt", base + "upstream:\n  url: \"https://fleet.example.com/\"\n  token_file: t\n  fleet_salt: short\n",
			[]want{{16, "upstream.fleet_salt", "at least 16 characters"}}},
		{"upstream batch", base + "upstream:\n  url: \"https://fleet.example.com/\"\n  token_file: t\n  fleet_salt: 0123456789abcdef\n  batch_size: 0\n",
			[]want{{17, "upstream.batch_size", "1-1000, got 0"}}},
		{"upstream outbox", base + "upstream:\n  url: \"https://fleet.example.com/\"\n  token_file: t\n  fleet_salt: 0123456789abcdef\n  outbox_max: 10\n",
			[]want{{17, "upstream.outbox_max", "smaller than batch_size"}}},
		{"upstream advisory key", base + "upstream:\n  advisory_key: \"abcd\"\n",
			[]want{{14, "upstream.advisory_key", "32-byte ed25519"}}},
		{"upstream heartbeat floor", base + "upstream:\n  url: \"https://fleet.example.com/\"\n  token_file: t\n  fleet_salt: 0123456789abcdef\n  heartbeat: 1ns\n",
			[]want{{17, "upstream.heartbeat", "1ns is too short: at least 30s"}}},
		{"upstream advisory poll floor", base + "upstream:\n  url: \"https://fleet.example.com/\"\n  token_file: t\n  fleet_salt: 0123456789abcdef\n  advisory_poll: 1ns\n",
			[]want{{17, "upstream.advisory_poll", "too short: at least 1m"}}},
		{"upstream timeout floor", base + "upstream:\n  url: \"https://fleet.example.com/\"\n  token_file: t\n  fleet_salt: 0123456789abcdef\n  timeout: 1ms\n",
			[]want{{17, "upstream.timeout", "too short: at least 1s"}}},
		{"upstream device id", base + "upstream:\n  device_id: \"gw 1\"\n",
			[]want{{14, "upstream.device_id", "want 1-64 of"}}},
		{"upstream device id placeholder", base + "upstream:\n  device_id: CHANGEME\n",
			[]want{{14, "upstream.device_id", "not a placeholder"}}},
		{"upstream device id ok", base + "upstream:\n  device_id: store-berlin-0042\n", nil},
		{"advisory keys", base + "upstream:\n  advisory_keys:\n    - {id: \"2026\", key: 3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29}\n    - {id: \"2026\", key: 3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29}\n    - {id: \"bad id\", key: d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a}\n",
			[]want{{16, "upstream.advisory_keys[1].id", `"2026" already names upstream.advisory_keys[0]`}, {16, "upstream.advisory_keys[1].key", "the same key as upstream.advisory_keys[0].key"},
				{17, "upstream.advisory_keys[2].id", "want 1-64"}, {17, "upstream.advisory_keys[2].key", "published test key"}}},
		{"advisory keys ok", base + "upstream:\n  advisory_key: 3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29\n  advisory_keys: [{id: next, key: 3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660d}]\n", nil},
		{"upstream disabled ignores the rest", base + "upstream:\n  batch_size: 0\n", nil},

		// daemon
		{"state dir", base + "state_dir: \"\"\n",
			[]want{{13, "state_dir", "required"}}},
		{"log format", base + "log:\n  format: xml\n",
			[]want{{14, "log.format", `unknown log format "xml"`}}},
		{"log level", base + "log:\n  level: loud\n",
			[]want{{14, "log.level", "loud"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErrors(t, tt.src, tt.wants) })
	}
}

// A removed field is refused with a typed cause, so callers (imsictl
// config check, the daemon's reload) can tell it from a typo.
func TestRemovedFieldIsTyped(t *testing.T) {
	src := strings.Replace(base, "  method: applet\n", "  method: applet\n  applet:\n    channel: logical\n", 1)
	_, err := profiles.Parse("t.yaml", []byte(src))
	if !errors.Is(err, profiles.ErrRemovedField) {
		t.Fatalf("err = %v, want ErrRemovedField", err)
	}
	var fe profiles.FieldError
	if !errors.As(err, &fe) || fe.Path != "sim.applet.channel" {
		t.Errorf("FieldError = %+v", fe)
	}
	_, err = profiles.Parse("t.yaml", []byte(strings.Replace(base, "  method: applet\n", "  method: applet\n  applet:\n    chanel: logical\n", 1)))
	if err == nil || errors.Is(err, profiles.ErrRemovedField) {
		t.Errorf("a typo = %v, want an unknown field that is not ErrRemovedField", err)
	}
}

func TestMergeKeys(t *testing.T) {
	src := withProfiles("applet", `  - &common
    name: a
    index: 0
    apn: internet
    mccs: ["310"]
    cost: {per_mb: "0.01 USD"}
  - <<: *common
    name: b
    index: 1
    priority: 7
`)
	cfg, err := profiles.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Profile("b")
	if b == nil || b.APN != "internet" || *b.Index != 1 || b.Priority != 7 || b.Cost.PerMB.Micros != 10_000 {
		t.Fatalf("merged profile = %+v", b)
	}
	checkErrors(t, withProfiles("applet", "  - <<: [1]\n    name: a\n    index: 0\n    apn: x\n    mccs: [\"310\"]\n"),
		[]want{{9, "profiles[0]", `want a mapping, got "1"`}})
}

func TestTrailingEmptyDocument(t *testing.T) {
	checkErrors(t, base+"---\n", nil)
	checkErrors(t, base+"---\n# just a comment\n", nil)
}
