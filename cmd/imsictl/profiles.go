package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imsid/imsid/internal/api"
)

func runProfiles(ctx context.Context, e *env, g *globals, args []string) int {
	pos, code, done := parseCommand(e, g, "profiles", args, nil)
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(e, "profiles", "takes no arguments")
	}
	cl, conn, code := dial(e, g, "profiles")
	if cl == nil {
		return code
	}
	defer cl.Close()
	ps, err := cl.Profiles(ctx)
	if err != nil {
		return failure(e, g, conn, "profiles", err, nil)
	}
	if g.json {
		writeJSON(e.stdout, api.ProfileList{Profiles: ps})
		return exitOK
	}
	sanitize(ps)
	printProfiles(e.stdout, newPalette(e, g), ps, e.now())
	return exitOK
}

// printProfiles is a table of scores with each profile's reasons beneath
// it, so the "why" sits next to the number it explains.
func printProfiles(w io.Writer, p palette, ps []api.ProfileView, now time.Time) {
	if len(ps) == 0 {
		fmt.Fprintln(w, "no profiles configured")
		return
	}
	nameW := len("PROFILE")
	for _, v := range ps {
		nameW = max(nameW, len(v.Name))
	}
	fmt.Fprintf(w, "  %-*s  %5s  %6s  %4s  %6s  %6s\n", nameW, "PROFILE", "SCORE", "SIGNAL", "COST", "THREAT", "HEALTH")
	for _, v := range ps {
		mark := " "
		if v.Active {
			mark = "*"
		}
		s := v.Score
		fmt.Fprintf(w, "%s %-*s  %5.1f  %6.0f  %4.0f  %6.0f  %6.0f\n", mark, nameW, v.Name, s.Total, s.Signal, s.Cost, s.Threat, s.Health)
	}
	// The free-text detail would break the table's columns, so it follows
	// the table, one block per profile.
	for _, v := range ps {
		fmt.Fprintf(w, "\n%s: %s\n", p.bold(v.Name), profileState(p, v, now))
		fmt.Fprintf(w, "  data: %s\n", capText(v.Cap, now))
		for _, r := range v.Reasons {
			fmt.Fprintf(w, "  - %s\n", join(": ", r.Code, r.Message))
		}
	}
}

func profileState(p palette, v api.ProfileView, now time.Time) string {
	var parts []string
	if v.Active {
		parts = append(parts, p.green("active"))
	}
	if v.Pinned {
		parts = append(parts, "pinned")
	}
	if q := v.Quarantine; q != nil && q.Until.After(now) {
		s := fmt.Sprintf("quarantined until %s (%s)", clock(q.Until, now), relative(q.Until, now))
		if q.Reason.Message != "" || q.Reason.Code != "" {
			s += ": " + firstNonEmpty(q.Reason.Message, q.Reason.Code)
		}
		parts = append(parts, p.red(s))
	}
	if v.Cap.Reached {
		parts = append(parts, p.red("data cap reached"))
	}
	switch {
	case v.Eligible:
		parts = append(parts, "eligible")
	default:
		parts = append(parts, p.yellow("not eligible"))
	}
	return strings.Join(parts, ", ")
}

func capText(c api.Cap, now time.Time) string {
	s := bytesHuman(c.UsedBytes) + " used"
	if c.CapBytes != nil {
		s = fmt.Sprintf("%s of %s", bytesHuman(c.UsedBytes), bytesHuman(*c.CapBytes))
	} else {
		s += ", no cap"
	}
	if c.ResetsAt != nil {
		s += fmt.Sprintf("; period resets %s (%s)", clock(*c.ResetsAt, now), relative(*c.ResetsAt, now))
	}
	return s
}
