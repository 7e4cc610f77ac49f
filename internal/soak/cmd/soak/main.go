// Command soak is `make soak`: a simulated day (or more) of the daemon in
// process against the simulator with random faults and events, failing if
// heap, RSS or goroutines grow over the second half.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/imsid/imsid/internal/soak"
)

func main() {
	var o soak.Options
	flag.StringVar(&o.Scenario, "scenario", "simulator/scenarios/store-day.yaml", "simulator scenario (its networks get the random events)")
	flag.DurationVar(&o.Wall, "time", 5*time.Minute, "real time to run (SOAK_TIME in make soak)")
	flag.Float64Var(&o.Speed, "speed", 0, "scenario seconds per real second (0: one scenario day over -time)")
	flag.IntVar(&o.Samples, "samples", 60, "samples over the run")
	flag.DurationVar(&o.FaultEvery, "fault-every", 15*time.Minute, "mean scenario time between random faults")
	flag.DurationVar(&o.EventEvery, "event-every", 40*time.Minute, "mean scenario time between random events")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (printed, to rerun a failure)")
	verbose := flag.Bool("v", false, "print the daemon's warnings and errors")
	flag.Parse()
	o.Seed = *seed
	if o.Speed == 0 {
		o.Speed = (24 * time.Hour).Seconds() / o.Wall.Seconds()
	}
	if *verbose {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	dir, err := os.MkdirTemp("", "imsid-soak-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	defer os.RemoveAll(dir)
	o.StateDir = dir
	o.Progress = func(s soak.Sample) {
		fmt.Printf("  %6s  scenario %8s  heap %5s MiB  RSS %5s MiB  goroutines %3d  faults %3d  events %3d\n",
			s.Wall.Round(time.Second), s.Scenario.Round(time.Minute), soak.MiB(s.HeapInuse), soak.MiB(s.RSS), s.Goroutines, s.Faults, s.Events)
	}
	fmt.Printf("soak: %s of real time at %.0fx (%s of scenario), seed %d\n", o.Wall, o.Speed,
		time.Duration(o.Wall.Seconds()*o.Speed)*time.Second, o.Seed)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	rep, err := soak.Run(ctx, o)
	stop()
	fmt.Println()
	rep.WriteTable(os.Stdout, 12)
	code := 0
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		code = 1
	}
	if len(rep.Samples) >= 4 {
		if err := rep.Check(soak.DefaultTolerance); err != nil {
			fmt.Fprintln(os.Stderr, "soak: FAIL:", err)
			code = 1
		} else {
			fmt.Println("soak: ok: heap, RSS and goroutines flat within tolerance (heap 2 MiB or 10 %, RSS 4 MiB or 10 %, 3 goroutines over the second half)")
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}
