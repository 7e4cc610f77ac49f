// Command demo runs the store-day demonstration (`make demo`): imsid on
// the built-in simulator in accelerated time, driven and watched only
// through its API and imsictl. It prints live progress, a summary, and
// writes the day's timeline as SVG.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/imsid/imsid/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		bin      = fs.String("bin", "bin", "directory holding the imsid and imsictl binaries (make build)")
		scenario = fs.String("scenario", "simulator/scenarios/store-day.yaml", "the scenario to run")
		svg      = fs.String("svg", "dist/demo-timeline.svg", "where to write the timeline picture (empty: none)")
		fast     = fs.Bool("fast", false, fmt.Sprintf("CI mode: speed %d, no banner", demo.FastSpeed))
		speed    = fs.Float64("speed", 0, fmt.Sprintf("scenario seconds per wall second (default %d, --fast %d)", demo.DefaultSpeed, demo.FastSpeed))
		asJSON   = fs.Bool("json", false, "print the summary as JSON on stdout (progress goes to stderr)")
		record   = fs.String("record", "", "also write the recorded timeline as JSON to this file")
		quiet    = fs.Bool("quiet", false, "no progress lines")
		replay   = fs.String("replay", "", "no daemon: report on a timeline recorded with --record")
		workdir  = fs.String("workdir", "", "keep the daemon's state, socket and log (imsid.log) in this directory")
	)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: demo [--fast] [--json] [--svg FILE] [--bin DIR] [--scenario FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "demo: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	o := demo.Options{
		Imsid:    filepath.Join(*bin, "imsid"),
		Imsictl:  filepath.Join(*bin, "imsictl"),
		Scenario: *scenario,
		Speed:    *speed,
		WorkDir:  *workdir,
	}
	if o.Speed == 0 {
		o.Speed = demo.DefaultSpeed
		if *fast {
			o.Speed = demo.FastSpeed
		}
	}
	if *replay != "" {
		var res demo.Result
		data, err := os.ReadFile(*replay)
		if err == nil {
			err = json.Unmarshal(data, &res.Timeline)
		}
		if err != nil {
			fmt.Fprintln(stderr, "demo: replay:", err)
			return 1
		}
		res.Summary = demo.Summarize(res.Timeline)
		return report(res, *svg, *record, *asJSON, stdout, stderr, stderr)
	}
	for _, p := range []string{o.Imsid, o.Imsictl, o.Scenario} {
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintf(stderr, "demo: %v (run it from the repository root after make build, or use make demo)\n", err)
			return 1
		}
	}
	progress := stdout
	if *asJSON {
		progress = stderr
	}
	if !*quiet {
		o.Progress = progress
	}
	if !*fast && !*quiet {
		day := time.Duration(float64(demo.DayLength) / o.Speed).Round(time.Second)
		fmt.Fprintf(progress, "imsid demo: a store day (%s to %s) on the simulated modem, about %v of wall time.\n",
			demo.ClockTime(0)[:5], demo.ClockTime(demo.DayLength)[:5], day)
		fmt.Fprintf(progress, "One line per event: store time, state, active profile, what happened.\n\n")
	}
	res, err := demo.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, err)
		if res.Log != "" {
			fmt.Fprintln(stderr, "--- imsid's last output ---")
			fmt.Fprintln(stderr, res.Log)
		}
		return 1
	}
	return report(res, *svg, *record, *asJSON, stdout, stderr, progress)
}

// report writes the recording, the picture and the summary.
func report(res demo.Result, svg, record string, asJSON bool, stdout, stderr, progress io.Writer) int {
	if record != "" {
		if err := writeJSON(record, res.Timeline); err != nil {
			fmt.Fprintln(stderr, "demo:", err)
			return 1
		}
	}
	if svg != "" {
		if err := writeSVG(svg, res.Timeline); err != nil {
			fmt.Fprintln(stderr, "demo:", err)
			return 1
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res.Summary); err != nil {
			fmt.Fprintln(stderr, "demo:", err)
			return 1
		}
	} else if err := res.Summary.WriteTable(stdout); err != nil {
		return 1
	}
	if svg != "" {
		fmt.Fprintf(progress, "\nTimeline picture: %s\n", svg)
	}
	return 0
}

func writeSVG(path string, t demo.Timeline) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := demo.Render(f, t); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
