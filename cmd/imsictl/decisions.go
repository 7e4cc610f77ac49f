package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/imsid/imsid/internal/api/wire"
	"github.com/imsid/imsid/internal/apiclient"
)

// maxPages bounds how far `decisions` pages through the log.
const maxPages = 200

func runDecisions(ctx context.Context, e *env, g *globals, args []string) int {
	var since string
	var limit int
	pos, code, done := parseCommand(e, g, "decisions", args, func(fs *flag.FlagSet) {
		fs.StringVar(&since, "since", "24h", "only decisions from `DURATION` ago (2h) or TIME (2026-01-02T15:04:05Z); all: the whole log")
		fs.IntVar(&limit, "limit", 20, "show the newest `N` of them")
	})
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(e, "decisions", "takes no arguments")
	}
	if limit < 1 {
		return usageError(e, "decisions", "--limit must be at least 1")
	}
	switch since {
	case "all":
		since = ""
	default:
		if _, err := time.Parse(time.RFC3339, since); err != nil {
			if d, err := time.ParseDuration(since); err != nil || d <= 0 {
				return usageError(e, "decisions", "--since %q: want a duration such as 2h or an RFC 3339 time such as 2026-01-02T15:04:05Z", since)
			}
		}
	}
	cl, conn, code := dial(e, g, "decisions")
	if cl == nil {
		return code
	}
	defer cl.Close()
	page, err := newestDecisions(ctx, cl, since, limit)
	if err != nil {
		return failure(e, g, conn, "decisions", err, nil)
	}
	if g.json {
		writeJSON(e.stdout, page)
		return exitOK
	}
	if len(page.Decisions) == 0 {
		fmt.Fprintln(e.stderr, "no decisions in that period (widen it: --since 168h, or --since all)")
		return exitOK
	}
	sanitize(&page)
	printDecisions(e.stdout, page.Decisions)
	return exitOK
}

// newestDecisions pages through the log (oldest first) from since and keeps
// the newest limit entries.
func newestDecisions(ctx context.Context, cl *apiclient.Client, since string, limit int) (wire.DecisionPage, error) {
	q := apiclient.DecisionQuery{Since: since, Limit: wire.MaxDecisionLimit}
	var keep []wire.Decision
	out := wire.DecisionPage{Decisions: []wire.Decision{}}
	for range maxPages {
		p, err := cl.Decisions(ctx, q)
		if err != nil {
			return out, err
		}
		keep = append(keep, p.Decisions...)
		if len(keep) > limit {
			keep = keep[len(keep)-limit:]
		}
		out.NextCursor = p.NextCursor
		if !p.More || p.NextCursor == "" || p.NextCursor == q.Cursor {
			break
		}
		q.Cursor = p.NextCursor
	}
	if keep != nil {
		out.Decisions = keep
	}
	return out, nil
}

func printDecisions(w io.Writer, ds []wire.Decision) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tKIND\tPROFILE\tTRIGGER\tWHY")
	for _, d := range ds {
		why := orDash(reasonsText(d.Reasons))
		if d.Finding != nil {
			// The finding the threat decision acted on: what was seen, where.
			why += " — " + d.Finding.Sentence
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", d.Seq, stamp(d.Time), d.Kind, change(d), orDash(str(d.Trigger)), why)
	}
	tw.Flush()
}
