// Package manpage writes man pages (roff, the man macros) for the commands,
// from their real flag and command definitions: `imsid --man` and
// `imsictl __man` print theirs, `make man` writes packaging/man/, and each
// command's test fails when the committed page is not what its definitions
// produce. The packages ship them gzip'd in /usr/share/man.
package manpage

import (
	"flag"
	"fmt"
	"sort"
	"strings"
)

// Page builds one man page.
type Page struct {
	b strings.Builder
}

// New starts a page: NAME(SECTION), with the manual's title (e.g. "imsid
// manual"). The page carries no date or version, so that it only changes
// when the definitions do.
func New(name string, section int, manual string) *Page {
	p := &Page{}
	fmt.Fprintf(&p.b, ".\\\" Generated from the %s command's definitions (internal/manpage); do not edit: make man\n", name)
	fmt.Fprintf(&p.b, ".TH %s %d \"\" \"imsid\" \"%s\"\n", strings.ToUpper(name), section, Escape(manual))
	return p
}

// Section starts a section (.SH).
func (p *Page) Section(title string) {
	fmt.Fprintf(&p.b, ".SH %s\n", strings.ToUpper(Escape(title)))
}

// Subsection starts a subsection (.SS).
func (p *Page) Subsection(title string) {
	fmt.Fprintf(&p.b, ".SS %s\n", Escape(title))
}

// Para writes a paragraph of plain text.
func (p *Page) Para(text string) {
	p.b.WriteString(".PP\n")
	p.line(Escape(text))
}

// Raw writes roff as it is (already escaped, e.g. from Bold).
func (p *Page) Raw(roff string) {
	p.line(roff)
}

// Break ends the line here (.br).
func (p *Page) Break() {
	p.b.WriteString(".br\n")
}

// Item writes a tagged paragraph (.TP): tag is roff (use Bold, Italic),
// text is plain.
func (p *Page) Item(tag, text string) {
	p.b.WriteString(".TP\n")
	p.line(tag)
	p.line(Escape(text))
}

// Flags writes one tagged paragraph per flag of fs, sorted by name, as
// --name VALUE, with the usage and the default (as flag.PrintDefaults
// would show it).
func (p *Page) Flags(fs *flag.FlagSet, skip map[string]bool) {
	var fl []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if !skip[f.Name] {
			fl = append(fl, f)
		}
	})
	sort.Slice(fl, func(i, j int) bool { return fl[i].Name < fl[j].Name })
	for _, f := range fl {
		typ, usage := flag.UnquoteUsage(f)
		tag := Bold("--" + f.Name)
		if typ != "" {
			tag += " " + Italic(typ)
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "0s" && !strings.Contains(usage, "(default") {
			usage += " (default " + d + ")"
		}
		p.Item(tag, usage)
	}
}

// Preformatted writes text as it is, in a no-fill block.
func (p *Page) Preformatted(text string) {
	p.b.WriteString(".PP\n.nf\n.RS 4\n")
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		p.line(Escape(l))
	}
	p.b.WriteString(".RE\n.fi\n")
}

// String is the page.
func (p *Page) String() string { return p.b.String() }

// line writes roff text, keeping a line that starts with a control
// character from being read as a request.
func (p *Page) line(s string) {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			l = `\&` + l
		}
		p.b.WriteString(l)
		p.b.WriteByte('\n')
	}
}

// Escape makes plain text safe in roff: backslashes print as themselves and
// hyphens as the ASCII minus that options and paths need.
func Escape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	return s
}

// Bold is plain text in bold, as roff.
func Bold(s string) string { return `\fB` + Escape(s) + `\fR` }

// Italic is plain text in italics (an argument), as roff.
func Italic(s string) string { return `\fI` + Escape(s) + `\fR` }
