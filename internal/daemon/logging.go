package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"os"
	"strings"
	"sync"

	"github.com/imsid/imsid/profiles"
)

// NewLogger builds the slog logger the config asks for. IMSI and ICCID values
// mask themselves (modem.IMSI/ICCID implement slog.LogValuer), and the daemon
// never logs them as plain strings; a test greps a whole run's logs for them.
// Lines carry their priority to journald or syslog per log.output.
func NewLogger(w io.Writer, c profiles.Log) *slog.Logger {
	return newLogger(w, c, os.Getenv, dialSyslog)
}

// syslogSink writes one line at a priority.
type syslogSink interface {
	Err(string) error
	Warning(string) error
	Info(string) error
	Debug(string) error
}

func dialSyslog() (syslogSink, error) {
	return syslog.New(syslog.LOG_DAEMON|syslog.LOG_INFO, "imsid")
}

func newLogger(w io.Writer, c profiles.Log, getenv func(string) string, dial func() (syslogSink, error)) *slog.Logger {
	out := c.Output
	if out == "" || out == profiles.LogAuto {
		out = profiles.LogStderr
		if getenv("JOURNAL_STREAM") != "" {
			out = profiles.LogJournald
		}
	}
	opts := &slog.HandlerOptions{Level: c.Level}
	mk := func(w io.Writer) slog.Handler {
		if c.Format == profiles.LogJSON {
			return slog.NewJSONHandler(w, opts)
		}
		return slog.NewTextHandler(w, opts)
	}
	if out == profiles.LogStderr {
		return slog.New(mk(w))
	}
	// The journal and syslog stamp each entry themselves: a second time
	// field only doubles every line.
	opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	ph := &priorityHandler{mk: mk, level: c.Level, mu: &sync.Mutex{}}
	var fallback error
	switch out {
	case profiles.LogSyslog:
		if s, err := dial(); err == nil {
			ph.emit = func(l slog.Level, line string) {
				switch {
				case l >= slog.LevelError:
					_ = s.Err(line)
				case l >= slog.LevelWarn:
					_ = s.Warning(line)
				case l >= slog.LevelInfo:
					_ = s.Info(line)
				default:
					_ = s.Debug(line)
				}
			}
			break
		} else {
			fallback = err
		}
		fallthrough
	default: // journald
		ph.emit = func(l slog.Level, line string) {
			fmt.Fprintf(w, "<%d>%s\n", priority(l), line)
		}
	}
	log := slog.New(ph)
	if fallback != nil {
		log.Warn("log.output syslog: no syslog socket; logging to stderr with priority prefixes", "err", fallback)
	}
	return log
}

// priority is the syslog priority of a slog level: err, warning, info,
// debug.
func priority(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return 3
	case l >= slog.LevelWarn:
		return 4
	case l >= slog.LevelInfo:
		return 6
	}
	return 7
}

// priorityHandler formats each record with the configured text or JSON
// handler, then hands the line and its level to emit, which carries the
// priority (a "<N>" prefix for journald, the syslog call for syslog).
type priorityHandler struct {
	mk    func(io.Writer) slog.Handler
	ops   []func(slog.Handler) slog.Handler // WithAttrs/WithGroup, replayed
	level slog.Leveler
	mu    *sync.Mutex
	emit  func(slog.Level, string)
}

func (h *priorityHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *priorityHandler) Handle(ctx context.Context, r slog.Record) error {
	var b bytes.Buffer
	inner := h.mk(&b)
	for _, op := range h.ops {
		inner = op(inner)
	}
	if err := inner.Handle(ctx, r); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.emit(r.Level, strings.TrimRight(b.String(), "\n"))
	return nil
}

func (h *priorityHandler) with(op func(slog.Handler) slog.Handler) *priorityHandler {
	c := *h
	c.ops = append(append([]func(slog.Handler) slog.Handler(nil), h.ops...), op)
	return &c
}

func (h *priorityHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return h.with(func(x slog.Handler) slog.Handler { return x.WithAttrs(as) })
}

func (h *priorityHandler) WithGroup(name string) slog.Handler {
	return h.with(func(x slog.Handler) slog.Handler { return x.WithGroup(name) })
}
