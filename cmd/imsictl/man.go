//go:build !noman

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/imsid/imsid/internal/apiclient"
	"github.com/imsid/imsid/internal/manpage"
)

// runMan prints imsictl(1), built from the command table and each command's
// own flag set (collected through env.defs, so it cannot drift from them).
// `make man` writes it to packaging/man/imsictl.1; TestManPage fails when
// that file is stale.
func runMan(ctx context.Context, e *env, g *globals, args []string) int {
	pos, code, done := parseCommand(e, g, "__man", args, nil)
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(e, "__man", "takes no arguments")
	}
	fmt.Fprint(e.stdout, manPage(ctx))
	return exitOK
}

func manPage(ctx context.Context) string {
	defs := map[string]*flag.FlagSet{}
	collect := &env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" },
		defs: func(name string, fs *flag.FlagSet) { defs[name] = fs }}
	for _, c := range visibleCommands() {
		c.run(ctx, collect, &globals{}, nil)
	}

	p := manpage.New("imsictl", 1, "imsid manual")
	p.Section("name")
	p.Raw(`imsictl \- the operator's command line for the imsid cellular connectivity manager`)
	p.Section("synopsis")
	p.Raw(manpage.Bold("imsictl") + " [" + manpage.Italic("global flags") + "] " + manpage.Italic("command") +
		" [" + manpage.Italic("flags") + "] [" + manpage.Italic("args") + "]")
	p.Section("description")
	p.Para("imsictl shows and drives the imsid daemon over its HTTP API: on the gateway through the daemon's unix " +
		"socket, from elsewhere over TCP with a bearer token. One command, probe, talks to the modem directly " +
		"instead, for when the daemon is stopped. Every command takes --json for the API's documents instead of text. " +
		"Global flags may come before or after the command, and flags may follow positional arguments.")
	p.Section("commands")
	for _, c := range visibleCommands() {
		p.Subsection(strings.TrimSpace("imsictl " + c.name + " " + c.args))
		p.Para(c.summary + ".")
		if fs := defs[c.name]; fs != nil {
			n := 0
			fs.VisitAll(func(*flag.Flag) { n++ })
			if n > 0 {
				p.Flags(fs, nil)
			}
		}
	}
	p.Section("global flags")
	var talk []string
	for _, c := range visibleCommands() {
		if c.daemon {
			talk = append(talk, c.name)
		}
	}
	p.Para("The connection flags (all but --json and --no-color) apply to the commands that talk to the daemon: " +
		strings.Join(talk, ", ") + ".")
	fs := flag.NewFlagSet("imsictl", flag.ContinueOnError)
	(&globals{}).register(fs)
	p.Flags(fs, nil)
	p.Section("environment")
	fs.VisitAll(func(f *flag.Flag) {
		_, usage := flag.UnquoteUsage(f)
		for _, w := range strings.FieldsFunc(usage, func(r rune) bool { return r == ' ' || r == ';' || r == ')' || r == '(' }) {
			if strings.HasPrefix(w, "IMSICTL_") || w == "NO_COLOR" {
				p.Item(manpage.Bold(w), "see --"+f.Name+".")
			}
		}
	})
	p.Section("exit status")
	for _, x := range []struct {
		code int
		what string
	}{
		{exitOK, "success"},
		{exitFail, "the command failed or the daemon refused it"},
		{exitUsage, "bad command line"},
		{exitUnreachable, "the daemon could not be reached"},
	} {
		p.Item(manpage.Bold(fmt.Sprint(x.code)), x.what)
	}
	p.Section("files")
	p.Item(manpage.Italic(apiclient.DefaultSocket()), "the daemon's unix socket (its api.socket), mode 0660: run as root or as a member of its group.")
	p.Item(manpage.Italic(openWrtSocket), "the socket of the OpenWrt package's config, tried when the default does not exist.")
	p.Section("see also")
	p.Raw(manpage.Bold("imsid") + "(8); docs/cli.md in the imsid sources, with examples of every command.")
	return p.String()
}
