package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imsid/imsid/internal/api/wire"
	"github.com/imsid/imsid/internal/apiclient"
	"github.com/imsid/imsid/profiles/durparse"
)

func runSwitch(ctx context.Context, e *env, g *globals, args []string) int {
	var reason string
	var w waitFlags
	pos, code, done := parseCommand(e, g, "switch", args, func(fs *flag.FlagSet) {
		fs.StringVar(&reason, "reason", "", "why: `TEXT` for the decision log and upstream (up to 200 characters)")
		w.register(fs)
	})
	if done {
		return code
	}
	if len(pos) != 1 || pos[0] == "" {
		return usageError(e, "switch", "name one profile (imsictl profiles lists them)")
	}
	cl, conn, code := dial(e, g, "switch")
	if cl == nil {
		return code
	}
	defer cl.Close()
	ack, err := cl.Switch(ctx, pos[0], reason)
	if err != nil {
		return failure(e, g, conn, "switch", err, refusalHint)
	}
	if code := printAck(e, g, ack); code != exitOK || !w.wait {
		return code
	}
	return waitOutcome(ctx, e, g, cl, conn, ack, w.timeout)
}

func runPin(ctx context.Context, e *env, g *globals, args []string) int {
	var forStr string
	var w waitFlags
	pos, code, done := parseCommand(e, g, "pin", args, func(fs *flag.FlagSet) {
		fs.StringVar(&forStr, "for", "", "pin for `DURATION` (30m, 2h, 1d, 1d12h: the config's syntax); without it the pin lasts until 'imsictl unpin'")
		w.register(fs)
	})
	if done {
		return code
	}
	if len(pos) != 1 || pos[0] == "" {
		return usageError(e, "pin", "name one profile (imsictl profiles lists them)")
	}
	var d time.Duration
	if forStr != "" {
		var err error
		if d, err = durparse.Parse(forStr); err != nil {
			return usageError(e, "pin", "--for %q: %v", forStr, err)
		}
		if d <= 0 {
			return usageError(e, "pin", "--for %s would pin for no time; leave --for out to pin until 'imsictl unpin'", forStr)
		}
	}
	cl, conn, code := dial(e, g, "pin")
	if cl == nil {
		return code
	}
	defer cl.Close()
	ack, err := cl.Pin(ctx, pos[0], d)
	if err != nil {
		return failure(e, g, conn, "pin", err, refusalHint)
	}
	if code := printAck(e, g, ack); code != exitOK || !w.wait {
		return code
	}
	return waitOutcome(ctx, e, g, cl, conn, ack, w.timeout)
}

func runUnpin(ctx context.Context, e *env, g *globals, args []string) int {
	var w waitFlags
	pos, code, done := parseCommand(e, g, "unpin", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&w.wait, "wait", false, "follow the request until the pin is released, and exit 0 only then")
		fs.DurationVar(&w.timeout, "wait-timeout", time.Minute, "with --wait: give up after `D` (exit 4)")
	})
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(e, "unpin", "takes no arguments")
	}
	cl, conn, code := dial(e, g, "unpin")
	if cl == nil {
		return code
	}
	defer cl.Close()
	ack, err := cl.Unpin(ctx)
	if err != nil {
		return failure(e, g, conn, "unpin", err, refusalHint)
	}
	if code := printAck(e, g, ack); code != exitOK || !w.wait {
		return code
	}
	return waitUnpinned(ctx, e, g, cl, conn, ack, w.timeout)
}

// waitUnpinned follows an unpin to its outcome. Releasing a pin is never
// refused and records a decision only when the switcher is steady, so the
// daemon's status, not the decision log, says when it took effect.
func waitUnpinned(ctx context.Context, e *env, g *globals, cl *apiclient.Client, conn connection, ack wire.Ack, timeout time.Duration) int {
	if ack.Status == "done" {
		return exitOK
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := e.stdout
	if g.json {
		out = e.stderr // stdout holds the answer's JSON
	}
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		st, err := cl.Status(ctx)
		if err != nil && ctx.Err() == nil {
			return failure(e, g, conn, "unpin", err, nil)
		}
		if err == nil && st.Pin == nil {
			fmt.Fprintf(out, "done: the pin on %s is released; %s on %s\n", safe(str(ack.Profile)), safe(st.State), safe(str(st.ActiveProfile)))
			return exitOK
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(e.stderr, "imsictl unpin: the pin still holds after %s; imsictl status shows it\n", human(timeout))
			return exitWaitTimeout
		case <-t.C:
		}
	}
}

