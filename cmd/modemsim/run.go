package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/simulator/ptyport"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // could not start, or stopped on an error
	exitUsage = 2
)

type config struct {
	scenario      string
	speed         float64
	link          string
	control       string
	logLevel      slog.Level
	exclusive     bool
	newPath       bool
	baud          int
	printExpected bool
	version       bool
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("modemsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: modemsim --scenario FILE [--speed N] [--link PATH] [--control SOCKET] [--log-level L]")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.scenario, "scenario", "", "scenario YAML file (required), e.g. simulator/scenarios/basic.yaml")
	fs.Float64Var(&c.speed, "speed", 1, "scenario seconds per real second; 0 freezes time (a manual clock moved by the control socket's `advance`)")
	fs.StringVar(&c.link, "link", "", "keep this symlink pointing at the current pty, like /dev/serial/by-id")
	fs.StringVar(&c.control, "control", "", "listen on this unix socket (mode 0600) for control commands; try `help`")
	level := fs.String("log-level", "info", "debug, info, warn or error (logs go to stderr)")
	fs.BoolVar(&c.exclusive, "exclusive", true, "a second opener of the pty gets EBUSY while a client holds it (TIOCEXCL; root bypasses it)")
	fs.BoolVar(&c.newPath, "new-path", false, "after a port loss, come back under a different /dev/pts/N (use --link to follow it)")
	fs.IntVar(&c.baud, "baud", 0, "pace output at this line rate like a UART modem (0: as fast as the client reads, like USB)")
	fs.BoolVar(&c.printExpected, "print-expected", false, "print what a client should read for identity, IMSI, CSQ and CREG as key=value lines, then exit")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if c.version {
		return c, nil
	}
	if fs.NArg() > 0 {
		return nil, usageError(fs, "unexpected argument %q", fs.Arg(0))
	}
	if c.scenario == "" {
		return nil, usageError(fs, "--scenario is required (there is no built-in scenario; try simulator/scenarios/basic.yaml)")
	}
	if c.speed < 0 {
		return nil, usageError(fs, "--speed %v: must be 0 (manual clock) or positive", c.speed)
	}
	if c.baud < 0 {
		return nil, usageError(fs, "--baud %d: must be 0 (unpaced) or positive", c.baud)
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return nil, usageError(fs, "--log-level %q: want debug, info, warn or error", *level)
	}
	return c, nil
}

func usageError(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "modemsim: "+format+"\n", args...)
	fs.Usage()
	return flag.ErrHelp // already reported
}

// run is main without the process: flags in, exit code out.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) && len(args) > 0 && isHelp(args) {
			return exitOK
		}
		return exitUsage
	}
	if c.version {
		fmt.Fprintln(stdout, "modemsim", version)
		return exitOK
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))

	sc, err := simulator.LoadScenario(c.scenario)
	if err != nil {
		fmt.Fprintln(stderr, "modemsim:", err)
		return exitFail
	}
	if c.printExpected {
		if err := printExpected(ctx, sc, c.speed, stdout); err != nil {
			fmt.Fprintln(stderr, "modemsim: --print-expected:", err)
			return exitFail
		}
		return exitOK
	}
	if err := serve(ctx, c, sc, stdout, log); err != nil {
		fmt.Fprintln(stderr, "modemsim:", err)
		return exitFail
	}
	return exitOK
}

func isHelp(args []string) bool {
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "h", "help":
			return true
		}
	}
	return false
}

func newClock(speed float64) simulator.Clock {
	if speed == 0 {
		return simulator.NewManualClock(time.Now())
	}
	return simulator.NewRealClock(speed)
}

func serve(ctx context.Context, c *config, sc *simulator.Scenario, stdout io.Writer, log *slog.Logger) (err error) {
	clk := newClock(c.speed)
	m, err := simulator.New(sc, simulator.WithClock(clk), simulator.WithLogger(log.With("component", "simulator")))
	if err != nil {
		return err
	}
	defer m.Close()

	port, err := ptyport.Open(ptyport.Options{
		Link:      c.link,
		Logger:    log.With("component", "pty"),
		Exclusive: c.exclusive,
		NewPath:   c.newPath,
		Baud:      c.baud,
		// The modem times the port-down period on its own clock, so --speed
		// compresses it and a manual clock holds it until `advance`.
		Sleep: func(ctx context.Context, _ time.Duration) error { return m.WaitPortUp(ctx) },
	})
	if err != nil {
		return err
	}
	defer port.Close()

	if c.control != "" {
		ctl, err := listenControl(c.control, &controller{modem: m, clock: clk, port: port}, log.With("component", "control"))
		if err != nil {
			return err
		}
		defer ctl.Close()
	}

	// Scripts read the path from the first line; say it only once the pty
	// (and the control socket) can be used.
	fmt.Fprintln(stdout, port.Path())
	if c.link != "" {
		fmt.Fprintln(stdout, c.link)
	}
	log.Info("serving", "path", port.Path(), "link", c.link, "control", c.control, "speed", c.speed)

	err = port.Serve(ctx, modemHandler(m))
	log.Info("stopping")
	return err
}

// modemHandler turns the modem's "port dropped" into the pty's drop request.
func modemHandler(m *simulator.Modem) ptyport.Handler {
	return func(ctx context.Context, rw io.ReadWriter) error {
		err := m.Serve(ctx, rw)
		if errors.Is(err, simulator.ErrPortDropped) {
			return ptyport.Drop(m.PortDownFor(), err)
		}
		return err
	}
}
