package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Event names what happened; hooks read it from IMSID_EVENT.
type Event string

// Events.
const (
	// LinkUp: the data path works (probes pass) on the active profile.
	LinkUp Event = "link-up"
	// LinkDown: the data path stopped working (or the modem went away).
	LinkDown Event = "link-down"
	// LinkReconnect: owner external, a switch or a modem reset happened;
	// the owner of the data session should reconnect it now.
	LinkReconnect Event = "link-reconnect"
	// LinkRenew: owner imsid with renew: hook; the session is up, renew
	// the interface's address (DHCP, ifup).
	LinkRenew Event = "link-renew"
	// LinkIsolate: registered outside the allowlist with nowhere allowed
	// to go, no data may flow (IMSID_RESULT=on): take the session down;
	// IMSID_RESULT=off when it may flow again (a link-reconnect or
	// bring-up follows).
	LinkIsolate Event = "link-isolate"
	// SwitchStart: a profile switch begins (IMSID_FROM, IMSID_TO).
	SwitchStart Event = "switch-start"
	// SwitchEnd: a switch ended; IMSID_RESULT is verified, rolled-back,
	// failed or aborted.
	SwitchEnd Event = "switch-end"
	// Threat: a threat alert (IMSID_REASON the rule, IMSID_LEVEL).
	Threat Event = "threat"
	// Pin: an operator pinned or unpinned a profile (IMSID_RESULT pinned
	// or unpinned).
	Pin Event = "pin"
)

// Facts are what a hook is told. None is an identifier of the SIM: an
// IMSI or ICCID never reaches a hook in clear.
type Facts struct {
	Event     Event
	Profile   string // the active profile (after the event)
	From, To  string // switch events
	APN       string
	PLMN      string
	Interface string
	Address   string // the interface's address, if known
	Owner     string // link owner: imsid or external
	Reason    string // decision or rule code
	Result    string
	Level     string // threat level
}

// Env returns the environment variables a hook receives for f.
func (f Facts) Env() []string {
	kv := [][2]string{
		{"IMSID_EVENT", string(f.Event)}, {"IMSID_PROFILE", f.Profile}, {"IMSID_FROM", f.From}, {"IMSID_TO", f.To},
		{"IMSID_APN", f.APN}, {"IMSID_PLMN", f.PLMN}, {"IMSID_INTERFACE", f.Interface}, {"IMSID_ADDRESS", f.Address},
		{"IMSID_OWNER", f.Owner}, {"IMSID_REASON", f.Reason}, {"IMSID_RESULT", f.Result}, {"IMSID_LEVEL", f.Level},
	}
	out := make([]string, 0, len(kv))
	for _, p := range kv {
		out = append(out, p[0]+"="+clean(p[1]))
	}
	return out
}

// clean keeps a value to one printable line, so a hook that does
// `eval`-free parsing of its environment cannot be confused.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// Sentinel errors in a Result.
var (
	// ErrTimeout: the hook ran past the timeout; its process group was killed.
	ErrTimeout = errors.New("hooks: timed out")
	// ErrFailed: the hook exited non-zero.
	ErrFailed = errors.New("hooks: exited with an error")
)

// Result is one hook's run.
type Result struct {
	Hook     string        `json:"hook"`
	Event    Event         `json:"event"`
	At       time.Time     `json:"at"`
	Duration time.Duration `json:"duration_ns"`
	ExitCode int           `json:"exit_code"`
	// Output is the hook's stdout and stderr, at most MaxOutput bytes.
	Output string `json:"output,omitempty"`
	Err    error  `json:"-"`
}

// OK reports whether the hook exited 0 in time.
func (r Result) OK() bool { return r.Err == nil }

// Outcome is "ok", "failed" or "timeout".
func (r Result) Outcome() string {
	switch {
	case r.Err == nil:
		return "ok"
	case errors.Is(r.Err, ErrTimeout):
		return "timeout"
	}
	return "failed"
}

