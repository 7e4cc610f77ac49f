package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Exit codes (docs/cli.md).
const (
	exitOK          = 0
	exitFail        = 1 // the command failed or the daemon refused it
	exitUsage       = 2 // bad command line
	exitUnreachable = 3 // the daemon could not be reached
)

// command is one subcommand.
type command struct {
	name    string
	args    string // usage after the name, e.g. "PROFILE [--reason TEXT]"
	summary string
	hidden  bool
	// daemon: the command talks to the daemon, so the connection flags apply.
	daemon bool
	run    func(ctx context.Context, e *env, g *globals, args []string) int
}

// commands in the order help lists them.
var commands []command

func init() {
	commands = []command{
		{"status", "[--watch [--every D]]", "a summary of the daemon: state, profile, network, signal, link, threat, last switch", false, true, runStatus},
		{"profiles", "", "the profiles with their scores and why, quarantines and data caps", false, true, runProfiles},
		{"switch", "PROFILE [--reason TEXT] [--wait]", "switch to a profile now", false, true, runSwitch},
		{"pin", "PROFILE [--for DURATION] [--wait]", "hold a profile (until unpinned, or for a while)", false, true, runPin},
		{"unpin", "", "release the pin; automatic selection resumes", false, true, runUnpin},
		{"threats", "", "the threat findings (what was seen, where, how often, what was done) and the quarantines in force", false, true, runThreats},
		{"threat", "ack --reason TEXT", "acknowledge a latched tamper alarm (a modem or SIM changed on purpose)", false, true, runThreat},
		{"events", "[--follow]", "the daemon's recent events; --follow streams new ones", false, true, runEvents},
		{"decisions", "[--since DURATION|TIME] [--limit N]", "the decision log: what the daemon chose and why", false, true, runDecisions},
		{"at", "COMMAND", "send one AT command to the modem through the daemon's command queue (audited; needs the token over TCP)", false, true, runAT},
		{"probe", "[--device PATH] [flags]", "identify a modem and show what it sees: through the running daemon, or directly with --device (refusing a port a daemon holds)", false, false, runProbeCmd},
		{"config", "validate FILE", "check a config file without starting the daemon (runs the installed imsid's parser)", false, false, runConfig},
		{"version", "", "print the version", false, false, runVersion},
		{"completion", "bash|zsh|fish", "print a shell completion script", false, false, runCompletion},
		{"help", "[COMMAND]", "show help for imsictl or one command", false, false, runHelp},
		{"__complete", "profiles", "list profile names for shell completion", true, true, runComplete},
		{"__man", "", "print the man page (imsictl.1) from these definitions", true, false, runMan},
	}
}

