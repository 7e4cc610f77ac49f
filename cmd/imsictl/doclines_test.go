package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docCommandRe finds an imsictl command line in a doc: in a code block or
// in inline code, up to a comment, a pipe, a redirection or the end.
var docCommandRe = regexp.MustCompile("(?m)(?:^|`|\\$ |sudo |\\./bin/|&& )(imsictl (?:[^`#|;&<>\\n]*))")

// docCommands lists the imsictl command lines of the Markdown files,
// leaving out what only looks like one: a synopsis ([--flag], PROFILE) and
// a message imsictl prints ("imsictl switch: refused ...").
//
// inline says the line was only ever in inline code, where `imsictl pin`
// names a command in prose rather than shows one to type.
func docCommands(t *testing.T, files []string) (out map[string][]string, inline map[string]bool) {
	t.Helper()
	out, inline = map[string][]string{}, map[string]bool{}
	block := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range docCommandRe.FindAllStringSubmatch(string(b), -1) {
			line := strings.TrimSpace(m[1])
			isInline := strings.HasPrefix(m[0], "`")
			word := strings.Fields(line)
			if len(word) < 2 || strings.HasSuffix(word[1], ":") || strings.ContainsAny(line, "[]…") ||
				regexp.MustCompile(`\b[A-Z]{3,}\b`).MatchString(strings.ReplaceAll(line, "AT+", "")) || word[1] == "v0.4.2" {
				continue
			}
			out[line] = append(out[line], filepath.Base(f))
			if !isInline {
				block[line] = true
			}
		}
	}
	for line := range out {
		inline[line] = !block[line]
	}
	return out, inline
}

// shellWords splits a command line the way sh would for the quoting the
// docs use (single and double quotes, no expansions).
func shellWords(s string) []string {
	var out []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// TestDocCommandLines runs every imsictl command line the README and docs/
// show, and every example of the commands' own help, with no daemon to
// reach: each may fail for want of a daemon, a port or a file, but none
// may be a usage error (an unknown flag or command, a missing --device),
// which is how `imsictl probe /dev/ttyUSB2` stood in shipping.md.
func TestDocCommandLines(t *testing.T) {
	dir := t.TempDir()
	bin := ctlBinary(t, dir)
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	lines, inline := docCommands(t, files)
	if len(lines) < 20 {
		t.Fatalf("only %d imsictl command lines found in the docs", len(lines))
	}
	r := runner{bin: bin, socket: filepath.Join(dir, "no-daemon.sock")}
	help := r.run(t, nil, "help")
	for _, l := range strings.Split(help.stdout, "\n") {
		if f := strings.Fields(l); len(f) > 1 && !strings.HasSuffix(f[0], ":") && f[0] != "imsictl" && strings.HasPrefix(l, "  ") {
			h := r.run(t, nil, "help", f[0])
			ex := false
			for _, hl := range strings.Split(h.stdout+h.stderr, "\n") {
				switch {
				case strings.HasPrefix(hl, "examples:"):
					ex = true
				case ex && strings.HasPrefix(strings.TrimSpace(hl), "imsictl "):
					line := strings.TrimSpace(hl)
					if i := strings.IndexAny(line, "#>|"); i > 0 {
						line = strings.TrimSpace(line[:i])
					}
					lines[line] = append(lines[line], "imsictl help "+f[0])
				case ex && strings.TrimSpace(hl) == "":
					ex = false
				}
			}
		}
	}
	for line, where := range lines {
		args := shellWords(line)[1:]
		for i, a := range args {
			// No gateway to reach: a URL goes nowhere at once.
			if strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://") {
				args[i] = "http://127.0.0.1:1"
			}
		}
		if len(args) > 0 && (args[0] == "events" || strings.Contains(line, "--watch")) {
			continue // streams: their flags are checked by TestCLI
		}
		res := r.run(t, []string{"IMSICTL_TIMEOUT=2s"}, args...)
		bad := strings.Contains(res.stderr, "flag provided but not defined") || strings.Contains(res.stderr, "unknown command") ||
			strings.Contains(res.stderr, "nothing may follow")
		if !inline[line] {
			bad = bad || strings.Contains(res.stderr, "usage: imsictl")
		}
		if bad {
			t.Errorf("%q (%s) is a usage error:\n%s", line, strings.Join(where, ", "), res.stderr)
		}
	}
}
