package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/imsid/imsid/internal/api/wire"
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
	pl, err := cl.ProfileList(ctx)
	if err != nil {
		return failure(e, g, conn, "profiles", err, nil)
	}
	if g.json {
		writeJSON(e.stdout, pl)
		return exitOK
	}
	ps := pl.Profiles
	sanitize(ps)
	// Relative times count on the daemon's clock, as in status (an older
	// daemon does not say its time: this machine's then).
	now := pl.At
	if now.IsZero() {
		now = e.now()
	}
	printProfiles(e.stdout, newPalette(e, g), ps, now)
	return exitOK
}

// printProfiles is one table: score, raw signal, tariff, data used of the
// cap, spend this period, state (eligible, quarantined until) and, for a
// profile not in use, the one reason that matters most.
func printProfiles(w io.Writer, p palette, ps []wire.ProfileView, now time.Time) {
	if len(ps) == 0 {
		fmt.Fprintln(w, "no profiles configured")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  PROFILE\tSCORE\tSIGNAL\tTARIFF\tDATA\tSPEND\tSTATE\tWHY NOT")
	for _, v := range ps {
		mark := " "
		if v.Active {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s %s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, v.Name, v.Score.Total, signalCell(v.Signal),
			orDash(tariffCell(v.Tariff)), dataCell(v.Cap), orDash(v.Spend), profileState(p, v, now), orDash(whyNot(v)))
	}
	tw.Flush()
	var notes []string
	for _, v := range ps {
		if f := v.Forecast; f != nil && f.CapRunsOutAt != nil {
			notes = append(notes, fmt.Sprintf("%s: at this period's rate (%s/day) the cap runs out %s (%s)", v.Name,
				bytesHuman(clampU(f.BytesPerDay)), clock(*f.CapRunsOutAt, now), relative(*f.CapRunsOutAt, now)))
		}
		if v.Cap.ResetsAt != nil && v.Active {
			notes = append(notes, fmt.Sprintf("%s: billing period resets %s (%s)", v.Name, clock(*v.Cap.ResetsAt, now), relative(*v.Cap.ResetsAt, now)))
		}
	}
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
}

func clampU(u uint64) int64 {
	if u > 1<<62 {
		return 1 << 62
	}
	return int64(u)
}

// signalCell is the raw signal: RSRP where measured, else RSSI.
func signalCell(s wire.ProfileSignal) string {
	switch {
	case s.RSRP != nil:
		return fmt.Sprintf("%.0f dBm", *s.RSRP)
	case s.RSSI != nil:
		return fmt.Sprintf("RSSI %.0f dBm", *s.RSSI)
	}
	return "-"
}

func tariffCell(t wire.Tariff) string {
	var parts []string
	if t.PerMonth != "" {
		parts = append(parts, t.PerMonth+"/mo")
	}
	if t.PerMB != "" {
		parts = append(parts, t.PerMB+"/MB")
	}
	return strings.Join(parts, " + ")
}

func dataCell(c wire.Cap) string {
	if c.CapBytes == nil {
		return bytesHuman(c.UsedBytes)
	}
	return bytesHuman(c.UsedBytes) + " / " + bytesHuman(*c.CapBytes)
}

// barringCodes are the reasons that make a profile ineligible (the
// switcher's hard rules, docs/switcher.md); the others only weigh on the
// score.
var barringCodes = map[string]bool{"quarantined": true, "plmn_quarantined": true, "over_cap": true, "not_in_scan": true}

// whyNot is the first reason of a profile not in use: why it is not
// eligible, or what keeps it below the active one.
func whyNot(v wire.ProfileView) string {
	if v.Active {
		return ""
	}
	if q := v.Quarantine; q != nil {
		return firstNonEmpty(q.Reason.Message, q.Reason.Code)
	}
	if !v.Eligible {
		// The hard rule that keeps it out of selection, wherever the
		// switcher listed it among the informational reasons.
		for _, r := range v.Reasons {
			if barringCodes[r.Code] {
				return firstNonEmpty(r.Message, r.Code)
			}
		}
	}
	for _, r := range v.Reasons {
		return firstNonEmpty(r.Message, r.Code)
	}
	return ""
}

func profileState(p palette, v wire.ProfileView, now time.Time) string {
	var parts []string
	if v.Active {
		parts = append(parts, p.green("active"))
	}
	if v.Pinned {
		parts = append(parts, "pinned")
	}
	if q := v.Quarantine; q != nil && q.Until.After(now) {
		parts = append(parts, p.red(fmt.Sprintf("quarantined until %s (%s)", clock(q.Until, now), relative(q.Until, now))))
	}
	if v.Cap.Reached {
		parts = append(parts, p.red("data cap reached"))
	}
	switch {
	case v.Eligible:
		parts = append(parts, "eligible")
	case v.Quarantine == nil && !v.Cap.Reached:
		parts = append(parts, p.yellow("not eligible"))
	}
	return strings.Join(parts, ", ")
}
