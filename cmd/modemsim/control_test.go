package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/simulator/ptyport"
)

const basicScenario = "../../simulator/scenarios/basic.yaml"

// newController builds a modem on a manual clock, with no port served
// (URCs are then lost, as on a real modem nobody listens to).
func newController(t testing.TB) *controller {
	t.Helper()
	sc, err := simulator.LoadScenario(basicScenario)
	if err != nil {
		t.Fatal(err)
	}
	clk := simulator.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	m, err := simulator.New(sc, simulator.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	p, err := ptyport.Open(ptyport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &controller{modem: m, clock: clk, port: p}
}

func TestParseFault(t *testing.T) {
	tests := []struct {
		in      string
		want    simulator.Fault
		wantErr string
	}{
		{in: "no_answer", want: simulator.Fault{Kind: simulator.FaultNoAnswer}},
		{in: "no_answer 1", want: simulator.Fault{Kind: simulator.FaultNoAnswer, Count: 1}},
		{in: "late_answer 2 1.5s", want: simulator.Fault{Kind: simulator.FaultLateAnswer, Count: 2, Delay: 1500 * time.Millisecond}},
		{in: "late_answer 1.5s 2", want: simulator.Fault{Kind: simulator.FaultLateAnswer, Count: 2, Delay: 1500 * time.Millisecond}},
		{in: "port_loss", want: simulator.Fault{Kind: simulator.FaultPortLoss}},
		{in: "port_loss  20s ", want: simulator.Fault{Kind: simulator.FaultPortLoss, Delay: 20 * time.Second}},
		{in: "", wantErr: "missing kind"},
		{in: "meltdown", wantErr: "meltdown"},
		{in: "no_answer x", wantErr: `"x" is neither`},
		{in: "no_answer -1", wantErr: `"-1" is neither`},
	}
	for _, tt := range tests {
		got, err := parseFault(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseFault(%q) error = %v, want one mentioning %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseFault(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseEvent(t *testing.T) {
	for _, in := range []string{
		`{"event": "outage", "network": "26201", "duration": "30s"}`,
		`{event: outage, network: "26201", duration: 30s}`,
	} {
		ev, err := parseEvent(in)
		if err != nil {
			t.Fatalf("parseEvent(%s): %v", in, err)
		}
		if ev.Kind != "outage" || ev.Network != "26201" || ev.Duration != 30*time.Second {
			t.Errorf("parseEvent(%s) = %+v", in, ev)
		}
	}
	for in, want := range map[string]string{
		``:                                    "missing the event",
		`{"network": "26201"}`:                `missing field "event"`,
		`{"event": "outage", "netwrk": "1"}`:  "netwrk",
		`{"event": "outage"`:                  "event:",
		`{"event": "signal", "over": "fast"}`: "fast",
	} {
		if _, err := parseEvent(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseEvent(%s) error = %v, want one mentioning %q", in, err, want)
		}
	}
}

func TestControllerExec(t *testing.T) {
	c := newController(t)
	for _, line := range []string{"", "help", "urc +CEREG: 2", "fault no_answer 1", "advance 30s", "log", "log 3",
		`event {"event": "signal", "network": "26201", "signal": {"rsrp": -110}}`,
		// The examples in docs/modemsim.md.
		`event {"event": "signal", "network": "26201", "signal": {"rsrp": -115}, "over": "30s"}`,
		`event {event: reject, network: "26201", cause: 15}`,
		"fault port_loss 5s", "fault late_answer 1 2s"} {
		if _, err := c.exec(line); err != nil {
			t.Errorf("exec(%q): %v", line, err)
		}
	}
	out, err := c.exec("state")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Port  portState
		Modem simulator.State
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("state is not JSON: %v\n%s", err, out)
	}
	if st.Port.Path != c.port.Path() || st.Modem.IMSI != "262011234567890" {
		t.Fatalf("state = %+v", st)
	}
	if got := st.Modem.Time; !got.Equal(time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)) {
		t.Errorf("state time %v: advance 30s did not move the manual clock", got)
	}
	if _, err := c.exec("quit"); !errors.Is(err, errQuit) {
		t.Errorf("quit = %v", err)
	}
	for line, want := range map[string]string{
		"frobnicate":    `unknown command "frobnicate"`,
		"urc":           "missing the line",
		"advance soon":  `"soon" is not a duration`,
		"advance -5s":   `"-5s" is not a duration`,
		"log many":      `"many" is not a count`,
		"event {}":      `missing field "event"`,
		"fault explode": "explode",
		`event {"event": "outage", "network": "99999"}`: "99999",
	} {
		if _, err := c.exec(line); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("exec(%q) error = %v, want one mentioning %q", line, err, want)
		}
	}

	c.clock = simulator.NewRealClock(1)
	if _, err := c.exec("advance 1s"); err == nil || !strings.Contains(err.Error(), "--speed 0") {
		t.Errorf("advance on a real clock: %v", err)
	}
}

func TestFormatLogQuotesExactBytes(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 1, 500e6, time.UTC)
	entries := []simulator.LogEntry{
		{Time: at, Dir: simulator.In, Data: []byte("AT+CSQ\r")},
		{Time: at, Dir: simulator.Out, Data: []byte("\r\n+CSQ: 27,99\r\n\r\nOK\r\n\x00")},
	}
	got := formatLog(entries, 5)
	want := "12:00:01.500 in  \"AT+CSQ\\r\"\n12:00:01.500 out \"\\r\\n+CSQ: 27,99\\r\\n\\r\\nOK\\r\\n\\x00\""
	if got != want {
		t.Errorf("formatLog:\n got %s\nwant %s", got, want)
	}
	if got := formatLog(entries, 1); strings.Contains(got, "AT+CSQ") {
		t.Errorf("log 1 shows more than the last entry: %s", got)
	}
}

func TestControlSocket(t *testing.T) {
	c := newController(t)
	sock := filepath.Join(t.TempDir(), "ctl.sock")
	srv, err := listenControl(sock, c, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := listenControl(sock, c, discardLogger()); err == nil {
		t.Fatal("a second server took over a live socket")
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	io.WriteString(conn, "urc +QIND: SMS DONE\nbogus\nstate\n")
	want := []string{"ok", `error: unknown command "bogus" (try help)`}
	for _, w := range want {
		if l, _ := r.ReadString('\n'); strings.TrimSuffix(l, "\n") != w {
			t.Fatalf("got %q, want %q", l, w)
		}
	}
	if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, `{"port":`) {
		t.Fatalf("state line %q", l)
	}
	if l, _ := r.ReadString('\n'); l != "ok\n" {
		t.Fatalf("after state: %q", l)
	}

	// A line without end is refused, not buffered forever.
	big := strings.Repeat("x", maxControlLine+10)
	go io.WriteString(conn, big)
	if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, "error: line longer") {
		t.Fatalf("oversized line: %q", l)
	}

	// Close hangs up live connections and is idempotent.
	conn2, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	srv.Close()
	srv.Close()
	_ = conn2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn2.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection survived Close")
	}
	if _, err := net.Dial("unix", sock); err == nil {
		t.Fatal("socket still accepting after Close")
	}
}

func FuzzControlExec(f *testing.F) {
	for _, s := range []string{"help", "urc +CEREG: 2", "fault no_answer 1", "fault port_loss 1s",
		`event {"event": "signal", "network": "26201", "signal": {"rsrp": -110}}`, "advance 30s", "state", "log 3",
		"event [", "event {event: reject, cause: 15}", "fault late_answer 3 2s"} {
		f.Add(s)
	}
	c := newController(f)
	f.Fuzz(func(t *testing.T, line string) {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "advance") {
			return // could legitimately run years of timeline
		}
		_, _ = c.exec(line)
	})
}
