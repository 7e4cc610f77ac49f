package modem

import (
	"context"
	"strings"
)

const maxGstatusLine = 512

// gstatusPairs splits Sierra's free-form !GSTATUS? text into key/value
// pairs. Each line holds one or two "Key: value" cells separated by tabs (or
// runs of blanks); keys are lower-cased with their blanks collapsed. A cell
// without a colon continues the previous value ("EMM state: Registered
// <tab>Normal Service").
func gstatusPairs(lines []string) map[string]string {
	kv := map[string]string{}
	for _, l := range lines {
		if len(l) > maxGstatusLine {
			continue // no real status line is this long; the cell split is quadratic
		}
		if r, ok := cutPrefix(l, "!GSTATUS:"); ok {
			l = r
		}
		for _, cell := range strings.Split(l, "\t") {
			cell = strings.TrimSpace(cell)
			if cell == "" {
				continue
			}
			// Two cells separated by blanks instead of a tab: split at the
			// second "key:" by looking for "  " followed by text and a colon.
			for _, c := range splitGstatusCell(cell) {
				k, v, ok := strings.Cut(c, ":")
				if !ok {
					continue
				}
				k = strings.ToLower(strings.Join(strings.Fields(k), " "))
				// The main-antenna line (PCC RxM) comes before the diversity
				// one (PCC RxD) and both say "RSRP (dBm)": the first wins.
				if _, dup := kv[k]; !dup {
					kv[k] = strings.TrimSpace(v)
				}
			}
		}
	}
	return kv
}

// splitGstatusCell splits "Mode:        ONLINE     System mode: LTE" style
// cells where the tab was replaced by spaces: a run of 2+ blanks followed
// by a word sequence that ends in ':' starts a new cell.
func splitGstatusCell(s string) []string {
	var out []string
	for {
		k := strings.IndexByte(s, ':')
		if k < 0 {
			break
		}
		// Find the next "  X...:" after the first colon's value.
		next := -1
		for i := k + 1; i+2 < len(s); i++ {
			if s[i] == ' ' && s[i+1] == ' ' {
				j := i
				for j < len(s) && s[j] == ' ' {
					j++
				}
				if c := strings.IndexByte(s[j:], ':'); c > 0 && !strings.Contains(s[j:j+c], "  ") && valueStarted(s[k+1:i]) {
					next = j
					break
				}
				i = j
			}
		}
		if next < 0 {
			break
		}
		out = append(out, strings.TrimSpace(s[:next]))
		s = s[next:]
	}
	return append(out, strings.TrimSpace(s))
}

func valueStarted(v string) bool { return strings.TrimSpace(v) != "" }

// firstNumber returns the leading number of v ("-81", "20 MHz", "-12.5").
func firstNumber(v string) (float64, bool) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0, false
	}
	n, err := atof(f[0])
	return n, err == nil
}

// ParseGSTATUS reads Sierra AT!GSTATUS? (EM7455/MC7455 and relatives):
// free-form, tab separated, labels that vary between firmware releases.
// Known labels are read; unknown ones are ignored. Values the modem prints
// as "---" or leaves out stay nil.
func ParseGSTATUS(lines []string) (ServingCell, error) {
	kv := gstatusPairs(lines)
	if len(kv) == 0 {
		return ServingCell{}, perr("!GSTATUS", "", strings.Join(lines, "|"), "no \"key: value\" cells")
	}
	var sc ServingCell
	sc.State = kv["mode"]
	sysmode := kv["system mode"]
	sc.Tech = sysmodeTech(sysmode)
	switch u := strings.ToUpper(sysmode); {
	case u == "ENDC" || u == "EN-DC":
		sc.Tech = TechNR5GNSA
	case sc.Tech == TechUnknown && strings.Contains(u, "WCDMA"):
		sc.Tech = TechUMTS
	}
	num := func(keys ...string) *float64 {
		for _, k := range keys {
			if v, ok := kv[k]; ok {
				if n, ok := firstNumber(v); ok {
					return &n
				}
			}
		}
		return nil
	}
	if b := kv["lte band"]; b != "" && !unknownValue(b) && b != "---" {
		sc.Band = b
	}
	if v := num("lte rx chan", "lte earfcn(dl)"); v != nil && *v >= 0 {
		sc.EARFCN = ptr(int(*v))
	}
	if v := num("rsrp (dbm)", "pcc rxm rsrp"); v != nil && *v < 0 {
		sc.Signal.RSRP = dbm(*v)
	}
	if v := num("rsrq (db)"); v != nil && *v <= 0 {
		sc.Signal.RSRQ = db(*v)
	}
	if v := num("sinr (db)"); v != nil {
		sc.Signal.SINR = db(*v)
	}
	if v := num("pcc rxm rssi", "rssi (dbm)"); v != nil && *v < 0 {
		sc.Signal.RSSI = dbm(*v)
	}
	if t := kv["tac"]; t != "" {
		// "TAC: 3d52 (15698)": hex first, decimal in brackets.
		if v, err := optHex32(strings.Fields(t)[0]); err == nil {
			sc.Area = v
		}
	}
	if c := kv["cell id"]; c != "" {
		if v, err := optHex64(strings.Fields(c)[0]); err == nil {
			sc.CellID = v
		}
	}
	if sc.Tech != TechUnknown {
		sc.Signal.Tech, sc.Signal.Source = sc.Tech, "!GSTATUS"
	}
	return sc, nil
}

// ParseSELRAT reads Sierra "!SELRAT: <n>[, <description>]".
func ParseSELRAT(lines []string) (int, error) {
	rest, line, ok := findPrefixed(lines, "!SELRAT:")
	if !ok {
		return 0, perr("!SELRAT", "", strings.Join(lines, "|"), "%v", errNoLine)
	}
	n, err := parseUintBase(strings.TrimSpace(fieldAt(splitFields(rest), 0).s), 10)
	if err != nil {
		return 0, perr("!SELRAT", "n", line, "%v", err)
	}
	return int(n), nil
}

// DialectSierra: Sierra Wireless EM/MC74xx, EM75xx, EM91xx.
const DialectSierra Dialect = "sierra"

func init() {
	register(&vendor{
		dialect:       DialectSierra,
		aliases:       []string{"sierrawireless"},
		manufacturers: []string{"sierra"},
		models:        []string{"em74", "mc74", "em75", "mc73", "em73", "em91", "em92", "mc77", "ar75", "wp76", "rc76"},
		iccid:         []cmdSpec{{cmd: "!ICCID?", prefix: []string{"!ICCID:"}}},
		// !GSTATUS? is the only place it reports SINR.
		signal: func(ctx context.Context, q querier) (Signal, error) {
			sc, _, err := sierraServingCell(ctx, q)
			return sc.Signal, err
		},
		servingCell: sierraServingCell,
	})
}

func sierraServingCell(ctx context.Context, q querier) (ServingCell, []Neighbour, error) {
	lines, err := q.opt(ctx, cmdSpec{cmd: "!GSTATUS?", prefix: []string{"!GSTATUS:"}, bare: true})
	if err != nil {
		return ServingCell{}, nil, err
	}
	sc, err := ParseGSTATUS(lines)
	return sc, nil, opErr("!GSTATUS?", err)
}
