// Command faultmatrix runs every simulator fault against the daemon in
// process (several seeds each) and prints the recovery table that
// docs/reliability.md reports; it exits 1 if a run fails its bound or its
// checks (spurious switch, goroutine leak, panic, lost event).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/imsid/imsid/internal/soak"
	"github.com/imsid/imsid/simulator"
)

func main() {
	var o soak.MatrixOptions
	flag.StringVar(&o.Scenario, "scenario", "simulator/scenarios/store-day.yaml", "simulator scenario (the config suits store-day.yaml)")
	flag.Float64Var(&o.Speed, "speed", 10, "scenario seconds per real second")
	flag.DurationVar(&o.Window, "window", 3*time.Minute, "scenario time watched after each fault")
	flag.DurationVar(&o.Stable, "stable", time.Minute, "scenario time the daemon must stay healthy after its last failure")
	flag.DurationVar(&o.Cap, "cap", 2*time.Minute, "real time after a fault by which the daemon must be back")
	nseeds := flag.Int("seeds", 5, "seeds per fault kind (1..N)")
	kinds := flag.String("kinds", "", "comma-separated fault kinds (default: every kind the simulator knows)")
	verbose := flag.Bool("v", false, "print the daemon's and simulator's warnings")
	flag.Parse()
	for i := 1; i <= *nseeds; i++ {
		o.Seeds = append(o.Seeds, int64(i))
	}
	if *kinds != "" {
		for _, k := range strings.Split(*kinds, ",") {
			fk, err := simulator.ParseFaultKind(strings.TrimSpace(k))
			if err != nil {
				fmt.Fprintln(os.Stderr, "faultmatrix:", err)
				os.Exit(2)
			}
			o.Kinds = append(o.Kinds, fk)
		}
	}
	if *verbose {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	dir, err := os.MkdirTemp("", "imsid-faultmatrix-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultmatrix:", err)
		os.Exit(2)
	}
	o.StateDir = dir
	o.Progress = func(r soak.FaultResult) {
		verdict := "ok"
		if err := r.Err(soak.Bounds[r.Kind]); err != nil {
			verdict = "FAIL: " + err.Error()
		}
		fmt.Fprintf(os.Stderr, "  %-12s seed %d: after %s (next %s), hit %s later, status down after %s, recovered %t in %s (scenario %s), %d failed commands, %d unhealthy polls (%s), states %v, decisions %v: %s\n",
			r.Kind, r.Seed, r.After, r.Next, r.ToHit.Round(time.Millisecond), r.Reported.Round(time.Millisecond), r.Recovered, r.Recovery.Round(10*time.Millisecond),
			r.RecoveryScen.Round(100*time.Millisecond), r.CmdErrors, r.Unhealthy, r.FirstUnhealthy, r.States, r.Decisions, verdict)
	}
	nkinds := len(o.Kinds)
	if nkinds == 0 {
		nkinds = len(soak.FaultKinds())
	}
	fmt.Fprintf(os.Stderr, "faultmatrix: %d kinds × %d seeds at %.0fx, %s of scenario watched after each fault\n",
		nkinds, len(o.Seeds), o.Speed, o.Window)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	start := time.Now()
	rs, err := soak.RunMatrix(ctx, o)
	stop()
	os.RemoveAll(dir)
	soak.WriteMatrix(os.Stdout, rs)
	fmt.Printf("\n%d runs in %s (speed %.0fx, Go %s)\n", len(rs), time.Since(start).Round(time.Second), o.Speed, strings.TrimPrefix(runtime.Version(), "go"))
	code := 0
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultmatrix:", err)
		code = 1
	}
	if err := soak.CheckMatrix(rs); err != nil {
		fmt.Fprintln(os.Stderr, "faultmatrix: FAIL:\n"+err.Error())
		code = 1
	}
	os.Exit(code)
}
