package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/imsid/imsid/internal/api/wire"
)

func runStatus(ctx context.Context, e *env, g *globals, args []string) int {
	var watch bool
	var every time.Duration
	pos, code, done := parseCommand(e, g, "status", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&watch, "watch", false, "show the status again every --every until interrupted (Ctrl-C); with --json one document per line")
		fs.DurationVar(&every, "every", 2*time.Second, "with --watch: refresh every `D`")
	})
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(e, "status", "takes no arguments")
	}
	if every <= 0 {
		return usageError(e, "status", "--every must be positive")
	}
	cl, conn, code := dial(e, g, "status")
	if cl == nil {
		return code
	}
	defer cl.Close()
	if !watch {
		st, err := cl.Status(ctx)
		if err != nil {
			return failure(e, g, conn, "status", err, nil)
		}
		showStatus(e, g, st, false)
		return exitOK
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		st, err := cl.Status(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return exitOK // interrupted
			}
			// The daemon restarting is worth watching, not a reason to stop.
			fmt.Fprintf(e.stderr, "imsictl status: %v (retrying every %s)\n", err, human(every))
		} else {
			showStatus(e, g, st, true)
		}
		select {
		case <-ctx.Done():
			return exitOK
		case <-t.C:
		}
	}
}

// showStatus prints one status: JSON (one line per document when
// watching), or the summary, clearing a terminal's screen between rounds.
func showStatus(e *env, g *globals, st wire.Status, watching bool) {
	if g.json {
		if watching {
			b, _ := json.Marshal(st)
			e.stdout.Write(append(b, '\n'))
		} else {
			writeJSON(e.stdout, st)
		}
		return
	}
	now := st.At
	if now.IsZero() {
		now = e.now()
	}
	sanitize(&st)
	if watching {
		if e.tty {
			fmt.Fprint(e.stdout, "\x1b[H\x1b[2J")
		} else {
			fmt.Fprintf(e.stdout, "--- %s\n", stamp(now))
		}
	}
	printStatus(e.stdout, newPalette(e, g), st, now)
}

