package sim

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Transcripts under testdata/apdu replay APDU exchanges against a fresh
// card. Line forms:
//
//	# config: plain|euicc|small    which card to build (first line)
//	> 00A4000C027FFF               Transmit on the basic channel (+CSIM)
//	>1 81E29100...                 TransmitChannel(1, ...) (+CGLA)
//	< 9000                         the expected answer of the line before
//	? imsi 310260123456789         expect IMSI(); also iccid, active, refresh
//	! reset | naainit | busy | idle  drive the card
//	! open A0000005...             OpenChannel (+CCHO); "< 01" or "< ERR_..."
//	! close 1                      CloseChannel (+CCHC); "< OK" or "< ERR_..."
func TestTranscripts(t *testing.T) {
	paths, err := filepath.Glob("testdata/apdu/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) { replay(t, p) })
	}
}

var transcriptConfigs = map[string]func() CardConfig{
	"plain":       plainConfig,
	"euicc-b":     func() CardConfig { c := euiccConfig(); c.EnabledProfile = 1; return c },
	"euicc-small": func() CardConfig { c := euiccConfig(); c.ResponseLimit = 16; return c },
	"euicc":       euiccConfig,
	"small":       func() CardConfig { c := plainConfig(); c.ResponseLimit = 16; return c },
}

func replay(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var c *Card
	var got string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		where := fmt.Sprintf("%s:%d", filepath.Base(path), n)
		if name, ok := strings.CutPrefix(line, "# config:"); ok {
			mk := transcriptConfigs[strings.TrimSpace(name)]
			if mk == nil {
				t.Fatalf("%s: unknown config %q", where, name)
			}
			c = mustCard(t, mk())
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if c == nil {
			t.Fatalf("%s: no '# config:' line before the first exchange", where)
		}
		op, arg, _ := strings.Cut(line, " ")
		arg = strings.ReplaceAll(arg, " ", "")
		switch {
		case op == ">":
			got = hexU(c.Transmit(unhex(t, arg)))
		case strings.HasPrefix(op, ">"):
			ch, err := strconv.Atoi(op[1:])
			if err != nil {
				t.Fatalf("%s: bad channel %q", where, op)
			}
			r, err := c.TransmitChannel(ch, unhex(t, arg))
			got = hexU(r)
			if err != nil {
				got = errName(err)
			}
		case op == "<":
			if got != strings.ToUpper(arg) {
				t.Errorf("%s: got %s, want %s", where, got, strings.ToUpper(arg))
			}
		case op == "?":
			key, val, _ := strings.Cut(strings.TrimSpace(line[1:]), " ")
			var have string
			switch key {
			case "imsi":
				have = c.IMSI()
			case "iccid":
				have = c.ICCID()
			case "active":
				have = strconv.Itoa(c.ActiveIndex())
			case "refresh":
				have = "none"
				if r, ok := c.TakeRefresh(); ok {
					have = fmt.Sprintf("%02X", r.Qualifier)
				}
			default:
				t.Fatalf("%s: unknown expectation %q", where, key)
			}
			if have != val {
				t.Errorf("%s: %s = %s, want %s", where, key, have, val)
			}
		case op == "!" && strings.HasPrefix(arg, "open"):
			ch, err := c.OpenChannel(unhex(t, arg[4:]))
			got = fmt.Sprintf("%02X", ch)
			if err != nil {
				got = errName(err)
			}
		case op == "!" && strings.HasPrefix(arg, "close"):
			ch, _ := strconv.Atoi(arg[5:])
			got = "OK"
			if err := c.CloseChannel(ch); err != nil {
				got = errName(err)
			}
		case op == "!":
			switch arg {
			case "reset":
				c.Reset()
			case "naainit":
				c.NAAInit()
			case "busy":
				c.SetCATBusy(true)
			case "idle":
				c.SetCATBusy(false)
			default:
				t.Fatalf("%s: unknown action %q", where, arg)
			}
		default:
			t.Fatalf("%s: cannot parse %q", where, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func errName(err error) string {
	for name, e := range map[string]error{
		"ERR_NO_CHANNEL": ErrNoChannel, "ERR_INVALID_CHANNEL": ErrInvalidChannel, "ERR_AID_NOT_FOUND": ErrAIDNotFound,
	} {
		if errors.Is(err, e) {
			return name
		}
	}
	return "ERR_OTHER"
}
