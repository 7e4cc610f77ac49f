// Package offline is what imsid does for imsictl when no daemon is asked:
// probing a modem on a port it opens itself (`imsictl probe --device`) and
// checking a config file (`imsictl config validate`). imsictl runs them as
// `imsid __probe` and `imsid __validate` (hidden commands) and prints their
// JSON answers (package result) in its own formats, so that imsictl, which
// ships to gateways with little flash, links neither the modem driver, the
// serial port nor the config parser (docs/shipping.md).
package offline

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.bug.st/serial"

	"github.com/imsid/imsid/internal/modemreport/gather"
	"github.com/imsid/imsid/internal/offline/answer"
	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
)

// The hidden commands, as imsictl passes them to imsid.
const (
	ProbeCommand    = "__probe"
	ValidateCommand = "__validate"
)

// Exit codes of the helper commands, as imsictl's.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// Opener opens the modem's AT port.
type Opener func(ctx context.Context, path string, baud int) (io.ReadWriteCloser, error)

// OpenSerial opens a real serial port. No read timeout is set: a timed-out
// read returns (0, nil), which the driver tolerates but which would make
// warthog618's own reader give up after 100 of them (reference §6.1).
func OpenSerial(_ context.Context, path string, baud int) (io.ReadWriteCloser, error) {
	return serial.Open(path, &serial.Mode{BaudRate: baud})
}

// Is reports whether args name a helper command.
func Is(args []string) bool {
	return len(args) > 0 && (args[0] == ProbeCommand || args[0] == ValidateCommand)
}

// Main runs the helper command args[0] with the rest of args, writing its
// JSON answer to stdout and a probe's --trace to stderr. open nil opens
// real serial ports.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, open Opener) int {
	if open == nil {
		open = OpenSerial
	}
	if !Is(args) {
		fmt.Fprintf(stderr, "imsid: %v is not a helper command\n", args)
		return exitUsage
	}
	if args[0] == ValidateCommand {
		if len(args) != 2 {
			fmt.Fprintln(stderr, "usage: imsid __validate FILE (imsictl config validate FILE runs it)")
			return exitUsage
		}
		rep := Validate(args[1])
		writeJSON(stdout, rep)
		if !rep.Valid {
			return exitFail
		}
		return exitOK
	}
	rep := probeMain(ctx, args[1:], stderr, open)
	writeJSON(stdout, rep)
	switch {
	case rep.Report != nil:
		return exitOK
	case rep.Usage:
		return exitUsage
	}
	return exitFail
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Validate checks a config file as the daemon's start does (profiles.Check).
func Validate(file string) answer.Validate {
	rep := answer.Validate{Profiles: []string{}, Errors: []answer.Issue{}}
	cfg, err := profiles.Check(file)
	var ve *profiles.ValidationError
	switch {
	case err == nil:
		rep.Valid = true
		for _, p := range cfg.Profiles {
			rep.Profiles = append(rep.Profiles, p.Name)
		}
		rep.Method = string(cfg.SIM.Method)
	case errors.As(err, &ve):
		for _, fe := range ve.Errors {
			rep.Errors = append(rep.Errors, answer.Issue{File: fe.File, Line: fe.Line, Path: fe.Path, Message: fe.Msg, Text: fe.Error()})
		}
	default:
		// Not a problem in the file: it could not be read.
		rep.ReadError = err.Error()
	}
	return rep
}

// probeMain parses `imsid __probe`'s flags (imsictl probe's own, which
// imsictl has checked but for --dialect) and probes.
func probeMain(ctx context.Context, args []string, stderr io.Writer, open Opener) answer.Probe {
	var o ProbeOptions
	fs := flag.NewFlagSet("imsid "+ProbeCommand, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.Device, "device", "", "")
	fs.IntVar(&o.Baud, "baud", 115200, "")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Second, "")
	fs.BoolVar(&o.Reveal, "reveal", false, "")
	trace := fs.Bool("trace", false, "")
	fs.StringVar(&o.Dialect, "dialect", "", "")
	if err := fs.Parse(args); err != nil {
		return answer.Probe{Error: err.Error(), Usage: true}
	}
	if fs.NArg() > 0 || o.Device == "" || o.Baud <= 0 || o.Timeout <= 0 {
		return answer.Probe{Error: "want --device PATH and a positive --baud and --timeout", Usage: true}
	}
	if *trace {
		o.Trace = stderr
	}
	return Probe(ctx, o, open)
}

// ProbeOptions are imsictl probe --device's flags.
type ProbeOptions struct {
	Device  string
	Baud    int
	Timeout time.Duration
	Reveal  bool
	Dialect string
	// Trace, when set, receives the AT traffic (unmasked).
	Trace io.Writer
}

// Probe opens the port, starts a session and gathers the report (masked
// unless o.Reveal).
func Probe(ctx context.Context, o ProbeOptions, open Opener) answer.Probe {
	opts := []modem.Option{modem.WithLogger(slog.New(slog.DiscardHandler))}
	if o.Dialect != "" {
		d, err := modem.ParseDialect(o.Dialect)
		if err != nil {
			return answer.Probe{Error: fmt.Sprintf("--dialect: %v", err), Usage: true}
		}
		opts = append(opts, modem.WithDialect(d))
	}
	if o.Trace != nil {
		opts = append(opts, modem.WithTrace(o.Trace))
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	port, err := open(ctx, o.Device, o.Baud)
	if err != nil {
		return answer.Probe{Error: fmt.Sprintf("%s: cannot open the port: %v", o.Device, err)}
	}
	m, err := modem.New(ctx, port, opts...)
	if err != nil {
		// New closed the port.
		return answer.Probe{Error: fmt.Sprintf("%s at %d baud: %v", o.Device, o.Baud, explain(err))}
	}
	defer m.Close()

	rep := gather.Gather(ctx, m, o.Device)
	select {
	case <-m.Done():
		return answer.Probe{Error: fmt.Sprintf("%s: lost the port during the probe (%v)", o.Device, m.Err())}
	default:
	}
	if !o.Reveal {
		gather.Mask(rep)
	}
	return answer.Probe{Report: rep}
}

// explain adds what an operator can do about the usual failures.
func explain(err error) string {
	switch {
	case errors.Is(err, modem.ErrTimeout):
		return fmt.Sprintf("%v (sent AT three times and got no answer: wrong port, wrong baud rate, or the modem is still booting)", err)
	case errors.Is(err, modem.ErrPortLost):
		return fmt.Sprintf("%v (the port closed while starting the session: is another program, e.g. ModemManager, using it?)", err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("%v (--timeout reached while starting the session)", err)
	}
	return err.Error()
}