// examples are shown in each command's help (imsictl help COMMAND).
var examples = map[string][]string{
	"status":    {"imsictl status", "imsictl status --json", "imsictl status --watch --every 5s", "imsictl --url https://gw:8787 --token-file /etc/imsid/api.token status"},
	"profiles":  {"imsictl profiles", "imsictl profiles --json"},
	"threats":   {"imsictl threats", "imsictl threats --json"},
	"switch":    {"imsictl switch fallback --reason 'field test'", "imsictl switch fallback --wait   # exit 0 once verified, 1 if refused or rolled back"},
	"pin":       {"imsictl pin fallback --for 4h --wait   # carrier maintenance: hold the other carrier", "imsictl pin home --for 1d", "imsictl pin home   # until 'imsictl unpin'"},
	"unpin":     {"imsictl unpin"},
	"at":        {"imsictl at 'AT+CSQ'", "imsictl at 'AT+QENG=\"servingcell\"'", "imsictl --json at ATI"},
	"threat":    {"imsictl threat ack --reason 'modem replaced by J. Doe, ticket 4711'"},
	"events":    {"imsictl events", "imsictl events --follow", "imsictl events --follow --json"},
	"decisions": {"imsictl decisions", "imsictl decisions --since 2h", "imsictl decisions --since all --limit 500 --json"},
	"config":    {"imsictl config validate /etc/imsid/imsid.yaml"},
	"version":   {"imsictl version"},
	"completion": {"imsictl completion bash > /etc/bash_completion.d/imsictl", "imsictl completion zsh > \"${fpath[1]}/_imsictl\"",
		"imsictl completion fish > ~/.config/fish/completions/imsictl.fish"},
	"help": {"imsictl help", "imsictl help switch"},
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// env is what a command may touch: its output streams, its environment and
// clock, and the ways it reaches hardware, all injectable for tests.
type env struct {
	stdout, stderr io.Writer
	// helper runs imsid's helper commands (default: the installed imsid).
	helper helperRunner
	getenv func(string) string
	now    func() time.Time
	// tty: stdout is a terminal (colour allowed unless turned off).
	tty bool
	// defs, when set, receives each command's own flag set instead of the
	// command running (the man page generator, man.go).
	defs func(name string, fs *flag.FlagSet)
	// holderOf says who holds a modem port (default findHolder).
	holderOf func(ctx context.Context, device, socket string) (holder, bool)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: os.Getenv, now: time.Now, tty: isTerminal(os.Stdout)}
	// IMSICTL_NOW pins the clock the output's relative times ("in 12m") are
	// computed from, so docs/cli.md's examples are reproducible.
	if s := os.Getenv("IMSICTL_NOW"); s != "" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			e.now = func() time.Time { return t }
		}
	}
	return runEnv(ctx, e, args)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func runEnv(ctx context.Context, e *env, args []string) int {
	if e.getenv == nil {
		e.getenv = func(string) string { return "" }
	}
	if e.now == nil {
		e.now = time.Now
	}
	g := &globals{}
	// Global flags may come before the command: imsictl --json status.
	fs := newFlagSet(e, "imsictl", func() { usage(e.stderr) })
	g.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(e.stdout)
			return exitOK
		}
		return exitUsage
	}
	args = fs.Args()
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(e.stderr, "imsictl: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return exitUsage
	}
	if c.name == "probe" && g.json {
		// probe keeps its own flags; the global --json still applies.
		args = append([]string{args[0], "--json"}, args[1:]...)
	}
	return c.run(ctx, e, g, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: imsictl [global flags] <command> [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		if !c.hidden {
			fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintln(w, "\nglobal flags (before or after the command):")
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	(&globals{}).register(fs)
	printFlags(w, fs, nil)
	fmt.Fprintln(w, "\nexit codes: 0 ok, 1 failed or refused, 2 usage, 3 daemon unreachable, 4 --wait gave up before an outcome")
	fmt.Fprintln(w, "Run 'imsictl help COMMAND' for a command's flags; docs/cli.md has examples.")
}

// newFlagSet makes a flag set that reports to stderr and prints u on -h.
func newFlagSet(e *env, name string, u func()) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = u
	return fs
}

// printFlags lists fs's flags, leaving out those in skip.
func printFlags(w io.Writer, fs *flag.FlagSet, skip map[string]bool) {
	fs.VisitAll(func(f *flag.Flag) {
		if skip[f.Name] {
			return
		}
		typ, use := flag.UnquoteUsage(f)
		head := "  --" + f.Name
		if typ != "" {
			head += " " + typ
		}
		fmt.Fprintf(w, "%-26s %s", head, use)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// parseCommand parses a command's flags (its own and the global ones),
// allowing flags after positional arguments: imsictl switch b --reason x.
// It returns the positional arguments, or an exit code when it is done.
func parseCommand(e *env, g *globals, name string, args []string, define func(fs *flag.FlagSet)) ([]string, int, bool) {
	c, _ := lookup(name)
	fs := newFlagSet(e, "imsictl "+name, nil)
	if define != nil {
		define(fs)
	}
	if e.defs != nil {
		e.defs(name, fs)
		return nil, exitOK, true
	}
	own := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { own[f.Name] = true })
	g.register(fs)
	globalNames := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		if !own[f.Name] {
			globalNames[f.Name] = true
		}
	})
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: imsictl %s %s\n\n%s\n", name, c.args, c.summary)
		if ex := examples[name]; len(ex) > 0 {
			fmt.Fprintln(w, "\nexamples:")
			for _, x := range ex {
				fmt.Fprintf(w, "  %s\n", x)
			}
		}
		if len(own) > 0 {
			fmt.Fprintln(w, "\nflags:")
			printFlags(w, fs, globalNames)
		}
		if c.daemon {
			fmt.Fprintln(w, "\nglobal flags: --socket PATH, --url URL, --token-file FILE, --ca-file FILE, --timeout D, --json, --no-color (imsictl help)")
		} else {
			fmt.Fprintln(w, "\nglobal flags: --json, --no-color (imsictl help)")
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, true
			}
			return nil, exitUsage, true
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, 0, false
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// usageError reports a bad command line and the command's usage line.
func usageError(e *env, name, format string, a ...any) int {
	c, _ := lookup(name)
	fmt.Fprintf(e.stderr, "imsictl %s: %s\nusage: imsictl %s %s\n", name, fmt.Sprintf(format, a...), name, c.args)
	return exitUsage
}

// writeJSON prints v indented: the --json output of every command.
func writeJSON(w io.Writer, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		// Our DTOs always marshal.
		panic(err)
	}
	w.Write(append(b, '\n'))
}

func runHelp(_ context.Context, e *env, g *globals, args []string) int {
	pos, code, done := parseCommand(e, g, "help", args, nil)
	if done {
		return code
	}
	switch len(pos) {
	case 0:
		if g.json {
			type entry struct {
				Name    string `json:"name"`
				Usage   string `json:"usage"`
				Summary string `json:"summary"`
			}
			out := struct {
				Commands []entry `json:"commands"`
			}{}
			for _, c := range commands {
				if !c.hidden {
					out.Commands = append(out.Commands, entry{c.name, strings.TrimSpace("imsictl " + c.name + " " + c.args), c.summary})
				}
			}
			writeJSON(e.stdout, out)
			return exitOK
		}
		usage(e.stdout)
		return exitOK
	case 1:
		c, ok := lookup(pos[0])
		if !ok {
			return usageError(e, "help", "unknown command %q", pos[0])
		}
		// The command prints its own usage on -h; send it to stdout.
		e2 := *e
		e2.stderr = e.stdout
		return c.run(context.Background(), &e2, &globals{}, []string{"-h"})
	default:
		return usageError(e, "help", "one command at a time")
	}
}

func runVersion(_ context.Context, e *env, g *globals, args []string) int {
	pos, code, done := parseCommand(e, g, "version", args, nil)
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(e, "version", "takes no arguments")
	}
	if g.json {
		writeJSON(e.stdout, struct {
			Version string `json:"version"`
		}{version})
		return exitOK
	}
	fmt.Fprintf(e.stdout, "imsictl %s\n", version)
	return exitOK
}

// runProbeCmd adapts the probe command, which parses its own flags.
func runProbeCmd(ctx context.Context, e *env, g *globals, args []string) int {
	return runProbe(ctx, e, g, args)
}