// printStatus is the at-a-glance summary. Relative times use the daemon's
// clock (st.At): a laptop's skew must not make a cap look expired.
func printStatus(w io.Writer, p palette, st wire.Status, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }

	state := st.State
	switch {
	case !st.Ready:
		state = p.yellow(orDash(state) + ", not ready")
	case state == "connected":
		state = p.green(state)
	default:
		state = p.yellow(state)
	}
	if st.Suspended {
		state += ", " + p.yellow("automatic switching suspended (jamming suspected)")
	}
	line("state", state)

	prof := p.bold(orDash(str(st.ActiveProfile)))
	var extra []string
	if st.Pin != nil {
		if st.Pin.Until != nil {
			extra = append(extra, fmt.Sprintf("pinned until %s, %s", clock(*st.Pin.Until, now), relative(*st.Pin.Until, now)))
		} else {
			extra = append(extra, "pinned until unpinned")
		}
		if st.ActiveProfile == nil || st.Pin.Profile != *st.ActiveProfile {
			extra[len(extra)-1] = "pin: " + st.Pin.Profile + ", " + extra[len(extra)-1]
		}
	}
	if st.PreviousProfile != nil {
		extra = append(extra, "previous "+*st.PreviousProfile)
	}
	if len(extra) > 0 {
		prof += " (" + strings.Join(extra, "; ") + ")"
	}
	line("profile", prof)

	r := st.Registration
	carrier := str(r.Operator)
	if r.PLMN != nil {
		if carrier == "" {
			carrier = *r.PLMN
		} else {
			carrier += " (" + *r.PLMN + ")"
		}
	}
	status := str(r.Status)
	if status == "denied" || status == "not_registered" || status == "searching" {
		status = p.red(status)
	}
	line("network", orDash(join(", ", carrier, str(r.Tech), status)))

	s := st.Signal
	sig := ""
	if s.Bars != nil {
		sig = fmt.Sprintf("%s %d/5", bars(*s.Bars), *s.Bars)
		switch {
		case *s.Bars <= 1:
			sig = p.red(sig)
		case *s.Bars == 2:
			sig = p.yellow(sig)
		default:
			sig = p.green(sig)
		}
	}
	line("signal", orDash(join("  ", sig, labelled("RSRP", num(s.RSRP, "dBm")), labelled("SINR", num(s.SINR, "dB")),
		labelled("RSRQ", num(s.RSRQ, "dB")), labelled("RSSI", num(s.RSSI, "dBm")))))

	l := st.Link
	link := p.red("down")
	if l.Up {
		link = p.green("up")
	}
	link = join(", ", link, str(l.IP))
	if pr := l.LastProbe; pr != nil {
		res := "ok"
		if !pr.OK {
			res = p.red("failed")
			if pr.Error != nil {
				res += " (" + *pr.Error + ")"
			}
		}
		if pr.LatencyMS != nil {
			res += fmt.Sprintf(" %.0f ms", *pr.LatencyMS)
		}
		link += fmt.Sprintf("; last probe %s, %s", res, ago(pr.At, now))
	}
	if l.ProbeFailures > 0 {
		link += fmt.Sprintf("; %d probe failures in a row", l.ProbeFailures)
	}
	line("link", link)
	if dl := dataLink(l, now); dl != "" {
		line("data", dl)
	}
	if l.Waiting != nil {
		line("waiting", p.yellow(*l.Waiting))
	}
	for _, u := range st.Usage {
		if u.UsedBytes == 0 && u.CapBytes == nil {
			continue // nothing used, nothing to run out of
		}
		use := fmt.Sprintf("%s %s this period", u.Profile, dataCell(wire.Cap{UsedBytes: u.UsedBytes, CapBytes: u.CapBytes}))
		if u.Spend != "" {
			use += ", " + u.Spend
		}
		if u.CapRunsOutAt != nil {
			use += fmt.Sprintf("; the cap runs out %s (%s)", clock(*u.CapRunsOutAt, now), relative(*u.CapRunsOutAt, now))
		}
		line("usage", use)
	}

	threat := p.level(st.Threat.Level)
	var top []string
	for _, sc := range st.Threat.Scores {
		if sc.Level != "" && sc.Level != "none" {
			top = append(top, fmt.Sprintf("%s %s %.1f", sc.Scope, sc.Level, sc.Score))
		}
	}
	if len(top) > 0 {
		threat += " (" + strings.Join(top, ", ") + ")"
	}
	line("threat", threat)
	if t := st.Threat.Top; t != nil {
		line("finding", t.Sentence)
	}
	for _, q := range st.Quarantines {
		if q.Until.After(now) {
			line("quarantine", quarantineText(q, now))
		}
	}
	if rc := st.Recovery; rc.Step != "" {
		line("recovery", p.yellow("in progress: "+rc.Step)+fmt.Sprintf(" (rungs taken: %s)", rungs(rc)))
	} else if rc.Runs > 0 {
		line("recovery", fmt.Sprintf("%d runs, %d recovered (rungs taken: %s)", rc.Runs, rc.Recovered, rungs(rc)))
	}

	b := st.SwitchBudget
	budget := fmt.Sprintf("%d of %d used in %s", b.Used, b.Max, shortWindow(b.Window))
	if b.RetryAt != nil {
		budget += fmt.Sprintf("; next allowed %s (%s)", clock(*b.RetryAt, now), relative(*b.RetryAt, now))
	}
	line("switches", budget)

	if ls := st.LastSwitch; ls != nil {
		why := make([]string, 0, len(ls.Reasons))
		for _, r := range ls.Reasons {
			why = append(why, orDash(firstNonEmpty(r.Message, r.Code)))
		}
		v := fmt.Sprintf("%s → %s %s (%s, %s trigger)", orDash(ls.From), orDash(ls.To), ago(ls.At, now), clock(ls.At, now), orDash(ls.Trigger))
		if len(why) > 0 {
			v += ": " + strings.Join(why, "; ")
		}
		line("last switch", v)
	} else {
		line("last switch", "none yet")
	}
	if m := st.Modem; m.LastError != nil {
		v := p.red("not available") + " " + orDash(str(m.Device)) + ": " + *m.LastError
		if m.LastErrorAt != nil {
			v += "; last try " + ago(*m.LastErrorAt, now)
		}
		if m.NextRetry != nil {
			v += ", next " + relative(*m.NextRetry, now)
		}
		line("modem", v)
	} else if !m.Responding {
		line("modem", p.red("not responding")+" "+str(m.Device))
	}
	if dr := st.Dropped; dr.Decisions > 0 || dr.UpstreamEvents > 0 {
		line("not written", p.red(fmt.Sprintf("%d decisions, %d upstream events", dr.Decisions, dr.UpstreamEvents))+
			" (the state file could not be written: is the disk full?)")
	}
	tw.Flush()
}

func labelled(label, v string) string {
	if v == "" {
		return ""
	}
	return label + " " + v
}

// shortWindow turns "1h0m0s" into "1h".
func shortWindow(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return orDash(s)
	}
	return human(d)
}

// dataLink is the data link's owner, interface and the last hook or
// bring-up, when the daemon reports them (link section of the config).
func dataLink(l wire.Link, now time.Time) string {
	if l.Owner == "" {
		return ""
	}
	out := "owned by " + l.Owner
	if l.Interface != nil {
		out += " on " + *l.Interface
		if len(l.Addresses) > 0 {
			out += " " + strings.Join(l.Addresses, " ")
		}
		if l.ProbesBound {
			out += ", probes bound"
		}
	}
	if b := l.LastBringUp; b != nil {
		res := "ok"
		if !b.OK {
			res = "failed"
			if b.Detail != "" {
				res += " (" + b.Detail + ")"
			}
		}
		out += fmt.Sprintf("; brought up after %s: %s, %s", b.Trigger, res, ago(b.At, now))
	}
	if h := l.LastHook; h != nil {
		out += fmt.Sprintf("; last hook %s %s: %s, %s", h.Hook, h.Event, h.Result, ago(h.At, now))
	}
	return out
}
