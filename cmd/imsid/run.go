package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.bug.st/serial"

	"github.com/imsid/imsid/internal/daemon"
	"github.com/imsid/imsid/internal/offline"
	"github.com/imsid/imsid/internal/probe"
	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
)

// Exit codes (docs/operations.md).
const (
	exitOK     = 0
	exitFail   = 1 // stopped on an error at run time (state dir locked, API cannot bind, ...)
	exitUsage  = 2 // bad flags
	exitConfig = 3 // the config file (or scenario) is invalid
)

// DefaultScenario is what --simulate runs without a SCENARIO argument (a
// scenario embedded in the binary: imsid --list-scenarios).
const DefaultScenario = "basic"

type options struct {
	config      string
	simulate    bool
	scenario    string
	speed       float64
	duration    time.Duration
	stateDir    string
	device      string
	printConfig bool
	probeIface  string
	version     bool
	list        bool
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("imsid", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: imsid --config FILE [--device PATH] [--probe-interface IFACE]\n       imsid --simulate [SCENARIO] [--speed N] [--duration D] [--config FILE] [--state-dir DIR] [--print-config]\n       imsid --list-scenarios")
		fmt.Fprintln(fs.Output(), "\nexamples:\n  imsid --config /etc/imsid/imsid.yaml\n  imsid --simulate                      # the built-in basic scenario; imsictl status finds it\n  imsid --simulate downgrade-2g --speed 20\n  imsid --simulate ./my-world.yaml --duration 30m")
		fs.PrintDefaults()
	}
	defineFlags(fs, o)
	// Flags may follow the SCENARIO argument: parse again after each
	// positional one.
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if o.version || o.list {
		return o, nil
	}
	switch {
	case len(pos) > 1:
		return nil, usageError(fs, "unexpected argument %q", pos[1])
	case len(pos) == 1 && !o.simulate:
		return nil, usageError(fs, "unexpected argument %q (a SCENARIO goes with --simulate)", pos[0])
	case !o.simulate && o.config == "":
		return nil, usageError(fs, "--config FILE is required (or --simulate to try it without a modem)")
	case o.simulate && o.device != "":
		return nil, usageError(fs, "--device goes with --config: the simulator brings its own port")
	case o.simulate && o.speed <= 0:
		return nil, usageError(fs, "--speed %v: must be positive", o.speed)
	}
	if o.simulate {
		o.scenario = DefaultScenario
		if len(pos) == 1 {
			o.scenario = pos[0]
		}
	}
	return o, nil
}

// defineFlags defines imsid's flags on fs (also read by the man page,
// man.go).
func defineFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.config, "config", "", "configuration `FILE` (required without --simulate), e.g. /etc/imsid/imsid.yaml")
	fs.BoolVar(&o.simulate, "simulate", false, "run against the built-in modem simulator on a pty; SCENARIO is a file or a built-in name (default "+DefaultScenario+")")
	fs.Float64Var(&o.speed, "speed", 10, "with --simulate: `N` scenario seconds per real second")
	fs.DurationVar(&o.duration, "duration", 0, "with --simulate: stop after this much scenario time (0: run until stopped)")
	fs.StringVar(&o.stateDir, "state-dir", "", "override state_dir with `DIR` (with --simulate the default is a fresh temporary directory)")
	fs.StringVar(&o.device, "device", "", "override modem.device with `PATH`, the modem's AT port (OpenWrt: option device in /etc/config/imsid)")
	fs.BoolVar(&o.printConfig, "print-config", false, "print the configuration in force (with --simulate: the one generated from the scenario) and exit")
	fs.StringVar(&o.probeIface, "probe-interface", "", "bind data-path probes to interface `IFACE` (e.g. wwan0; needs CAP_NET_RAW)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.BoolVar(&o.list, "list-scenarios", false, "list the scenarios built into imsid (--simulate NAME runs one) and exit")
}

func usageError(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "imsid: "+format+"\n", args...)
	fs.Usage()
	return flag.ErrHelp
}

