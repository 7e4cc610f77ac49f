package daemon

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/imsid/imsid/profiles"
)

type fakeSyslog struct{ lines []string }

func (f *fakeSyslog) Err(s string) error     { f.lines = append(f.lines, "err "+s); return nil }
func (f *fakeSyslog) Warning(s string) error { f.lines = append(f.lines, "warning "+s); return nil }
func (f *fakeSyslog) Info(s string) error    { f.lines = append(f.lines, "info "+s); return nil }
func (f *fakeSyslog) Debug(s string) error   { f.lines = append(f.lines, "debug "+s); return nil }

func logAll(l *slog.Logger) {
	l = l.With("component", "test").WithGroup("g")
	l.Error("e", "k", 1)
	l.Warn("w")
	l.Info("i")
	l.Debug("d")
}

func noEnv(string) string { return "" }

func TestLoggerJournaldPriorities(t *testing.T) {
	for name, tc := range map[string]struct {
		c      profiles.Log
		getenv func(string) string
	}{
		"journald": {profiles.Log{Format: profiles.LogText, Level: slog.LevelDebug, Output: profiles.LogJournald}, noEnv},
		"auto under systemd": {profiles.Log{Format: profiles.LogText, Level: slog.LevelDebug, Output: profiles.LogAuto},
			func(k string) string { return map[string]string{"JOURNAL_STREAM": "8:12345"}[k] }},
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			logAll(newLogger(&b, tc.c, tc.getenv, nil))
			lines := strings.Split(strings.TrimSpace(b.String()), "\n")
			want := []string{"<3>level=ERROR msg=e component=test g.k=1", "<4>level=WARN msg=w component=test", "<6>level=INFO msg=i", "<7>level=DEBUG msg=d"}
			if len(lines) != 4 {
				t.Fatalf("%q", lines)
			}
			for i, w := range want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d %q, want prefix %q", i, lines[i], w)
				}
				if strings.Contains(lines[i], "time=") {
					t.Errorf("line %d repeats the journal's time: %q", i, lines[i])
				}
			}
		})
	}
}

func TestLoggerPlainStderr(t *testing.T) {
	var b bytes.Buffer
	logAll(newLogger(&b, profiles.Log{Format: profiles.LogJSON, Level: slog.LevelInfo, Output: profiles.LogAuto}, noEnv, nil))
	if s := b.String(); strings.Contains(s, "<") || !strings.Contains(s, `"time":`) || strings.Contains(s, `"msg":"d"`) {
		t.Fatalf("%s", s)
	}
}

func TestLoggerSyslog(t *testing.T) {
	f := &fakeSyslog{}
	var b bytes.Buffer
	logAll(newLogger(&b, profiles.Log{Format: profiles.LogText, Level: slog.LevelInfo, Output: profiles.LogSyslog}, noEnv,
		func() (syslogSink, error) { return f, nil }))
	want := []string{"err level=ERROR msg=e component=test g.k=1", "warning level=WARN msg=w component=test", "info level=INFO msg=i component=test"}
	if len(f.lines) != len(want) || b.Len() != 0 {
		t.Fatalf("syslog %q, stderr %q", f.lines, b.String())
	}
	for i, w := range want {
		if f.lines[i] != w {
			t.Errorf("%q, want %q", f.lines[i], w)
		}
	}
	// No syslog socket: stderr, with the priorities, and a word about it.
	b.Reset()
	l := newLogger(&b, profiles.Log{Format: profiles.LogText, Level: slog.LevelInfo, Output: profiles.LogSyslog}, noEnv,
		func() (syslogSink, error) { return nil, errors.New("no /dev/log") })
	l.Error("boom")
	if s := b.String(); !strings.HasPrefix(s, "<4>level=WARN msg=\"log.output syslog: no syslog socket") || !strings.Contains(s, "<3>level=ERROR msg=boom") {
		t.Fatalf("%s", s)
	}
}
