package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/apiclient"
	"github.com/imsid/imsid/profiles"
)

// Speeds: the normal one shows the day in a little over a minute; the
// fast one is for CI.
const (
	DefaultSpeed = 600
	FastSpeed    = 720
)

// Options configure Run. Imsid, Imsictl and Scenario are required.
type Options struct {
	Imsid    string // path of the imsid binary
	Imsictl  string // path of the imsictl binary
	Scenario string // the scenario file
	// Speed is scenario seconds per wall second (default DefaultSpeed).
	Speed float64
	// Day is how much scenario time to run (default DayLength).
	Day time.Duration
	// PinAt is when the operator pins PinProfile for PinFor (defaults:
	// 16:00, the second profile by priority, 2 h). Negative: no pin.
	PinAt      time.Duration
	PinProfile string
	PinFor     time.Duration
	// Episodes are drawn on the picture (default: StoreDayEpisodes when
	// the scenario is store-day.yaml).
	Episodes []Episode
	// Poll is how often (wall time) status and scores are sampled
	// (default 100 ms).
	Poll time.Duration
	// WorkDir holds the daemon's state, socket and log (default: a new
	// temporary directory, removed afterwards).
	WorkDir string
	// Progress receives the live lines (nil: none).
	Progress io.Writer
	// StartTimeout bounds the wait for the daemon's API (default 30 s).
	StartTimeout time.Duration
}

// Result is a finished run.
type Result struct {
	Timeline Timeline
	Summary  Summary
	// Log is the daemon's output, kept when the run failed (else empty).
	Log string
}

// Run starts the daemon on the scenario, follows it through its API until
// the day is over, stops it and returns what it saw. Everything it learns
// comes through the public surfaces: the HTTP API on the unix socket, its
// event stream, `imsictl` and `imsid --print-config`.
func Run(ctx context.Context, o Options) (res Result, err error) {
	if o.Imsid == "" || o.Imsictl == "" || o.Scenario == "" {
		return res, errors.New("demo: Imsid, Imsictl and Scenario are required")
	}
	if o.Speed <= 0 {
		o.Speed = DefaultSpeed
	}
	if o.Day <= 0 {
		o.Day = DayLength
	}
	if o.PinAt == 0 {
		o.PinAt = 9 * time.Hour
	}
	if o.PinFor <= 0 {
		o.PinFor = 2 * time.Hour
	}
	if o.Episodes == nil && filepath.Base(o.Scenario) == "store-day.yaml" {
		o.Episodes = StoreDayEpisodes
	}
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 30 * time.Second
	}
	dir := o.WorkDir
	if dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return res, fmt.Errorf("demo: %w", err)
		}
	} else {
		if dir, err = os.MkdirTemp("", "imsid-demo-"); err != nil {
			return res, fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	tariffs, err := readTariffs(ctx, o)
	if err != nil {
		return res, err
	}

	stateDir := filepath.Join(dir, "state")
	socket := filepath.Join(stateDir, "imsid.sock")
	logPath := filepath.Join(dir, "imsid.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return res, fmt.Errorf("demo: %w", err)
	}
	defer logf.Close()
	defer func() {
		if err != nil {
			data, _ := os.ReadFile(logPath)
			res.Log = tail(string(data), 40)
		}
	}()

	cmd := exec.Command(o.Imsid, "--simulate", o.Scenario, "--speed", strconv.FormatFloat(o.Speed, 'f', -1, 64), "--state-dir", stateDir)
	cmd.Stdout, cmd.Stderr = logf, logf
	dieWithUs(cmd)
	launched := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("demo: start imsid: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("imsid did not stop within 15s of SIGTERM; killed")
		}
	}
	defer func() { _ = stop() }()

	cl, err := apiclient.New(apiclient.Options{Socket: socket, Timeout: 5 * time.Second, UserAgent: "imsid-demo"})
	if err != nil {
		return res, fmt.Errorf("demo: %w", err)
	}
	defer cl.Close()

	rec := newRecorder(o.Speed, launched, o.Progress)
	if err := waitAPI(ctx, cl, exited, o.StartTimeout); err != nil {
		stopped = errors.Is(err, errExited) // else the deferred stop ends it
		return res, err
	}

	// The event stream, in its own goroutine, stopped before Run returns.
	events := make(chan api.Event, 256)
	sctx, cancelStream := context.WithCancel(ctx)
	streamDone := make(chan error, 1)
	go func() {
		// After 1: replay what the daemon did before we connected (its
		// IDs start high, so 1 means "everything you still hold").
		streamDone <- cl.Follow(sctx, apiclient.FollowOptions{After: 1, MaxDelay: time.Second}, func(ev api.Event) error {
			select {
			case events <- ev:
				return nil
			case <-sctx.Done():
				return sctx.Err()
			}
		})
	}()
	defer func() {
		cancelStream()
		<-streamDone
	}()

	tick := time.NewTicker(o.Poll)
	defer tick.Stop()
	pinned := o.PinAt < 0
	for done := false; !done; {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case err := <-exited:
			stopped = true
			return res, fmt.Errorf("demo: imsid exited before the end of the day: %v", err)
		case ev := <-events:
			if err := rec.event(time.Now(), ev); err != nil {
				fmt.Fprintln(o.Progress, "demo:", err)
			}
		case now := <-tick.C:
			if err := poll(ctx, cl, rec); err != nil {
				fmt.Fprintln(o.Progress, "demo: poll:", err)
			}
			off := rec.offWall(now)
			if !pinned && off >= o.PinAt {
				pinned = true
				pin(ctx, o, socket, rec)
			}
			done = off >= o.Day
		}
	}
	// Drain what the stream already holds, then take the day's usage.
	for drained := false; !drained; {
		select {
		case ev := <-events:
			_ = rec.event(time.Now(), ev)
		default:
			drained = true
		}
	}
	t := rec.timeline("imsid store day", o.Day)
	t.Tariffs = tariffs
	t.Episodes = o.Episodes
	if st, err := cl.Status(ctx); err == nil {
		t.Usage = map[string]int64{}
		for _, u := range st.Usage {
			t.Usage[u.Profile] = u.UsedBytes
		}
	}
	cancelStream()
	if err := stop(); err != nil {
		fmt.Fprintln(o.Progress, "demo: imsid stopped:", err)
	}
	return Result{Timeline: t, Summary: Summarize(t)}, nil
}

