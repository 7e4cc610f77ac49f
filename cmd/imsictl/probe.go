package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/imsid/imsid/modem"
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

func runProbe(ctx context.Context, e *env, args []string) int {
	var f probeFlags
	fs := flag.NewFlagSet("imsictl probe", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&f.device, "device", "", "the modem's AT port, e.g. /dev/serial/by-id/usb-Quectel_EG25-if02-port0 (required)")
	fs.IntVar(&f.baud, "baud", 115200, "baud rate (USB modems ignore it)")
	fs.BoolVar(&f.json, "json", false, "print JSON (schema in docs/cli.md) instead of a table")
	fs.BoolVar(&f.reveal, "reveal", false, "show IMSI and ICCID in clear")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up on the whole probe after this long")
	fs.BoolVar(&f.trace, "trace", false, "copy the AT traffic to stderr (unmasked: IMSI and ICCID appear in clear)")
	fs.StringVar(&f.socket, "socket", "", "also ask the imsid daemon on this socket `PATH` whether it holds the port (the usual sockets are always asked)")
	fs.StringVar(&f.dialect, "dialect", "", "force the vendor dialect (generic, quectel, simcom, ublox, telit, sierra, huawei) instead of detecting it")
	if e.defs != nil {
		e.defs("probe", fs)
		return exitOK
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: imsictl probe --device PATH [flags]\n\nidentify a modem directly and show what it sees; refuses a port a running imsid holds")
		fmt.Fprintln(w, "\nexamples:\n  imsictl probe --device /dev/serial/by-id/usb-Quectel_EG25-if02-port0\n  imsictl probe --device /dev/ttyUSB2 --json\n  imsictl probe --device /dev/ttyUSB2 --trace   # the AT traffic on stderr")
		fmt.Fprintln(w, "\nflags:")
		printFlags(w, fs, nil)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if f.device == "" || fs.NArg() > 0 {
		fmt.Fprintln(e.stderr, "imsictl probe: --device PATH is required and nothing else may follow the flags")
		fs.Usage()
		return exitUsage
	}
	if f.baud <= 0 || f.timeout <= 0 {
		fmt.Fprintln(e.stderr, "imsictl probe: --baud and --timeout must be positive")
		return exitUsage
	}
	opts := []modem.Option{modem.WithLogger(slog.New(slog.DiscardHandler))}
	if f.dialect != "" {
		d, err := modem.ParseDialect(f.dialect)
		if err != nil {
			fmt.Fprintf(e.stderr, "imsictl probe: --dialect: %v\n", err)
			return exitUsage
		}
		opts = append(opts, modem.WithDialect(d))
	}
	if f.trace {
		opts = append(opts, modem.WithTrace(e.stderr))
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

	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	port, err := e.open(ctx, f.device, f.baud)
	if err != nil {
		fmt.Fprintf(e.stderr, "imsictl probe: %s: cannot open the port: %v\n", f.device, err)
		return exitFail
	}
	m, err := modem.New(ctx, port, opts...)
	if err != nil {
		// New closed the port.
		fmt.Fprintf(e.stderr, "imsictl probe: %s at %d baud: %v\n", f.device, f.baud, explain(err))
		return exitFail
	}
	defer m.Close()

	rep := gather(ctx, m, f.device)
	select {
	case <-m.Done():
		fmt.Fprintf(e.stderr, "imsictl probe: %s: lost the port during the probe (%v)\n", f.device, m.Err())
		return exitFail
	default:
	}
	if !f.reveal {
		rep.mask()
	}
	if f.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(e.stderr, "imsictl probe: %v\n", err)
			return exitFail
		}
		return exitOK
	}
	sanitize(rep)
	writeTable(e.stdout, rep)
	return exitOK
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

// queryTimeout bounds each query so that one command the modem ignores
// cannot use the whole --timeout.
const queryTimeout = 5 * time.Second

func step[T any](ctx context.Context, rep *report, what string, f func(context.Context) (T, error)) (T, bool) {
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	v, err := f(qctx)
	if err != nil {
		rep.Unanswered = append(rep.Unanswered, what)
		return v, false
	}
	return v, true
}

// gather asks the modem everything the report shows. Each query that
// fails leaves its fields null; the probe as a whole still succeeds.
func gather(ctx context.Context, m *modem.Modem, device string) *report {
	rep := &report{Device: device, Neighbours: []neighbourJSON{}, Unanswered: []string{}}
	rep.Modem.Dialect = string(m.Dialect())
	if id, ok := step(ctx, rep, "modem", m.Identity); ok {
		rep.Modem.Manufacturer = strp(id.Manufacturer)
		rep.Modem.Model = strp(id.Model)
		rep.Modem.Revision = strp(id.Revision)
		rep.Modem.IMEI = strp(id.IMEI)
	}
	if st, ok := step(ctx, rep, "sim.state", m.SIMState); ok {
		rep.SIM.State = strp(st.String())
	}
	// Vendor ICCID commands vary; EF_ICCID over +CRSM works everywhere.
	if c, ok := step(ctx, rep, "sim.iccid", func(ctx context.Context) (modem.ICCID, error) {
		c, err := m.ICCID(ctx)
		if err != nil && ctx.Err() == nil {
			c, err = m.EFICCID(ctx)
		}
		return c, err
	}); ok {
		rep.SIM.ICCID = strp(c.Reveal())
	}
	if i, ok := step(ctx, rep, "sim.imsi", m.IMSI); ok {
		rep.SIM.IMSI = strp(i.Reveal())
	}

	regs, _ := step(ctx, rep, "registration", m.Registrations)
	var tech modem.Tech
	if r, ok := pickRegistration(regs); ok {
		rep.Registration.Status = strp(r.Status.Summary())
		if r.AcT != nil {
			tech = r.AcT.Tech()
		}
		if r.Area != nil {
			rep.Registration.TAC = strp(fmt.Sprintf("%X", *r.Area))
		}
		if r.CellID != nil {
			rep.Registration.CellID = strp(fmt.Sprintf("%X", *r.CellID))
		}
		rep.Registration.RejectCause = r.RejectCause
	}
	if op, ok := step(ctx, rep, "registration.operator", m.Operator); ok {
		if !op.PLMN.IsZero() {
			rep.Registration.PLMN = strp(op.PLMN.String())
		}
		rep.Registration.Operator = strp(op.Name)
		if tech == "" && op.AcT != nil {
			tech = op.AcT.Tech()
		}
	}

	if s, ok := step(ctx, rep, "signal", m.Signal); ok {
		rep.Signal = signalFrom(s)
		if tech == "" {
			tech = s.Tech
		}
	}
	type cellAnswer struct {
		sc modem.ServingCell
		nb []modem.Neighbour
	}
	if ca, ok := step(ctx, rep, "serving_cell", func(ctx context.Context) (cellAnswer, error) {
		sc, nb, err := m.ServingCell(ctx)
		return cellAnswer{sc, nb}, err
	}); ok {
		rep.ServingCell = servingFrom(ca.sc)
		for _, n := range ca.nb {
			rep.Neighbours = append(rep.Neighbours, neighbourFrom(n))
		}
		if tech == "" {
			tech = ca.sc.Tech
		}
	}
	rep.Registration.Tech = strp(string(tech))
	return rep
}

// pickRegistration prefers a registered domain, newest technology first.
func pickRegistration(regs []modem.Registration) (modem.Registration, bool) {
	order := []modem.Domain{modem.Domain5GS, modem.DomainEPS, modem.DomainPS, modem.DomainCS}
	for _, d := range order {
		for _, r := range regs {
			if r.Domain == d && r.Status.Registered() {
				return r, true
			}
		}
	}
	for _, d := range order {
		for _, r := range regs {
			if r.Domain == d {
				return r, true
			}
		}
	}
	return modem.Registration{}, false
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