// run is main without the process: flags in, exit code out. reload delivers
// SIGHUP.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, reload <-chan struct{}) int {
	// Hidden: the man page, from the flags' definitions (make man).
	if len(args) == 1 && args[0] == "--man" {
		fmt.Fprint(stdout, manPage())
		return exitOK
	}
	// Hidden: imsictl probe --device and imsictl config validate run these
	// (internal/offline), so that imsictl need not carry the modem driver
	// and the config parser.
	if offline.Is(args) {
		return offline.Main(ctx, args, stdout, stderr, nil)
	}
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) && isHelp(args) {
			return exitOK
		}
		return exitUsage
	}
	if o.version {
		fmt.Fprintln(stdout, "imsid", version)
		return exitOK
	}
	if o.list {
		return listScenarios(stdout, stderr)
	}
	if o.simulate {
		return runSimulated(ctx, o, stdout, stderr, reload)
	}
	cfg, err := loadConfig(o)
	if err != nil {
		fmt.Fprintln(stderr, "imsid:", err)
		return exitConfig
	}
	if o.printConfig {
		return printFile(o.config, stdout, stderr)
	}
	log := daemon.NewLogger(stderr, cfg.Log)
	dopts := daemon.Options{
		Config:  cfg,
		Open:    serialOpener(cfg.Modem.Device, cfg.Modem.Baud),
		Logger:  log,
		Version: version,
	}
	if o.probeIface != "" {
		dopts.Prober = probe.New(cfg.Policy.Probes, probe.WithInterface(o.probeIface))
	}
	return serve(ctx, o, dopts, reload, func() (*profiles.Config, error) { return loadConfig(o) }, stderr)
}

// loadConfig reads --config and applies the overrides given as flags. It
// opens the files the config names as `imsictl config validate` does, so a
// missing, short or world-readable token is reported at its line, on start
// and on reload.
func loadConfig(o *options) (*profiles.Config, error) {
	cfg, err := profiles.Check(o.config)
	if err != nil {
		return nil, err
	}
	if o.stateDir != "" {
		cfg.StateDir = o.stateDir
	}
	if o.device != "" {
		cfg.Modem.Device = o.device
	}
	return cfg, nil
}

// serve runs the daemon until ctx ends, reloading on each reload signal.
func serve(ctx context.Context, o *options, dopts daemon.Options, reload <-chan struct{}, load func() (*profiles.Config, error), stderr io.Writer) int {
	log := dopts.Logger
	d, err := daemon.New(dopts)
	if err != nil {
		fmt.Fprintln(stderr, "imsid:", err)
		return exitFail
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for {
		select {
		case err := <-done:
			if err != nil {
				log.Error("stopped on an error", "err", err)
				fmt.Fprintln(stderr, "imsid:", err)
				return exitFail
			}
			log.Info("stopped")
			return exitOK
		case <-reload:
			if o.config == "" {
				log.Warn("SIGHUP: nothing to reload, the config was generated from the scenario")
				continue
			}
			cfg, err := load()
			if err != nil {
				// The old config keeps running; the error names file:line.
				log.Error("SIGHUP: config rejected; keeping the one in force", "err", err)
				continue
			}
			if err := d.Reload(cfg); err != nil {
				log.Error("SIGHUP: reload failed; keeping the config in force", "err", err)
			}
		}
	}
}

// serialOpener opens the real AT port. No read timeout: a timed-out read
// returns (0, nil), which would look like a silent modem (reference §6.1).
// Reopening the same path finds the modem again after a USB re-enumeration
// when the path is a /dev/serial/by-id link.
func serialOpener(path string, baud int) modem.Opener {
	if baud <= 0 {
		baud = 115200
	}
	return func(context.Context) (io.ReadWriteCloser, error) {
		return serial.Open(path, &serial.Mode{BaudRate: baud})
	}
}

func printFile(path string, stdout, stderr io.Writer) int {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "imsid:", err)
		return exitConfig
	}
	_, _ = stdout.Write(b)
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
