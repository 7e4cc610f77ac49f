// Command loadtest is `make loadtest`: the status API under load while the
// daemon switches. It starts `imsid --simulate` with a TCP listener and a
// token, sends GET /v1/status at a fixed rate (open loop) and forces a
// switch every few seconds, then prints p50/p99/max and the errors.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/imsid/imsid/internal/soak"
)

func main() {
	bin := flag.String("bin", "bin/imsid", "imsid binary")
	scenario := flag.String("scenario", "simulator/scenarios/store-day.yaml", "simulator scenario")
	rate := flag.Float64("rate", 500, "GET /v1/status per second")
	dur := flag.Duration("time", 30*time.Second, "how long to load")
	every := flag.Duration("switch-every", 3*time.Second, "force a switch this often (0: never)")
	speed := flag.Float64("speed", 10, "simulator speed")
	maxRSS := flag.Float64("max-rss", 0, "fail if imsid's peak RSS during the run exceeds this many MiB (0: no check)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, *bin, *scenario, *rate, *dur, *every, *speed, *maxRSS)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, bin, scenario string, rate float64, dur, every time.Duration, speed, maxRSS float64) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "loadtest:", err); return 1 }
	dir, err := os.MkdirTemp("", "imsid-load-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	state := filepath.Join(dir, "state")
	token := "loadtest-" + fmt.Sprint(time.Now().UnixNano())
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		return fail(err)
	}
	addr, err := freePort()
	if err != nil {
		return fail(err)
	}
	// The generated config, with a TCP listener that wants the token for
	// reads too, and a switch cap and dwell that let a forced switch through
	// every few seconds.
	out, err := exec.CommandContext(ctx, bin, "--simulate", scenario, "--print-config", "--state-dir", state).Output()
	if err != nil {
		return fail(fmt.Errorf("%s --print-config: %w", bin, err))
	}
	cfg := string(out)
	// The generated config holds only what the scenario dictates (every
	// policy knob is the product default), so the edits anchor on its
	// section headers.
	for old, repl := range map[string]string{
		"\napi:\n":    fmt.Sprintf("\napi:\n  listen: %q\n  token_file: %q\n  token_for_reads: true\n", addr, tokenFile),
		"\npolicy:\n": "\npolicy:\n  switch_cap: {max: 10000, window: 1h}\n  min_dwell: 1s\n",
	} {
		if !strings.Contains(cfg, old) {
			return fail(fmt.Errorf("generated config has no %q section; update cmd/loadtest", strings.TrimSpace(old)))
		}
		cfg = strings.Replace(cfg, old, repl, 1)
	}
	cfg += "log: {level: warn}\n"
	cfgFile := filepath.Join(dir, "imsid.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return fail(err)
	}
	p, err := soak.StartSimulated(ctx, bin, scenario, dir, "--config", cfgFile, "--speed", fmt.Sprint(speed))
	if err != nil {
		return fail(err)
	}
	defer p.Stop()
	base := "http://" + addr
	// At most 48 connections: the TCP listener holds 64 at a time
	// (api.DefaultMaxTCPConns) and leaves the rest in the kernel's backlog
	// until one closes, which a keep-alive connection does only after 30 s
	// idle. With no cap, a stall made the generator open more than 64 and
	// the extra requests timed out after 5 s (4-2571 of 15 000 when the
	// machine was loaded). Beyond 48 in flight, requests wait here for a
	// connection; their latency still counts from when they were due.
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConns: 48, MaxIdleConnsPerHost: 48, MaxConnsPerHost: 48}}
	if err := p.WaitReady(ctx, c, base+"/readyz", 90*time.Second); err != nil {
		return fail(err)
	}
	profiles, err := profileNames(ctx, c, base, token)
	if err != nil || len(profiles) < 2 {
		return fail(fmt.Errorf("GET /v1/profiles: %v (%d profiles; need 2 to switch)", err, len(profiles)))
	}
	cpu0, _ := soak.ReadProc(p.Pid())

	// The switcher: POST /v1/switch to the next profile every few seconds.
	swCtx, stopSw := context.WithCancel(ctx)
	swDone := make(chan map[string]int, 1)
	var switchedAt []time.Duration
	loadStart := time.Now()
	go func() {
		codes := map[string]int{}
		defer func() { swDone <- codes }()
		if every <= 0 {
			return
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for i := 1; ; i++ {
			select {
			case <-swCtx.Done():
				return
			case <-t.C:
			}
			body, _ := json.Marshal(map[string]string{"profile": profiles[i%len(profiles)], "reason": "loadtest"})
			req, _ := http.NewRequestWithContext(swCtx, http.MethodPost, base+"/v1/switch", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				if swCtx.Err() != nil {
					return // the run ended with this one in flight
				}
				codes["error"]++
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[resp.Status]++
			if resp.StatusCode/100 == 2 {
				switchedAt = append(switchedAt, time.Since(loadStart).Round(time.Millisecond))
			}
		}
	}()

	var peak, peakAnon uint64
	rssCtx, stopRSS := context.WithCancel(ctx)
	rssDone := make(chan struct{})
	go func() {
		defer close(rssDone)
		for {
			if st, err := soak.ReadProc(p.Pid()); err == nil {
				if st.RSS > peak {
					peak, peakAnon = st.RSS, st.Anon
				}
			}
			select {
			case <-rssCtx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()

	load, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(load)); len(f) >= 3 {
		fmt.Printf("loadtest: machine load average %s %s %s\n", f[0], f[1], f[2])
	}
	fmt.Printf("loadtest: GET /v1/status (bearer token, TCP %s) at %.0f/s for %s, a forced switch every %s, simulator at %gx\n",
		addr, rate, dur, every, speed)
	res := soak.Load(ctx, c, rate, dur, func(ctx context.Context) *http.Request {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/status", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return req
	})
	stopSw()
	codes := <-swDone
	stopRSS()
	<-rssDone
	cpu1, _ := soak.ReadProc(p.Pid())
	if exited, err := p.Exited(); exited {
		return fail(fmt.Errorf("imsid exited during the run (%v):\n%s", err, p.Tail(20)))
	}
	ok := len(res.Latencies)
	fmt.Printf("requests %d, ok %d, errors %d, achieved %.0f/s\n", res.Sent, ok, res.Errors, float64(res.Sent)/res.Elapsed.Seconds())
	fmt.Printf("latency p50 %s  p90 %s  p99 %s  max %s\n", round(soak.Percentile(res.Latencies, 50)),
		round(soak.Percentile(res.Latencies, 90)), round(soak.Percentile(res.Latencies, 99)), round(soak.Percentile(res.Latencies, 100)))
	fmt.Printf("forced switches: %v, accepted at %v\n", codes, switchedAt)
	fmt.Print("slowest (due at → latency):")
	for _, s := range res.Slowest {
		fmt.Printf(" %s→%s", s.At.Round(time.Millisecond), round(s.Latency))
	}
	fmt.Println()
	// The limit is checked on VmHWM, the kernel's own high-water mark since
	// the start: unlike the 0.5 s samples, it cannot miss a peak.
	sampled := peak
	peak = max(peak, cpu1.HWM)
	fmt.Printf("imsid: CPU %.0f%% of one core during the run, peak RSS (VmHWM) %s MiB; highest sample %s MiB, %s of it anonymous\n",
		100*(cpu1.CPU-cpu0.CPU).Seconds()/res.Elapsed.Seconds(), soak.MiB(peak), soak.MiB(sampled), soak.MiB(peakAnon))
	code := 0
	if res.Errors > 0 {
		fmt.Fprintln(os.Stderr, "loadtest: first error:", res.FirstErr)
		code = 1
	}
	if maxRSS > 0 {
		if float64(peak) > maxRSS*(1<<20) {
			fmt.Fprintf(os.Stderr, "loadtest: imsid's peak RSS %s MiB is over the %g MiB limit\n", soak.MiB(peak), maxRSS)
			code = 1
		} else {
			fmt.Printf("loadtest: peak RSS %s MiB within the %g MiB limit\n", soak.MiB(peak), maxRSS)
		}
	}
	return code
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Millisecond {
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func profileNames(ctx context.Context, c *http.Client, base, token string) ([]string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/profiles", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Status, b)
	}
	var names []string
	// The body is {"profiles": [{"name": ...}, ...]} or a bare list.
	var wrapped struct {
		Profiles []struct{ Name string } `json:"profiles"`
	}
	var bare []struct{ Name string }
	if json.Unmarshal(b, &wrapped) == nil && len(wrapped.Profiles) > 0 {
		for _, p := range wrapped.Profiles {
			names = append(names, p.Name)
		}
	} else if err := json.Unmarshal(b, &bare); err == nil {
		for _, p := range bare {
			names = append(names, p.Name)
		}
	} else {
		return nil, fmt.Errorf("GET /v1/profiles: %w", err)
	}
	return names, nil
}
