//go:build !nosimulate

package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/imsid/imsid/internal/simlink"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/daemon"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/simulator/ptyport"
	"github.com/imsid/imsid/simulator/scenarios"
)

// runSimulated runs the daemon against the simulator on a pty in this
// process: the same code path as a real modem (the port is opened by path
// through go.bug.st/serial), with scenario time accelerated by --speed for
// the simulator and the switcher alike.
func runSimulated(ctx context.Context, o *options, stdout, stderr io.Writer, reload <-chan struct{}) int {
	sc, err := loadScenario(o.scenario)
	if err != nil {
		fmt.Fprintln(stderr, "imsid:", err)
		if _, serr := os.Stat(o.scenario); errors.Is(serr, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "imsid: no such file, and no built-in scenario of that name (imsid --list-scenarios: %s)\n", strings.Join(scenarios.Names(), ", "))
		}
		return exitConfig
	}
	stateDir, cleanup := o.stateDir, func() {}
	tryOut := stateDir == "" && o.config == "" && !o.printConfig
	if tryOut {
		dir, err := os.MkdirTemp("", "imsid-sim-")
		if err != nil {
			fmt.Fprintln(stderr, "imsid:", err)
			return exitFail
		}
		stateDir, cleanup = dir, func() { os.RemoveAll(dir) }
	}
	defer cleanup()
	if stateDir == "" {
		stateDir = "/tmp/imsid-sim"
	}
	if abs, err := filepath.Abs(stateDir); err == nil {
		stateDir = abs
	}
	link := filepath.Join(stateDir, "modem")

	load := func() (*profiles.Config, error) {
		if o.config == "" {
			text, err := genConfig(sc, link, stateDir)
			if err != nil {
				return nil, err
			}
			cfg, err := profiles.Parse("generated from "+sc.Name, []byte(text))
			if err == nil && tryOut {
				// A plain `imsictl status` in another terminal finds it;
				// a second try-out daemon takes the next free name.
				cfg.API.Socket = tryOutSocket()
				// Only this user: imsictl trusts a socket in the shared
				// temporary directory only when nobody else can reach it.
				cfg.API.SocketMode = 0o600
			}
			return cfg, err
		}
		cfg, err := loadConfig(o)
		if err != nil {
			return nil, err
		}
		cfg.Modem.Device = link // the simulator's pty, whatever the file says
		if o.stateDir != "" || cfg.StateDir == "" {
			cfg.StateDir = stateDir
		}
		return cfg, nil
	}
	if o.printConfig {
		if o.config != "" {
			return printFile(o.config, stdout, stderr)
		}
		text, err := genConfig(sc, link, stateDir)
		if err != nil {
			fmt.Fprintln(stderr, "imsid:", err)
			return exitConfig
		}
		fmt.Fprint(stdout, text)
		return exitOK
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintln(stderr, "imsid:", err)
		return exitConfig
	}
	if o.config != "" {
		link = filepath.Join(cfg.StateDir, "modem")
		cfg.Modem.Device = link
	}
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		fmt.Fprintln(stderr, "imsid:", err)
		return exitFail
	}
	log := daemon.NewLogger(stderr, cfg.Log)

	clk := simulator.NewRealClock(o.speed)
	m, err := simulator.New(sc, simulator.WithClock(clk), simulator.WithLogger(log.With("component", "simulator")))
	if err != nil {
		fmt.Fprintln(stderr, "imsid:", err)
		return exitConfig
	}
	defer m.Close()
	_ = os.Remove(link) // a stale link from a killed run
	port, err := ptyport.Open(ptyport.Options{
		Link:   link,
		Logger: log.With("component", "pty"),
		Sleep:  func(ctx context.Context, _ time.Duration) error { return m.WaitPortUp(ctx) },
	})
	if err != nil {
		fmt.Fprintln(stderr, "imsid: simulator pty:", err)
		return exitFail
	}
	defer port.Close()
	sctx, stopSim := context.WithCancel(context.Background())
	var simWG sync.WaitGroup
	simWG.Add(1)
	go func() {
		defer simWG.Done()
		_ = port.Serve(sctx, func(ctx context.Context, rw io.ReadWriter) error {
			err := m.Serve(ctx, rw)
			if errors.Is(err, simulator.ErrPortDropped) {
				return ptyport.Drop(m.PortDownFor(), err)
			}
			return err
		})
	}()
	// The simulator outlives the daemon so the shutdown can still talk to it.
	defer func() { stopSim(); port.Close(); simWG.Wait() }()

	start := clk.Now()
	pw := &progressWriter{w: stdout, start: start}
	fmt.Fprintf(stdout, "imsid %s: simulating %s at %gx; state in %s; API socket %s\n",
		version, sc.Name, o.speed, cfg.StateDir, cfg.API.Socket)
	if tryOut && cfg.API.Socket != api.TryOutSocket() {
		fmt.Fprintf(stdout, "  another try-out daemon holds %s; reach this one with: imsictl --socket %s status\n", api.TryOutSocket(), cfg.API.Socket)
	}
	dopts := daemon.Options{
		Config:     cfg,
		Open:       serialOpener(link, cfg.Modem.Baud),
		Logger:     log,
		Version:    version,
		Clock:      simlink.Clock{C: clk},
		Prober:     simlink.Prober{M: m},
		OnProgress: pw.print,
	}
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		t := clk.AfterFunc(o.duration, cancel)
		defer t.Stop()
	}
	code := serve(ctx, o, dopts, reload, load, stderr)
	pw.summary(clk.Now())
	return code
}

// progressWriter prints one line per event: scenario time, state,
// profile, what happened; and keeps the tally for the summary.
type progressWriter struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	sum   tally
}

func (p *progressWriter) print(ev daemon.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prof := ev.Profile
	if prof == "" {
		prof = "-"
	}
	fmt.Fprintf(p.w, "[+%s] %-12s %-14s %-8s %s\n", clock(ev.At.Sub(p.start)), ev.State, prof, ev.Kind, ev.Text)
	p.sum.add(ev)
}

func (p *progressWriter) summary(end time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sum.write(p.w, p.start, end)
}

// clock formats a scenario duration as hh:mm:ss.
func clock(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

// loadScenario reads a scenario file or, when there is no such file, the
// built-in scenario of that name ("basic", "downgrade-2g.yaml", or the
// repository path "simulator/scenarios/basic.yaml" from any directory).
func loadScenario(name string) (*simulator.Scenario, error) {
	if _, err := os.Stat(name); err == nil {
		return simulator.LoadScenario(name)
	}
	if file, b, ok := scenarios.Lookup(name); ok {
		return simulator.ParseScenario(file, b)
	}
	return simulator.LoadScenario(name)
}

func listScenarios(w, _ io.Writer) int {
	for _, n := range scenarios.Names() {
		fmt.Fprintf(w, "%-16s %s\n", n, scenarios.Summary(n))
	}
	return exitOK
}

// tryOutSocket is the try-out socket imsictl looks for, unless a live
// daemon answers there: then the next free imsid-sim-UID-N.sock.
func tryOutSocket() string {
	base := api.TryOutSocket()
	for n := 1; n < 100; n++ {
		p := base
		if n > 1 {
			p = strings.TrimSuffix(base, ".sock") + "-" + strconv.Itoa(n) + ".sock"
		}
		c, err := net.DialTimeout("unix", p, 200*time.Millisecond)
		if err != nil {
			return p // free, or a stale file the API removes
		}
		c.Close()
	}
	return base
}