var errExited = errors.New("imsid exited")

// waitAPI waits until the daemon answers on its socket.
func waitAPI(ctx context.Context, cl *apiclient.Client, exited <-chan error, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		if _, err := cl.Status(ctx); err == nil {
			return nil
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-exited:
			return fmt.Errorf("demo: %w before its API came up: %v", errExited, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("demo: imsid's API did not answer within %v: %v", limit, last)
}

func poll(ctx context.Context, cl *apiclient.Client, rec *recorder) error {
	st, err := cl.Status(ctx)
	if err != nil {
		return err
	}
	ps, err := cl.Profiles(ctx)
	if err != nil {
		return err
	}
	// Paired with the moment the answer arrived: the status stamp is no
	// newer than that, which is what the clock estimate relies on.
	rec.sample(time.Now(), st, ps)
	return nil
}

// pin holds a profile through imsictl, as an operator would.
func pin(ctx context.Context, o Options, socket string, rec *recorder) {
	prof := o.PinProfile
	if prof == "" {
		if len(rec.profiles) < 2 {
			rec.operator(time.Now(), "no second profile to pin")
			return
		}
		prof = rec.profiles[1]
	}
	args := []string{"--socket", socket, "--json", "pin", prof, "--for", o.PinFor.String()}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	c := exec.CommandContext(cctx, o.Imsictl, args...)
	c.Stdout, c.Stderr = &out, &errb
	at := time.Now()
	err := c.Run()
	text := "imsictl pin " + prof + " --for " + shortDur(o.PinFor)
	var ack api.Ack
	switch {
	case err != nil:
		text += ": failed (" + err.Error() + "): " + firstLine(errb.String())
	case json.Unmarshal(out.Bytes(), &ack) != nil:
		text += ": " + firstLine(out.String())
	default:
		text += ": " + ack.Status
	}
	rec.operator(at, text)
}

// readTariffs asks imsid for the config it will generate and reads each
// profile's per-MB price from it.
func readTariffs(ctx context.Context, o Options) (map[string]Tariff, error) {
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	c := exec.CommandContext(cctx, o.Imsid, "--simulate", o.Scenario, "--print-config")
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("demo: imsid --print-config: %v: %s", err, strings.TrimSpace(errb.String()))
	}
	cfg, err := profiles.Parse("imsid --print-config", out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	t := map[string]Tariff{}
	for _, p := range cfg.Profiles {
		per := float64(p.Cost.PerMB.Micros) / 1e6
		if p.Roaming {
			per += float64(p.Cost.RoamingPerMB.Micros) / 1e6
		}
		cur := p.Cost.PerMB.Currency
		if cur == "" {
			cur = p.Cost.Currency
		}
		t[p.Name] = Tariff{PerMB: per, Currency: cur}
	}
	return t, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
