package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imsid/imsid/internal/api/wire"
	"github.com/imsid/imsid/internal/apiclient"
)

// backlogQuiet is how long the stream must stay silent before `events`
// without --follow decides the daemon's replay buffer has been sent: SSE
// has no end-of-backlog marker, and the replay arrives in one burst.
const backlogQuiet = 400 * time.Millisecond

func runEvents(ctx context.Context, e *env, g *globals, args []string) int {
	var follow bool
	var last int
	var after uint64
	pos, code, done := parseCommand(e, g, "events", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&follow, "follow", false, "keep streaming new events until interrupted, reconnecting if the stream drops")
		fs.IntVar(&last, "last", 20, "without --follow: show at most the newest `N` events the daemon holds")
		fs.Uint64Var(&after, "after", 0, "with --follow: resume after event `ID` (replays what the daemon still holds)")
	})
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(e, "events", "takes no arguments")
	}
	if last < 1 {
		return usageError(e, "events", "--last must be at least 1")
	}
	if after > 0 && !follow {
		return usageError(e, "events", "--after goes with --follow")
	}
	cl, conn, code := dial(e, g, "events")
	if cl == nil {
		return code
	}
	defer cl.Close()
	print := func(ev wire.Event) {
		if g.json {
			b, _ := json.Marshal(ev)
			fmt.Fprintf(e.stdout, "%s\n", b)
			return
		}
		sanitize(&ev)
		fmt.Fprintln(e.stdout, eventLine(newPalette(e, g), ev))
	}
	if !follow {
		evs, err := backlog(ctx, cl, last)
		if err != nil {
			return failure(e, g, conn, "events", err, nil)
		}
		if len(evs) == 0 && !g.json {
			fmt.Fprintln(e.stderr, "no recent events (imsictl events --follow waits for new ones)")
		}
		for _, ev := range evs {
			print(ev)
		}
		return exitOK
	}
	err := cl.Follow(ctx, apiclient.FollowOptions{
		After:    after,
		FailFast: true,
		OnDrop: func(err error, from uint64, delay time.Duration) {
			why := "the daemon ended the stream"
			if err != nil && !errors.Is(err, io.EOF) {
				why = err.Error()
			}
			fmt.Fprintf(e.stderr, "imsictl events: %s; reconnecting in %s (after event %d)\n", safe(why), human(delay), from)
		},
		OnBadFrame: func(fe *apiclient.FrameError) {
			fmt.Fprintf(e.stderr, "imsictl events: skipped a bad event: %s\n", safe(fe.Error()))
		},
	}, func(ev wire.Event) error {
		if !expectedGap(ev) {
			print(ev)
		}
		return nil
	})
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return exitOK // interrupted: the normal way to stop following
	}
	return failure(e, g, conn, "events", err, nil)
}

// backlog reads the daemon's replay buffer: resuming from ID 1 asks for
// everything it holds. The gap notice that comes with it is expected.
func backlog(ctx context.Context, cl *apiclient.Client, last int) ([]wire.Event, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := cl.Events(ctx, 1)
	if err != nil {
		return nil, err
	}
	type item struct {
		ev  wire.Event
		err error
	}
	ch := make(chan item)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ev, err := s.Next()
			var fe *apiclient.FrameError
			if errors.As(err, &fe) {
				continue
			}
			select {
			case ch <- item{ev, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		cancel()
		s.Close()
		<-done
	}()
	var out []wire.Event
	quiet := time.NewTimer(backlogQuiet)
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return out, nil
		case <-quiet.C:
			return out, nil
		case it := <-ch:
			if it.err != nil {
				return out, nil // the daemon closed the stream: that is all
			}
			if expectedGap(it.ev) {
				continue
			}
			out = append(out, it.ev)
			if len(out) > last {
				out = out[1:]
			}
			quiet.Reset(backlogQuiet)
		}
	}
}

// expectedGap: resuming from ID 1 means "all you hold", so the daemon's
// notice that older events are gone says nothing new.
func expectedGap(ev wire.Event) bool {
	if ev.Type != wire.EventGap || ev.ID != 0 {
		return false
	}
	var gp wire.Gap
	return json.Unmarshal(ev.Data, &gp) == nil && gp.After == 1
}

// eventLine is one event for people: time, type, and what it says.
func eventLine(p palette, ev wire.Event) string {
	return fmt.Sprintf("%s  %-8s  %s", stamp(ev.Time), ev.Type, eventSummary(p, ev))
}

func eventSummary(p palette, ev wire.Event) string {
	raw := strings.TrimSpace(string(ev.Data))
	switch ev.Type {
	case wire.EventDecision:
		var d wire.Decision
		if json.Unmarshal(ev.Data, &d) == nil {
			return decisionSummary(d)
		}
	case wire.EventState:
		var sc wire.StateChange
		if json.Unmarshal(ev.Data, &sc) == nil {
			return join(" ", fmt.Sprintf("%s → %s", orDash(sc.From), orDash(sc.To)), paren(sc.Event))
		}
	case wire.EventLink:
		var l wire.Link
		if json.Unmarshal(ev.Data, &l) == nil {
			if l.Up {
				return join(" ", p.green("up"), str(l.IP))
			}
			s := p.red("down")
			if l.ProbeFailures > 0 {
				s += fmt.Sprintf(" (%d probe failures)", l.ProbeFailures)
			}
			return s
		}
	case wire.EventThreat:
		var t wire.Threat
		if json.Unmarshal(ev.Data, &t) == nil {
			var parts []string
			for _, sc := range t.Scores {
				parts = append(parts, fmt.Sprintf("%s %.1f", sc.Scope, sc.Score))
			}
			return join(" ", "level "+p.level(t.Level), paren(strings.Join(parts, ", ")))
		}
	case wire.EventPin:
		if raw == "null" {
			return "unpinned"
		}
		var pin wire.Pin
		if json.Unmarshal(ev.Data, &pin) == nil {
			if pin.Until != nil {
				return fmt.Sprintf("pinned %s until %s", pin.Profile, stamp(*pin.Until))
			}
			return "pinned " + pin.Profile + " until unpinned"
		}
	case wire.EventGap:
		var gp wire.Gap
		if json.Unmarshal(ev.Data, &gp) == nil {
			return p.yellow("missed events: " + gp.Message)
		}
	}
	return raw
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// decisionSummary is "#7 switch home → roam (manual): why".
func decisionSummary(d wire.Decision) string {
	s := fmt.Sprintf("#%d %s %s", d.Seq, d.Kind, change(d))
	if d.Trigger != nil {
		s += " (" + *d.Trigger + ")"
	}
	if w := reasonsText(d.Reasons); w != "" {
		s += ": " + w
	}
	return s
}

func change(d wire.Decision) string {
	from, to := str(d.From), str(d.To)
	switch {
	case from != "" && to != "" && from != to:
		return from + " → " + to
	case to != "":
		return to
	default:
		return orDash(from)
	}
}

func reasonsText(rs []wire.Reason) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, firstNonEmpty(r.Message, r.Code))
	}
	return strings.Join(parts, "; ")
}
