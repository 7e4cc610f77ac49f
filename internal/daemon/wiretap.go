package daemon

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/imsid/imsid/internal/api"
)

// wireTap times AT commands on the wire for the metrics: from the command
// line written to the final result code read. The driver does not expose
// per-command timings, and the wire is the one place every command passes.
// It looks only at final result codes, never at the data, and a command
// overtaken by the next one without a result counts as a timeout.
type wireTap struct {
	rwc io.ReadWriteCloser
	m   *api.Metrics

	mu      sync.Mutex
	out     []byte // partial command line written
	in      []byte // partial line read
	cmd     string
	started time.Time
}

func newWireTap(rwc io.ReadWriteCloser, m *api.Metrics) io.ReadWriteCloser {
	if m == nil {
		return rwc
	}
	return &wireTap{rwc: rwc, m: m}
}

func (t *wireTap) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.out = append(t.out, p...)
	for {
		i := bytes.IndexByte(t.out, '\r')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(t.out[:i]))
		t.out = t.out[i+1:]
		if len(line) >= 2 && strings.EqualFold(line[:2], "AT") {
			if t.cmd != "" {
				t.m.ObserveATCommand(t.cmd, time.Since(t.started), "timeout")
			}
			t.cmd, t.started = line, time.Now()
		}
	}
	if len(t.out) > 4096 { // an APDU payload without CR; never grow without bound
		t.out = t.out[:0]
	}
	t.mu.Unlock()
	return t.rwc.Write(p)
}

func (t *wireTap) Read(p []byte) (int, error) {
	n, err := t.rwc.Read(p)
	if n > 0 {
		t.mu.Lock()
		t.in = append(t.in, p[:n]...)
		for {
			i := bytes.IndexAny(t.in, "\r\n")
			if i < 0 {
				break
			}
			line := strings.TrimSpace(string(t.in[:i]))
			t.in = t.in[i+1:]
			if kind, final := resultKind(line); final && t.cmd != "" {
				t.m.ObserveATCommand(t.cmd, time.Since(t.started), kind)
				t.cmd = ""
			}
		}
		if len(t.in) > 4096 {
			t.in = t.in[:0]
		}
		t.mu.Unlock()
	}
	return n, err
}

func (t *wireTap) Close() error { return t.rwc.Close() }

// resultKind classifies a final result code (V.250 §5.7.2, 27.007 §9.2).
func resultKind(line string) (kind string, final bool) {
	switch {
	case line == "OK":
		return "", true
	case line == "ERROR":
		return "error", true
	case strings.HasPrefix(line, "+CME ERROR:"):
		return "cme", true
	case strings.HasPrefix(line, "+CMS ERROR:"):
		return "cms", true
	}
	return "", false
}
