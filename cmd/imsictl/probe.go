package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/imsid/imsid/internal/apiclient"
	"github.com/imsid/imsid/internal/modemreport"
	"github.com/imsid/imsid/internal/offline/answer"
)

type probeFlags struct {
	device  string
	baud    int
	json    bool
	reveal  bool
	timeout time.Duration
	trace   bool
	dialect string
	socket  string
}

func runProbe(ctx context.Context, e *env, g *globals, args []string) int {
	var f probeFlags
	fs := flag.NewFlagSet("imsictl probe", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&f.device, "device", "", "probe the modem on this AT port directly, e.g. /dev/serial/by-id/usb-Quectel_EG25-if02-port0, through the imsid installed beside imsictl (without it, the running daemon probes its modem)")
	fs.IntVar(&f.baud, "baud", 115200, "baud rate (USB modems ignore it)")
	fs.BoolVar(&f.json, "json", false, "print JSON (schema in docs/cli.md) instead of a table")
	fs.BoolVar(&f.reveal, "reveal", false, "show IMSI and ICCID in clear")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up on the whole probe after this long")
	fs.BoolVar(&f.trace, "trace", false, "copy the AT traffic to stderr (unmasked: IMSI and ICCID appear in clear)")
	fs.StringVar(&f.socket, "socket", "", "the imsid daemon's socket `PATH`: without --device it probes through it; with --device it is also asked whether it holds the port (the usual sockets are always asked)")
	fs.StringVar(&f.dialect, "dialect", "", "force the vendor dialect (generic, quectel, simcom, ublox, telit, sierra, huawei) instead of detecting it")
	if e.defs != nil {
		e.defs("probe", fs)
		return exitOK
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: imsictl probe [--device PATH] [flags]\n\nidentify a modem and show what it sees: without --device the running imsid probes its modem through its own\ncommand queue; with --device imsictl opens the port itself, and refuses a port a running imsid holds")
		fmt.Fprintln(w, "\nexamples:\n  imsictl probe   # ask the running daemon\n  imsictl probe --device /dev/serial/by-id/usb-Quectel_EG25-if02-port0\n  imsictl probe --device /dev/ttyUSB2 --json\n  imsictl probe --device /dev/ttyUSB2 --trace   # the AT traffic on stderr")
		fmt.Fprintln(w, "\nflags:")
		printFlags(w, fs, nil)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(e.stderr, "imsictl probe: nothing may follow the flags (the port is --device PATH)")
		fs.Usage()
		return exitUsage
	}
	if f.baud <= 0 || f.timeout <= 0 {
		fmt.Fprintln(e.stderr, "imsictl probe: --baud and --timeout must be positive")
		return exitUsage
	}
	if f.device == "" {
		return probeThroughDaemon(ctx, e, g, fs, f)
	}
	// A running daemon owns the port: a second AT session on it would
	// interleave with the daemon's commands and look like a modem fault.
	holderOf := e.holderOf
	if holderOf == nil {
		holderOf = func(ctx context.Context, device, socket string) (holder, bool) {
			return findHolder(ctx, e, device, socket)
		}
	}
	if h, held := holderOf(ctx, f.device, f.socket); held {
		return refuseHeld(e, f.device, h)
	}

	// imsid opens the port and speaks AT (internal/offline): imsictl does
	// not carry the modem driver.
	hargs := []string{offlineProbe, "--device", f.device, "--baud", strconv.Itoa(f.baud), "--timeout", f.timeout.String()}
	if f.reveal {
		hargs = append(hargs, "--reveal")
	}
	if f.trace {
		hargs = append(hargs, "--trace")
	}
	if f.dialect != "" {
		hargs = append(hargs, "--dialect", f.dialect)
	}
	var res answer.Probe
	if code, ok := runHelper(ctx, e, "probe", "opens the port and speaks AT to the modem", hargs, &res); !ok {
		return code
	}
	if res.Report == nil {
		fmt.Fprintf(e.stderr, "imsictl probe: %s\n", firstNonEmpty(res.Error, "imsid gave no report"))
		if res.Usage {
			return exitUsage
		}
		return exitFail
	}
	return printReport(e, f.json, res.Report)
}

// The helper commands imsictl runs imsid with (internal/offline).
const (
	offlineProbe    = "__probe"
	offlineValidate = "__validate"
)

// probeThroughDaemon asks the running daemon to probe its modem through
// its own command queue (POST /v1/probe) and prints the report as a direct
// probe does. Identities never leave the daemon in clear, and it owns the
// port's settings, so --reveal, --trace, --baud and --dialect need --device.
func probeThroughDaemon(ctx context.Context, e *env, g *globals, fs *flag.FlagSet, f probeFlags) int {
	var direct []string
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "reveal", "trace", "baud", "dialect":
			direct = append(direct, "--"+fl.Name)
		}
	})
	if len(direct) > 0 {
		fmt.Fprintf(e.stderr, "imsictl probe: %s need --device PATH: through the daemon, IMSI and ICCID stay masked and the daemon owns the port's settings\n",
			strings.Join(direct, ", "))
		return exitUsage
	}
	if g == nil {
		g = &globals{}
	}
	gg := *g
	if f.socket != "" {
		gg.socket = f.socket
	}
	if gg.timeout <= 0 || gg.timeout < f.timeout {
		gg.timeout = f.timeout
	}
	gg.json = f.json
	cl, conn, code := dial(e, &gg, "probe")
	if cl == nil {
		return code
	}
	defer cl.Close()
	rep, err := cl.Probe(ctx)
	if err != nil {
		var ue *apiclient.UnreachableError
		if errors.As(err, &ue) {
			fmt.Fprintf(e.stderr, "imsictl probe: no --device given, and no imsid daemon answers at %s to probe its modem\n"+
				"  probe a modem directly: imsictl probe --device /dev/serial/by-id/...\n", cl.Target())
			return exitUsage
		}
		return failure(e, &gg, conn, "probe", err, nil)
	}
	return printReport(e, f.json, &rep)
}

// printReport writes a probe's report, from the modem or from the daemon,
// as JSON or as the table.
func printReport(e *env, asJSON bool, rep *modemreport.Report) int {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(e.stderr, "imsictl probe: %v\n", err)
			return exitFail
		}
		return exitOK
	}
	sanitize(rep)
	modemreport.WriteTable(e.stdout, rep)
	return exitOK
}
