package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/imsid/imsid/internal/api/wire"
	"github.com/imsid/imsid/internal/apiclient"
)

// exitWaitTimeout: --wait gave up before the daemon decided.
const exitWaitTimeout = 4

// waitFlags are switch's and pin's --wait.
type waitFlags struct {
	wait    bool
	timeout time.Duration
}

func (w *waitFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&w.wait, "wait", false, "follow the request to its outcome (verified, rolled back, refused) and exit 0 only if it took effect")
	fs.DurationVar(&w.timeout, "wait-timeout", 5*time.Minute, "with --wait: give up after `D` (exit 4)")
}

// pollEvery is how often --wait reads the decision log.
const pollEvery = 500 * time.Millisecond

// waitOutcome follows a queued request through the decision log: the
// first manual decision after ack.AfterSeq is its answer (a stay: refused;
// a hold: the pin holds; a switch: then verified, rollback or fail).
func waitOutcome(ctx context.Context, e *env, g *globals, cl *apiclient.Client, conn connection, ack wire.Ack, timeout time.Duration) int {
	if ack.Status == "done" {
		return exitOK
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cursor := strconv.FormatUint(ack.AfterSeq, 10)
	var switchSeq uint64 // the switch the request began, once seen
	out := e.stdout
	if g.json {
		out = e.stderr // stdout holds the answer's JSON
	}
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		page, err := cl.Decisions(ctx, apiclient.DecisionQuery{Cursor: cursor, Limit: wire.MaxDecisionLimit})
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return failure(e, g, conn, ack.Op, err, nil)
		}
		for _, d := range page.Decisions {
			if code, done := judge(out, d, &switchSeq); done {
				return code
			}
		}
		if page.NextCursor != "" {
			cursor = page.NextCursor
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(e.stderr, "imsictl %s: no outcome within %s; the request may still be decided: imsictl decisions --since 10m\n", ack.Op, human(timeout))
			return exitWaitTimeout
		case <-t.C:
		}
	}
}

// judge reads one decision for the request's outcome.
func judge(w io.Writer, d wire.Decision, switchSeq *uint64) (int, bool) {
	why := safe(reasonsText(d.Reasons))
	if *switchSeq == 0 {
		if str(d.Trigger) != "manual" {
			return 0, false
		}
		switch d.Kind {
		case "stay":
			fmt.Fprintf(w, "refused at decision #%d: %s\n", d.Seq, why)
			return exitFail, true
		case "hold":
			fmt.Fprintf(w, "done at decision #%d: %s\n", d.Seq, why)
			return exitOK, true
		case "switch":
			*switchSeq = d.Seq
			fmt.Fprintf(w, "switching at decision #%d: %s\n", d.Seq, why)
		}
		return 0, false
	}
	switch d.Kind {
	case "verified":
		fmt.Fprintf(w, "verified at decision #%d: %s\n", d.Seq, why)
		return exitOK, true
	case "rollback":
		fmt.Fprintf(w, "rolled back at decision #%d: %s\n", d.Seq, why)
		return exitFail, true
	case "fail":
		fmt.Fprintf(w, "failed at decision #%d: %s\n", d.Seq, why)
		return exitFail, true
	}
	return 0, false
}
