package main

import (
	"context"
	"fmt"
	"io"
	"sort"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the modem could not be reached or the command failed
	exitUsage = 2 // bad command line
)

// command is one subcommand; later ones (status, switch, ...) plug in here.
type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) int
}

var commands = map[string]command{
	"probe":   {"identify the modem and show what it sees", runProbe},
	"version": {"print the version", runVersion},
}

// env is what a subcommand may touch: its output streams and the ways it
// reaches hardware, injectable for tests.
type env struct {
	stdout, stderr io.Writer
	open           portOpener
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runEnv(ctx, &env{stdout: stdout, stderr: stderr, open: openSerial}, args)
}

func runEnv(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "imsictl: unknown command %q\n", args[0])
		usage(e.stderr)
		return exitUsage
	}
	return c.run(ctx, e, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: imsictl <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'imsictl <command> -h' for a command's flags.")
}

func runVersion(_ context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintln(e.stderr, "imsictl version: takes no arguments")
		return exitUsage
	}
	fmt.Fprintf(e.stdout, "imsictl %s\n", version)
	return exitOK
}
