package simulator

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCommandLine(t *testing.T) {
	tests := []struct {
		in   string
		want []Command
		rep  bool
		err  error
	}{
		{in: "AT", want: nil},
		{in: "at+csq", want: []Command{{Name: "+CSQ", Op: OpExec}}},
		{in: "\x1bAT+CPIN?", want: []Command{{Name: "+CPIN", Op: OpRead}}},
		{in: "AT+COPS=?", want: []Command{{Name: "+COPS", Op: OpTest}}},
		{in: `AT+CGDCONT=1,"IP","a;b"`, want: []Command{{Name: "+CGDCONT", Op: OpSet, Args: `1,"IP","a;b"`}}},
		{in: "ATE0V1", want: []Command{{Name: "E", Args: "0"}, {Name: "V", Args: "1"}}},
		{in: "AT E0 ; +CMEE = 2", want: []Command{{Name: "E", Args: "0"}, {Name: "+CMEE", Op: OpSet, Args: "2"}}},
		{in: "AT+CSQ;+CGMI;", want: []Command{{Name: "+CSQ"}, {Name: "+CGMI"}}},
		{in: "ATS3?", want: []Command{{Name: "S3", Op: OpRead}}},
		{in: "ATS0=1", want: []Command{{Name: "S0", Op: OpSet, Args: "1"}}},
		{in: "AT&F", want: []Command{{Name: "&F"}}},
		{in: "ATD*99#", want: []Command{{Name: "D", Args: "*99#"}}},
		{in: "AT^ICCID?", want: []Command{{Name: "^ICCID", Op: OpRead}}},
		{in: "a/", rep: true},
		{in: "A/", rep: true},
		{in: "HELLO", err: ErrNoPrefix},
		{in: "", err: ErrNoPrefix},
		{in: `AT+CPIN="0000`, err: ErrSyntax},
		{in: "AT+", err: ErrSyntax},
		{in: "AT+CSQ?x", err: ErrSyntax},
		{in: "AT&", err: ErrSyntax},
		{in: "AT@", err: ErrSyntax},
	}
	for _, tt := range tests {
		got, err := ParseCommandLine(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%q: err = %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got.Repeat != tt.rep {
			t.Errorf("%q: repeat = %v", tt.in, got.Repeat)
		}
		if d := cmp.Diff(tt.want, got.Commands); d != "" {
			t.Errorf("%q: (-want +got)\n%s", tt.in, d)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []Arg
		bad  bool
	}{
		{in: "", want: nil},
		{in: "1", want: []Arg{{Text: "1"}}},
		{in: `1,"IP", "a,b" `, want: []Arg{{Text: "1"}, {Text: "IP", Quoted: true}, {Text: "a,b", Quoted: true}}},
		{in: "1,,3", want: []Arg{{Text: "1"}, {Empty: true}, {Text: "3"}}},
		{in: "1,", want: []Arg{{Text: "1"}, {Empty: true}}},
		{in: `"x`, bad: true},
		{in: `"x"y`, bad: true},
	}
	for _, tt := range tests {
		got, err := SplitArgs(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("%q: no error", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%q: (-want +got)\n%s", tt.in, d)
		}
	}
}

func FuzzParseCommandLine(f *testing.F) {
	for _, s := range []string{"AT", "AT+CSQ", `AT+CGLA=1,10,"8012000002"`, "ATE0V1S3?", "A/", "\x1bAT+COPS=?", `AT+X="`, "ATD*99#;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cl, err := ParseCommandLine(s)
		if err != nil {
			return
		}
		for _, c := range cl.Commands {
			if c.Name == "" {
				t.Fatalf("%q: command without a name", s)
			}
			if c.Op == OpSet {
				_, _ = SplitArgs(c.Args)
			}
		}
	})
}
