package modem

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeModem plays a transcript against the engine over net.Pipe:
//
//	> AT+CIMI          wait for this command line from the host
//	< 001010123456789  reply line
//	! +CEREG: 5        unsolicited line (written the same way; named apart for readers)
//	@ 5s               let (bubble) time pass before the next step
//	~ close            drop the port
//	# comment
//
// Commands the transcript does not expect but that are in defaults (the
// engine's start-up and resync probes) are answered from there, so
// transcripts show only what they are about.
type fakeModem struct {
	t        *testing.T
	conn     net.Conn
	steps    []string
	defaults map[string][]string
	done     chan struct{}
	mu       sync.Mutex
	got      []string // every command line received, in order
}

var startupDefaults = map[string][]string{
	"AT":            {"OK"},
	"ATE0":          {"OK"},
	"AT+CMEE=1":     {"OK"},
	"AT+CMEE?":      {"+CMEE: 1", "OK"},
	"AT+CREG=3":     {"OK"},
	"AT+CGREG=3":    {"OK"},
	"AT+CEREG=3":    {"OK"},
	"AT+CGEREP=2,1": {"OK"},
}

func parseTranscript(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		out = append(out, strings.TrimLeft(l, " \t"))
	}
	return out
}

func loadTranscript(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseTranscript(string(b))
}

// startFake returns the host end of a pipe with a fake modem playing steps
// on the other end.
func startFake(t *testing.T, steps []string) (*fakeModem, net.Conn) {
	return startFakeWith(t, steps, nil)
}

// startFakeWith is startFake with extra default answers (an empty answer
// means the fake stays silent on that command).
func startFakeWith(t *testing.T, steps []string, extra map[string][]string) (*fakeModem, net.Conn) {
	defaults := startupDefaults
	if len(extra) > 0 {
		defaults = make(map[string][]string, len(startupDefaults)+len(extra))
		for k, v := range startupDefaults {
			defaults[k] = v
		}
		for k, v := range extra {
			defaults[k] = v
		}
	}
	host, dev := net.Pipe()
	f := &fakeModem{t: t, conn: dev, steps: steps, defaults: defaults, done: make(chan struct{})}
	go f.run()
	t.Cleanup(func() {
		dev.Close()
		<-f.done
	})
	return f, host
}

func (f *fakeModem) write(line string) bool {
	_, err := io.WriteString(f.conn, "\r\n"+line+"\r\n")
	return err == nil
}

func (f *fakeModem) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

func (f *fakeModem) run() {
	defer close(f.done)
	lines := make(chan string)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(f.conn)
		sc.Split(scanCR)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" {
				select {
				case lines <- l:
				case <-quit:
					return
				}
			}
		}
	}()
	next := func() (string, bool) {
		l, ok := <-lines
		if ok {
			f.mu.Lock()
			f.got = append(f.got, l)
			f.mu.Unlock()
		}
		return l, ok
	}
	for i := 0; i < len(f.steps); i++ {
		st := f.steps[i]
		if len(st) < 2 {
			continue
		}
		arg := strings.TrimSpace(st[1:])
		switch st[0] {
		case '>':
			for {
				l, ok := next()
				if !ok {
					return
				}
				if l == arg {
					break
				}
				if r, ok := f.defaults[l]; ok {
					for _, x := range r {
						f.write(x)
					}
					continue
				}
				f.t.Errorf("fake modem: step %d: want %q, got %q", i, arg, l)
				f.write("ERROR")
			}
		case '<', '!':
			if !f.write(arg) {
				return
			}
		case '@':
			d, err := time.ParseDuration(arg)
			if err != nil {
				f.t.Errorf("fake modem: bad step %q", st)
				return
			}
			time.Sleep(d)
		case '~':
			f.conn.Close()
			for range lines {
			}
			return
		}
	}
	// Transcript over: keep answering the defaults until the host leaves.
	for {
		l, ok := next()
		if !ok {
			return
		}
		if r, ok := f.defaults[l]; ok {
			for _, x := range r {
				f.write(x)
			}
			continue
		}
		f.write("ERROR")
	}
}

// scanCR splits on CR or LF (the host ends commands with CRLF).
func scanCR(data []byte, atEOF bool) (int, []byte, error) {
	for i, c := range data {
		if c == '\r' || c == '\n' {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// newTestModem starts a session against steps with the generic dialect (no
// identity probing, so transcripts need not spell it out).
func newTestModem(t *testing.T, steps []string, opts ...Option) (*Modem, *fakeModem) {
	t.Helper()
	f, host := startFake(t, steps)
	m, err := New(context.Background(), host, append([]Option{WithDialect(DialectGeneric)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m, f
}
