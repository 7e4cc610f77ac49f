// Command footprint is `make footprint`: the RSS and CPU of `imsid
// --simulate` polling an idle modem in real time (signal every -poll, with
// GOMAXPROCS=-gomaxprocs as on a single-core gateway), and the stripped
// binary sizes that `make cross` built, checked against the limits of issue
// 12: it exits 1 if a binary is over its limit or missing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/imsid/imsid/internal/soak"
)

func main() {
	bin := flag.String("bin", "bin/imsid", "imsid binary")
	scenario := flag.String("scenario", "simulator/scenarios/basic.yaml", "simulator scenario (an idle one: no events to react to)")
	dur := flag.Duration("time", 60*time.Second, "how long to measure, after the daemon is ready")
	speed := flag.Float64("speed", 1, "simulator speed (1: the real polling rate)")
	poll := flag.Duration("poll", 5*time.Second, "policy.signal_poll of the measured daemon (0: the default)")
	procs := flag.Int("gomaxprocs", 1, "GOMAXPROCS of the measured daemon, as on a single-core gateway (0: the machine's)")
	dist := flag.String("dist", "dist", "where make cross put the binaries")
	arches := flag.String("arches", "linux-arm,linux-arm64,linux-mipsle", "targets whose sizes are asserted (dist/<target>/)")
	maxd := flag.Float64("max-imsid", 10, "limit for the stripped imsid, MiB (0: no check)")
	maxc := flag.Float64("max-imsictl", 6, "limit for the stripped imsictl, MiB (0: no check)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, *bin, *scenario, *dur, *speed, *poll, *procs)
	if c := sizes(*dist, strings.Split(*arches, ","), map[string]float64{"imsid": *maxd, "imsictl": *maxc}); c != 0 {
		code = c
	}
	stop()
	os.Exit(code)
}

func run(ctx context.Context, bin, scenario string, dur time.Duration, speed float64, poll time.Duration, procs int) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "footprint:", err); return 1 }
	dir, err := os.MkdirTemp("", "imsid-footprint-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	args := []string{"--speed", fmt.Sprint(speed)}
	if poll > 0 {
		// The generated config with the poll interval changed.
		out, err := exec.CommandContext(ctx, bin, "--simulate", scenario, "--print-config", "--state-dir", filepath.Join(dir, "state")).Output()
		if err != nil {
			return fail(fmt.Errorf("%s --print-config: %w", bin, err))
		}
		cfg := string(out)
		if !strings.Contains(cfg, "\npolicy:\n") {
			return fail(fmt.Errorf("generated config has no policy section; update cmd/footprint"))
		}
		cfg = strings.Replace(cfg, "\npolicy:\n", fmt.Sprintf("\npolicy:\n  signal_poll: %s\n", poll), 1)
		f := filepath.Join(dir, "imsid.yaml")
		if err := os.WriteFile(f, []byte(cfg), 0o600); err != nil {
			return fail(err)
		}
		args = append(args, "--config", f)
	}
	// The child inherits the environment: GOMAXPROCS is read at its start.
	if procs > 0 {
		os.Setenv("GOMAXPROCS", strconv.Itoa(procs))
		defer os.Unsetenv("GOMAXPROCS")
	}
	p, err := soak.StartSimulated(ctx, bin, scenario, dir, args...)
	if err != nil {
		return fail(err)
	}
	defer p.Stop()
	c := soak.SocketClient(filepath.Join(p.StateDir, "imsid.sock"))
	if err := p.WaitReady(ctx, c, "http://imsid/readyz", 90*time.Second); err != nil {
		return fail(err)
	}
	// Settle: the start-up (SIM reads, attach, first scan) is not idle.
	settle := 10 * time.Second
	pollText, procText := "default signal_poll", "GOMAXPROCS unset"
	if poll > 0 {
		pollText = "signal_poll " + poll.String()
	}
	if procs > 0 {
		procText = fmt.Sprintf("GOMAXPROCS=%d", procs)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("footprint: imsid --simulate %s at %gx, %s, %s, ready; settling %s, then measuring %s (load average %s)\n",
		filepath.Base(scenario), speed, pollText, procText, settle, dur, strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "))
	select {
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-time.After(settle):
	}
	st0, err := soak.ReadProc(p.Pid())
	if err != nil {
		return fail(err)
	}
	t0 := time.Now()
	var sum, peak uint64
	n := 0
	for time.Since(t0) < dur {
		select {
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(time.Second):
		}
		st, err := soak.ReadProc(p.Pid())
		if err != nil {
			return fail(fmt.Errorf("imsid went away: %v\n%s", err, p.Tail(20)))
		}
		sum += st.RSS
		peak = max(peak, st.RSS)
		n++
	}
	st1, err := soak.ReadProc(p.Pid())
	if err != nil {
		return fail(err)
	}
	wall := time.Since(t0)
	fmt.Printf("idle RSS: mean %s MiB, max %s MiB; VmHWM (peak since start) %s MiB\n", soak.MiB(sum/uint64(max(n, 1))), soak.MiB(peak), soak.MiB(st1.HWM))
	fmt.Printf("idle CPU (%s, %s): %s over %s = %.2f%% of one core\n", pollText, procText, (st1.CPU - st0.CPU).Round(time.Millisecond), wall.Round(time.Second),
		100*(st1.CPU-st0.CPU).Seconds()/wall.Seconds())
	return 0
}

// sizes prints the stripped binaries in dist and checks those of the
// asserted targets against limits (MiB by command; 0: none). 1 if one is
// over or missing.
func sizes(dist string, asserted []string, limits map[string]float64) int {
	fmt.Printf("\nstripped static binaries (%s/):\n%-14s %-9s %10s %8s %8s\n", dist, "TARGET", "COMMAND", "BYTES", "MiB", "LIMIT")
	check := map[string]bool{}
	for _, t := range asserted {
		check[strings.TrimSpace(t)] = true
	}
	var bad []string
	for _, t := range []string{"linux-arm", "linux-arm64", "linux-mipsle", "linux-amd64"} {
		for _, cmd := range []string{"imsid", "imsictl", "modemsim"} {
			limit := limits[cmd]
			asserting := check[t] && limit > 0
			fi, err := os.Stat(filepath.Join(dist, t, cmd))
			if err != nil {
				if asserting {
					bad = append(bad, fmt.Sprintf("%s/%s missing (run make cross)", t, cmd))
				}
				continue
			}
			verdict := ""
			if asserting {
				verdict = fmt.Sprintf("%6.1f ok", limit)
				if float64(fi.Size()) > limit*(1<<20) {
					verdict = fmt.Sprintf("%6.1f OVER by %s MiB", limit, soak.MiB(uint64(float64(fi.Size())-limit*(1<<20))))
					bad = append(bad, fmt.Sprintf("%s/%s is %s MiB, over %g MiB", t, cmd, soak.MiB(uint64(fi.Size())), limit))
				}
			}
			fmt.Printf("%-14s %-9s %10d %8s %s\n", t, cmd, fi.Size(), soak.MiB(uint64(fi.Size())), verdict)
		}
	}
	if len(bad) > 0 {
		fmt.Fprintf(os.Stderr, "footprint: %d size check(s) failed:\n  %s\n", len(bad), strings.Join(bad, "\n  "))
		return 1
	}
	fmt.Println("footprint: every asserted binary is within its limit")
	return 0
}
