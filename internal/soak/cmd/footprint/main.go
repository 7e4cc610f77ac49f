// Command footprint is `make footprint`: the RSS and CPU of `imsid
// --simulate` polling an idle modem in real time, and the stripped binary
// sizes that `make cross` built.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/imsid/imsid/internal/soak"
)

func main() {
	bin := flag.String("bin", "bin/imsid", "imsid binary")
	scenario := flag.String("scenario", "simulator/scenarios/basic.yaml", "simulator scenario (an idle one: no events to react to)")
	dur := flag.Duration("time", 60*time.Second, "how long to measure, after the daemon is ready")
	speed := flag.Float64("speed", 1, "simulator speed (1: the real polling rate)")
	dist := flag.String("dist", "dist", "where make cross put the binaries")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, *bin, *scenario, *dur, *speed, *dist)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, bin, scenario string, dur time.Duration, speed float64, dist string) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "footprint:", err); return 1 }
	dir, err := os.MkdirTemp("", "imsid-footprint-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	p, err := soak.StartSimulated(ctx, bin, scenario, dir, "--speed", fmt.Sprint(speed))
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
	fmt.Printf("footprint: imsid --simulate %s at %gx, ready; settling %s, then measuring %s\n", filepath.Base(scenario), speed, settle, dur)
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
	fmt.Printf("idle CPU: %s over %s = %.2f%% of one core\n", (st1.CPU - st0.CPU).Round(time.Millisecond), wall.Round(time.Second),
		100*(st1.CPU-st0.CPU).Seconds()/wall.Seconds())

	fmt.Printf("\nstripped static binaries (%s/):\n%-14s %-9s %10s %8s\n", dist, "TARGET", "COMMAND", "BYTES", "MiB")
	missing := false
	for _, t := range []string{"linux-arm", "linux-arm64", "linux-mipsle", "linux-amd64"} {
		for _, cmd := range []string{"imsid", "imsictl", "modemsim"} {
			fi, err := os.Stat(filepath.Join(dist, t, cmd))
			if err != nil {
				missing = true
				continue
			}
			fmt.Printf("%-14s %-9s %10d %8s\n", t, cmd, fi.Size(), soak.MiB(uint64(fi.Size())))
		}
	}
	if missing {
		fmt.Println("(some binaries missing: run make cross first)")
	}
	return 0
}