// MaxOutput bounds the output kept and logged per hook run.
const MaxOutput = 4096

// Runner runs the hooks of one directory. The zero Runner (no directory)
// runs nothing. Safe for concurrent use.
type Runner struct {
	Dir     string
	Timeout time.Duration
	Log     *slog.Logger
	// Now is the clock results are stamped with (default time.Now).
	Now func() time.Time
}

// Hooks lists the executables of the directory in name order: regular
// files (or links to them) with an execute bit, not hidden, not editor
// backups (~, .bak, .swp, .dpkg-*, .rpm*, .orig).
func (r *Runner) Hooks() ([]string, error) {
	if r == nil || r.Dir == "" {
		return nil, nil
	}
	ents, err := os.ReadDir(r.Dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if skipName(n) {
			continue
		}
		p := filepath.Join(r.Dir, n)
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
			continue
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

func skipName(n string) bool {
	if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
		return true
	}
	for _, suf := range []string{".bak", ".swp", ".orig", ".rpmnew", ".rpmsave"} {
		if strings.HasSuffix(n, suf) {
			return true
		}
	}
	return strings.Contains(n, ".dpkg-")
}

// Run runs every hook for f, one after another, and returns their
// results. It blocks for at most the number of hooks times the timeout;
// callers run it off the control loop.
func (r *Runner) Run(ctx context.Context, f Facts) []Result {
	hooks, err := r.Hooks()
	if err != nil {
		r.log().Warn("hooks directory unreadable", "dir", r.Dir, "err", err)
		return nil
	}
	var out []Result
	for _, h := range hooks {
		if ctx.Err() != nil {
			break
		}
		out = append(out, r.Exec(ctx, []string{h}, f))
	}
	return out
}

// Exec runs one program (argv) with f's environment, under the timeout,
// and logs the outcome and output. The DHCP renewal uses it too.
func (r *Runner) Exec(ctx context.Context, argv []string, f Facts) Result {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	res := Result{Hook: filepath.Base(argv[0]), Event: f.Event, At: now()}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
	cmd.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, f.Env()...)
	cmd.Dir = "/"
	out := &capped{max: MaxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	setGroup(cmd)
	start := time.Now()
	err := cmd.Run()
	res.Duration = time.Since(start)
	res.Output = out.String()
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	switch {
	case err == nil:
	case cctx.Err() != nil && ctx.Err() == nil:
		res.Err = fmt.Errorf("%w after %s", ErrTimeout, timeout)
	case cmd.ProcessState != nil:
		res.Err = fmt.Errorf("%w: exit code %d", ErrFailed, res.ExitCode)
	default:
		res.Err = fmt.Errorf("%w: %w", ErrFailed, err)
	}
	r.logResult(res)
	return res
}

func (r *Runner) logResult(res Result) {
	lg := r.log()
	args := []any{"hook", res.Hook, "event", string(res.Event), "outcome", res.Outcome(),
		"duration", res.Duration.Round(time.Millisecond)}
	if res.Output != "" {
		args = append(args, "output", res.Output)
	}
	if res.Err != nil {
		lg.Warn("hook failed", append(args, "err", res.Err)...)
		return
	}
	lg.Info("hook ran", args...)
}

func (r *Runner) log() *slog.Logger {
	if r == nil || r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

// capped keeps the first max bytes written and notes that more came.
type capped struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (c *capped) Write(p []byte) (int, error) {
	room := c.max - c.buf.Len()
	if room <= 0 {
		c.truncated = c.truncated || len(p) > 0
		return len(p), nil
	}
	if len(p) > room {
		c.buf.Write(p[:room])
		c.truncated = true
		return len(p), nil
	}
	c.buf.Write(p)
	return len(p), nil
}

func (c *capped) String() string {
	s := strings.TrimRight(c.buf.String(), "\n")
	if c.truncated {
		s += " …[truncated]"
	}
	return s
}
