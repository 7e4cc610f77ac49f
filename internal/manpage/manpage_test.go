package manpage

import (
	"flag"
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	p := New("x", 1, "x manual")
	p.Para(".starts with a dot\n'and a quote \\ backslash --flag")
	got := p.String()
	for _, want := range []string{"\\&.starts with a dot\n", "\\&'and a quote \\e backslash \\-\\-flag\n", ".TH X 1 \"\" \"imsid\" \"x manual\"\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("page lacks %q:\n%s", want, got)
		}
	}
}

func TestFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("config", "", "configuration `FILE`")
	fs.Int("baud", 115200, "baud rate")
	fs.Bool("json", false, "print JSON")
	fs.Bool("hidden", false, "not shown")
	p := New("x", 1, "m")
	p.Flags(fs, map[string]bool{"hidden": true})
	got := p.String()
	want := ".TP\n\\fB\\-\\-baud\\fR \\fIint\\fR\nbaud rate (default 115200)\n" +
		".TP\n\\fB\\-\\-config\\fR \\fIFILE\\fR\nconfiguration FILE\n" +
		".TP\n\\fB\\-\\-json\\fR\nprint JSON\n"
	if !strings.HasSuffix(got, want) {
		t.Errorf("got\n%s\nwant suffix\n%s", got, want)
	}
}
