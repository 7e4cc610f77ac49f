package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ptyModem serves the replies table on a real pseudo-terminal so that the
// real serial opener (go.bug.st/serial) is exercised. Real time, short
// timeouts: this is the one place the CLI meets a tty.
func ptyModem(t *testing.T, table map[string][]string, dropAfter string) string {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	path := slave.Name()
	// Keep our slave fd open: with no slave open, reads on the master fail
	// with EIO before the probe has opened the path.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(master)
		sc.Split(scanCRLF)
		for sc.Scan() {
			cmd := strings.TrimSpace(sc.Text())
			if cmd == "" {
				continue
			}
			if cmd == dropAfter {
				master.Close()
				return
			}
			r, ok := table[cmd]
			if !ok {
				r = []string{"ERROR"}
			}
			for _, l := range r {
				io.WriteString(master, "\r\n"+l+"\r\n")
			}
		}
	}()
	t.Cleanup(func() {
		master.Close()
		slave.Close()
		wg.Wait()
	})
	return path
}

func scanCRLF(data []byte, atEOF bool) (int, []byte, error) {
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

func TestProbeOverPTY(t *testing.T) {
	path := ptyModem(t, replies, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb strings.Builder
	code := run(ctx, []string{"probe", "--device", path, "--json", "--reveal", "--timeout", "15s"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"imsi": "262011234567890"`) {
		t.Fatalf("output:\n%s", out.String())
	}
}

func TestProbePortLostOverPTY(t *testing.T) {
	path := ptyModem(t, replies, "AT+CIMI")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb strings.Builder
	start := time.Now()
	code := run(ctx, []string{"probe", "--device", path, "--timeout", "15s"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), path) || !strings.Contains(errb.String(), "port lost") {
		t.Fatalf("exit %d: %s\n%s", code, errb.String(), out.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestProbeMissingDevice(t *testing.T) {
	var out, errb strings.Builder
	path := t.TempDir() + "/ttyUSB9"
	code := run(context.Background(), []string{"probe", "--device", path}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), path) {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}