// runThreat is "threat ack": a tamper-class Critical (an unprovisioned
// ICCID, a changed IMEI) latches until a person says the change was
// intended. The reason is required and goes to the log and the fleet.
func runThreat(ctx context.Context, e *env, g *globals, args []string) int {
	var reason string
	pos, code, done := parseCommand(e, g, "threat", args, func(fs *flag.FlagSet) {
		fs.StringVar(&reason, "reason", "", "who checked the device and why the change is expected: `TEXT` (required, up to 200 characters)")
	})
	if done {
		return code
	}
	if len(pos) != 1 || pos[0] != "ack" {
		return usageError(e, "threat", "want: imsictl threat ack --reason TEXT")
	}
	if strings.TrimSpace(reason) == "" {
		return usageError(e, "threat", "--reason is required: say who checked the device and why the change is expected")
	}
	cl, conn, code := dial(e, g, "threat")
	if cl == nil {
		return code
	}
	defer cl.Close()
	ack, err := cl.AckThreat(ctx, reason)
	if err != nil {
		return failure(e, g, conn, "threat ack", err, refusalHint)
	}
	if g.json {
		writeJSON(e.stdout, ack)
		return exitOK
	}
	fmt.Fprintln(e.stdout, safe(ack.Message))
	return exitOK
}

// refusalHint says what the operator can do about a refusal.
func refusalHint(ae *apiclient.APIError) string {
	switch ae.Info.Code {
	case wire.CodePinned:
		return "a pin holds the current profile: 'imsictl unpin' first, or 'imsictl pin PROFILE' to move the pin"
	case wire.CodeSwitchCap:
		return "the switch cap stops flapping between carriers; 'imsictl status' shows the budget"
	case wire.CodeQuarantined:
		return "'imsictl profiles' shows why it is quarantined"
	case wire.CodeOverCap:
		return "the profile has used its data cap for this billing period"
	case wire.CodeSuspended:
		return "switching is suspended while jamming is suspected; 'imsictl status' shows the threat level"
	case wire.CodeAutonomous:
		return "with sim.method autonomous the SIM's applet picks the IMSI itself; imsid only observes"
	case wire.CodeBusy:
		return "another switch is in progress; 'imsictl events --follow' shows when it ends"
	}
	return ""
}

func printAck(e *env, g *globals, ack wire.Ack) int {
	if g.json {
		writeJSON(e.stdout, ack)
		return exitOK
	}
	sanitize(&ack)
	writeAck(e.stdout, ack, e.now())
	return exitOK
}

func writeAck(w io.Writer, ack wire.Ack, now time.Time) {
	prof := str(ack.Profile)
	var what string
	switch ack.Op {
	case "switch":
		what = "switch to " + prof
	case "pin":
		what = "pin on " + prof
		if ack.Until != nil {
			what += fmt.Sprintf(" until %s (%s)", clock(*ack.Until, now), relative(*ack.Until, now))
		} else {
			what += " until 'imsictl unpin'"
		}
	case "unpin":
		what = "unpin"
		if prof != "" {
			what = "unpin of " + prof
		}
	default:
		what = ack.Op
	}
	if ack.Status == "done" {
		fmt.Fprintf(w, "%s: done\n", what)
		if ack.Message != "" {
			fmt.Fprintf(w, "  %s\n", ack.Message)
		}
		return
	}
	// Not done yet: say so, and what it will mean.
	fmt.Fprintf(w, "%s: queued, not yet done\n", what)
	if ack.Message != "" {
		fmt.Fprintf(w, "  %s\n", ack.Message)
	}
	fmt.Fprintln(w, "  follow the outcome: add --wait, or imsictl decisions --since 10m")
}
