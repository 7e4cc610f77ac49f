package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imsid/imsid/internal/api/wire"
)

func runThreats(ctx context.Context, e *env, g *globals, args []string) int {
	pos, code, done := parseCommand(e, g, "threats", args, nil)
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(e, "threats", "takes no arguments")
	}
	cl, conn, code := dial(e, g, "threats")
	if cl == nil {
		return code
	}
	defer cl.Close()
	l, err := cl.Threats(ctx)
	if err != nil {
		return failure(e, g, conn, "threats", err, nil)
	}
	if g.json {
		writeJSON(e.stdout, l)
		return exitOK
	}
	now := l.At
	if now.IsZero() {
		now = e.now()
	}
	sanitize(&l)
	printThreats(e.stdout, newPalette(e, g), l, now)
	return exitOK
}

// printThreats lists each finding as a heading line (severity, rule,
// scope, when) with its sentence and response beneath, then the
// quarantines in force.
func printThreats(w io.Writer, p palette, l wire.ThreatList, now time.Time) {
	fmt.Fprintf(w, "threat level %s\n", p.level(l.Level))
	if len(l.Findings) == 0 {
		fmt.Fprintln(w, "\nno findings")
	}
	for _, f := range l.Findings {
		state := "recent"
		if f.Active {
			state = "active"
		}
		if f.Latched {
			state += ", latched until acknowledged (imsictl threat ack)"
		}
		seen := fmt.Sprintf("last seen %s (%s)", clock(f.LastSeen, now), ago(f.LastSeen, now))
		if f.Count > 1 {
			seen = fmt.Sprintf("seen %d times, first %s, last %s (%s)", f.Count, clock(f.FirstSeen, now), clock(f.LastSeen, now), ago(f.LastSeen, now))
		}
		fmt.Fprintf(w, "\n%s %s on %s: %s; %s\n", p.level(f.Severity), f.Rule, f.Scope, state, seen)
		fmt.Fprintf(w, "  %s\n", f.Sentence)
		if len(f.Response) > 0 {
			fmt.Fprintf(w, "  response: %s\n", strings.Join(f.Response, ", "))
		}
		if f.DecisionSeq != nil {
			fmt.Fprintf(w, "  decision: #%d (imsictl decisions)\n", *f.DecisionSeq)
		}
	}
	if len(l.Quarantines) == 0 {
		fmt.Fprintln(w, "\nno quarantines")
		return
	}
	fmt.Fprintln(w, "\nquarantines:")
	for _, q := range l.Quarantines {
		fmt.Fprintf(w, "  %s\n", quarantineText(q, now))
	}
}

// quarantineText is one quarantine: what, until when, why.
func quarantineText(q wire.QuarantineEntry, now time.Time) string {
	s := fmt.Sprintf("%s %s until %s (%s)", q.Kind, q.Key, clock(q.Until, now), relative(q.Until, now))
	if why := firstNonEmpty(q.Reason.Message, q.Reason.Code); why != "" {
		s += ": " + why
	}
	if q.Count > 1 {
		s += fmt.Sprintf(" (%d in a row)", q.Count)
	}
	return s
}

// rungs lists the recovery rungs taken, e.g. "requery 2, cfun 1".
func rungs(r wire.Recovery) string {
	var parts []string
	for _, x := range []struct {
		n string
		v int
	}{{"requery", r.Requery}, {"resync", r.Resync}, {"cfun", r.CFUN}, {"reset", r.Reset}, {"reopen", r.Reopen}} {
		if x.v > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", x.n, x.v))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
