package main

import (
	"context"
	"fmt"
)

// runAT sends one AT command through the running daemon, which serialises
// it with its own commands: the safe way to ask the modem something while
// imsid runs (probe refuses the daemon's port).
func runAT(ctx context.Context, e *env, g *globals, args []string) int {
	pos, code, done := parseCommand(e, g, "at", args, nil)
	if done {
		return code
	}
	if len(pos) != 1 || pos[0] == "" {
		return usageError(e, "at", "give one command, quoted: imsictl at 'AT+CSQ'")
	}
	cl, conn, code := dial(e, g, "at")
	if cl == nil {
		return code
	}
	defer cl.Close()
	rep, err := cl.AT(ctx, pos[0])
	if err != nil {
		return failure(e, g, conn, "at", err, nil)
	}
	if g.json {
		writeJSON(e.stdout, rep)
	} else {
		for _, l := range rep.Lines {
			fmt.Fprintln(e.stdout, safe(l))
		}
		if rep.OK {
			fmt.Fprintln(e.stdout, "OK")
		}
	}
	if !rep.OK {
		if rep.Error != nil {
			fmt.Fprintf(e.stderr, "imsictl at: %s\n", safe(*rep.Error))
		}
		return exitFail
	}
	return exitOK
}
