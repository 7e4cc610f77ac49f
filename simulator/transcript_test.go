package simulator

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Transcript format (simulator/testdata/transcripts/*.txt):
//
//	# comment
//	@scenario simcom.yaml          first line only; default basic.yaml
//	> AT+CIMI                      the client sends the line and CR
//	< 262011234567890              the next line the modem sends (echo included)
//	! +CEREG: 5                    the same, marking an unsolicited line
//	@wait 10s                      scenario time passes
//	@event {event: outage, network: "26201"}
//	@fault late_answer count=1 delay=0s seed=7
//	@urc +QIND: "csq",20,99
//	@assert RegStat=5 IMSI=234150999999999
//
// The test runs in a testing/synctest bubble on the real clock, so latency,
// attach delays and scans pass in no wall time. Before every '>' and at the
// end the modem must have said nothing more than the transcript expects.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { runTranscript(t, f) })
		})
	}
}

type transcriptLine struct {
	no   int
	kind string // ">", "<", "!", "@"
	text string
}

func readTranscript(t *testing.T, path string) []transcriptLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []transcriptLine
	sc := bufio.NewScanner(f)
	no := 0
	for sc.Scan() {
		no++
		l := sc.Text()
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		kind := l[:1]
		switch kind {
		case ">", "<", "!":
			out = append(out, transcriptLine{no, kind, strings.TrimPrefix(l[1:], " ")})
		case "@":
			out = append(out, transcriptLine{no, kind, l[1:]})
		default:
			t.Fatalf("%s:%d: line must start with >, <, !, @ or #", path, no)
		}
	}
	return out
}

func runTranscript(t *testing.T, path string) {
	steps := readTranscript(t, path)
	scenario := "basic.yaml"
	if len(steps) > 0 && steps[0].kind == "@" && strings.HasPrefix(steps[0].text, "scenario ") {
		scenario = strings.TrimSpace(strings.TrimPrefix(steps[0].text, "scenario "))
		steps = steps[1:]
	}
	sc, err := LoadScenario(filepath.Join("scenarios", scenario))
	if err != nil {
		sc, err = LoadScenario(filepath.Join("testdata", scenario))
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(sc, WithClock(NewRealClock(1)))
	if err != nil {
		t.Fatal(err)
	}
	client, server := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- m.Serve(ctx, server) }()
	lines := make(chan string, 4096)
	go splitLines(client, lines)
	defer func() {
		cancel()
		<-served
		client.Close()
		server.Close()
		m.Close()
	}()

	where := func(s transcriptLine) string { return fmt.Sprintf("%s:%d", filepath.Base(path), s.no) }
	expectQuiet := func(s transcriptLine) {
		synctest.Wait()
		select {
		case l := <-lines:
			t.Fatalf("%s: unexpected line from the modem before this step: %q", where(s), l)
		default:
		}
	}
	record := os.Getenv("TRANSCRIPT_RECORD") != ""
	var rec strings.Builder
	drain := func() {
		synctest.Wait()
		for {
			select {
			case l := <-lines:
				rec.WriteString("< " + l + "\n")
				continue
			default:
			}
			return
		}
	}
	if record {
		defer func() {
			drain()
			_ = os.WriteFile(path+".out", []byte(rec.String()), 0o644)
		}()
	}
	for _, s := range steps {
		if record {
			switch s.kind {
			case ">":
				drain()
				rec.WriteString("> " + s.text + "\n")
				if _, err := client.Write([]byte(s.text + "\r")); err != nil {
					t.Fatal(err)
				}
				for done := false; !done; {
					select {
					case l := <-lines:
						rec.WriteString("< " + l + "\n")
						done = l == "OK" || l == "ERROR" || strings.HasPrefix(l, "+CME ERROR")
					case <-time.After(10 * time.Minute):
						done = true
					}
				}
			case "@":
				drain()
				rec.WriteString("@" + s.text + "\n")
				runDirective(t, m, where(s), s.text)
			}
			continue
		}
		switch s.kind {
		case ">":
			expectQuiet(s)
			if _, err := client.Write([]byte(s.text + "\r")); err != nil {
				t.Fatalf("%s: write: %v", where(s), err)
			}
		case "<", "!":
			select {
			case got := <-lines:
				if got != s.text {
					t.Fatalf("%s: got  %q\n                  want %q", where(s), got, s.text)
				}
			case <-time.After(30 * time.Minute):
				t.Fatalf("%s: modem said nothing; want %q", where(s), s.text)
			}
		case "@":
			runDirective(t, m, where(s), s.text)
		}
	}
	expectQuiet(transcriptLine{no: 0})
}

func runDirective(t *testing.T, m *Modem, where, text string) {
	verb, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	rest = strings.TrimSpace(rest)
	switch verb {
	case "wait":
		d, err := time.ParseDuration(rest)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		time.Sleep(d) // fake time inside the bubble
		synctest.Wait()
	case "event":
		ev, err := ParseEvent(where, []byte(rest))
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if err := m.RunEvent(ev); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
	case "fault":
		f := parseFaultDirective(t, where, rest)
		if err := m.TriggerFault(f); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
	case "urc":
		m.InjectURC(rest)
	case "urc-inside":
		m.InjectURCInResponse(rest)
	case "assert":
		st := m.Snapshot()
		v := reflect.ValueOf(st)
		for _, kv := range strings.Fields(rest) {
			k, want, _ := strings.Cut(kv, "=")
			f := v.FieldByName(k)
			if !f.IsValid() {
				t.Fatalf("%s: State has no field %s", where, k)
			}
			if got := fmt.Sprint(f.Interface()); got != want {
				t.Fatalf("%s: State.%s = %s, want %s", where, k, got, want)
			}
		}
	default:
		t.Fatalf("%s: unknown directive @%s", where, verb)
	}
}

func parseFaultDirective(t *testing.T, where, s string) Fault {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		t.Fatalf("%s: @fault needs a kind", where)
	}
	k, err := ParseFaultKind(fields[0])
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	f := Fault{Kind: k}
	for _, kv := range fields[1:] {
		key, val, _ := strings.Cut(kv, "=")
		switch key {
		case "count":
			f.Count, err = strconv.Atoi(val)
		case "delay":
			f.Delay, err = time.ParseDuration(val)
		case "seed":
			f.Seed, err = strconv.ParseInt(val, 10, 64)
		default:
			err = fmt.Errorf("unknown fault field %q", key)
		}
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
	}
	return f
}

// splitLines turns the modem's byte stream into lines, dropping the empty
// ones CRLF framing produces.
func splitLines(c net.Conn, out chan<- string) {
	r := bufio.NewReader(c)
	var cur []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			if len(cur) > 0 {
				out <- string(cur)
			}
			close(out)
			return
		}
		if b == '\r' || b == '\n' {
			if len(cur) > 0 {
				out <- string(cur)
				cur = cur[:0]
			}
			continue
		}
		cur = append(cur, b)
	}
}
