package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/simulator/ptyport"
)

const controlHelp = `commands (one per line; each answer ends with "ok" or "error: ..."):
  help                  this text
  urc LINE              send LINE to the client as an unsolicited result, e.g. urc +CEREG: 2
  fault KIND [N] [DUR]  arm a fault for the next N responses, or act now (reset, port_loss [DUR])
                        kinds: no_answer late_answer duplicate_ok truncated garbage split_writes reset port_loss
  event {...}           run a timeline event now, in JSON or YAML flow style, e.g.
                        event {"event": "signal", "network": "26201", "signal": {"rsrp": -115}}
  advance DUR           move a manual clock (--speed 0) forward, e.g. advance 30s
  state                 the modem and port state as one JSON line (IMSI and ICCID in clear)
  log [N]               the last N wire chunks (default 20) with exact bytes, Go-quoted
  quit                  close this connection`

// maxControlLine bounds one command line; longer input is refused, not
// buffered without limit.
const maxControlLine = 64 << 10

// controller maps control lines onto the simulator's control API.
type controller struct {
	modem *simulator.Modem
	clock simulator.Clock
	port  *ptyport.Port
}

// errQuit ends a control connection.
var errQuit = errors.New("quit")

// exec runs one command line and returns its output (without the final
// "ok"). Errors name the command and the field that was wrong.
func (c *controller) exec(line string) (string, error) {
	line = strings.TrimSpace(line)
	cmd, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(cmd) {
	case "":
		return "", nil
	case "help", "?":
		return controlHelp, nil
	case "quit", "exit":
		return "", errQuit
	case "urc":
		if rest == "" {
			return "", errors.New("urc: missing the line to send, e.g. urc +CEREG: 2")
		}
		c.modem.InjectURC(rest)
		return "", nil
	case "fault":
		f, err := parseFault(rest)
		if err != nil {
			return "", err
		}
		if err := c.modem.TriggerFault(f); err != nil {
			return "", fmt.Errorf("fault: %w", err)
		}
		return "", nil
	case "event":
		ev, err := parseEvent(rest)
		if err != nil {
			return "", err
		}
		if err := c.modem.RunEvent(ev); err != nil {
			return "", fmt.Errorf("event: %w", err)
		}
		return "", nil
	case "advance":
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 {
			return "", fmt.Errorf("advance: %q is not a duration like 30s or 5m", rest)
		}
		if _, ok := c.clock.(*simulator.ManualClock); !ok {
			return "", errors.New("advance: the clock is real time; start modemsim with --speed 0 to drive time by hand")
		}
		c.modem.Advance(d)
		return "", nil
	case "state":
		st := struct {
			Port  portState       `json:"port"`
			Modem simulator.State `json:"modem"`
		}{portState{Path: c.port.Path(), Link: c.port.Link(), DroppedBytes: c.port.DroppedBytes()}, c.modem.Snapshot()}
		b, err := json.Marshal(st)
		if err != nil {
			return "", fmt.Errorf("state: %w", err)
		}
		return string(b), nil
	case "log":
		n := 20
		if rest != "" {
			v, err := strconv.Atoi(rest)
			if err != nil || v < 0 {
				return "", fmt.Errorf("log: %q is not a count", rest)
			}
			n = v
		}
		return formatLog(c.modem.Log(), n), nil
	default:
		return "", fmt.Errorf("unknown command %q (try help)", cmd)
	}
}

type portState struct {
	Path string `json:"path"` // "" while the port is down
	Link string `json:"link,omitempty"`
	// DroppedBytes the modem sent while no client had the port open.
	DroppedBytes int64 `json:"dropped_bytes"`
}

// parseFault reads "KIND [COUNT] [DELAY]"; the count and delay may come in
// either order since one is an integer and the other a duration.
func parseFault(s string) (simulator.Fault, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return simulator.Fault{}, errors.New("fault: missing kind (try help)")
	}
	kind, err := simulator.ParseFaultKind(fields[0])
	if err != nil {
		return simulator.Fault{}, fmt.Errorf("fault: %w", err)
	}
	f := simulator.Fault{Kind: kind}
	for _, a := range fields[1:] {
		if n, err := strconv.Atoi(a); err == nil && n >= 0 {
			f.Count = n
			continue
		}
		if d, err := time.ParseDuration(a); err == nil && d >= 0 {
			f.Delay = d
			continue
		}
		return simulator.Fault{}, fmt.Errorf("fault %s: %q is neither a count nor a duration", fields[0], a)
	}
	return f, nil
}

// parseEvent decodes a timeline event with the scenario file's own decoder,
// so field names, units and error messages are the same as in a scenario.
func parseEvent(s string) (simulator.Event, error) {
	if s == "" {
		return simulator.Event{}, errors.New(`event: missing the event, e.g. event {"event": "outage", "network": "26201", "duration": "30s"}`)
	}
	ev, err := simulator.ParseEvent("event", []byte(s))
	if err != nil {
		return ev, err
	}
	if ev.Kind == "" {
		return ev, errors.New(`event: missing field "event" (the kind, e.g. signal, outage, reject)`)
	}
	return ev, nil
}

func formatLog(entries []simulator.LogEntry, n int) string {
	if n < len(entries) {
		entries = entries[len(entries)-n:]
	}
	var b strings.Builder
	for i, e := range entries {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s %-3s %s", e.Time.Format("15:04:05.000"), e.Dir, strconv.Quote(string(e.Data)))
	}
	return b.String()
}

// controlServer serves the line protocol on a unix socket.
type controlServer struct {
	ln   net.Listener
	path string
	c    *controller
	log  *slog.Logger

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup

	closeOnce sync.Once
}

func listenControl(path string, c *controller, log *slog.Logger) (*controlServer, error) {
	// A socket left by a previous run would make Listen fail; anything else
	// at that path is not ours to remove.
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("control socket %s: exists and is not a socket", path)
		}
		if conn, err := net.Dial("unix", path); err == nil {
			conn.Close()
			return nil, fmt.Errorf("control socket %s: another process is listening on it", path)
		}
		_ = os.Remove(path)
	}
	ln, err := listenPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	s := &controlServer{ln: ln, path: path, c: c, log: log, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *controlServer) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(conn)
	}
}

func (s *controlServer) serveConn(conn net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		conn.Close()
	}()
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 4096), maxControlLine)
	w := bufio.NewWriter(conn)
	for sc.Scan() {
		out, err := s.c.exec(sc.Text())
		if errors.Is(err, errQuit) {
			return
		}
		reply(w, out, err)
		if err != nil {
			s.log.Debug("control command failed", "err", err)
		}
		if w.Flush() != nil {
			return
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		reply(w, "", fmt.Errorf("line longer than %d bytes; closing", maxControlLine))
		_ = w.Flush()
	}
}

func reply(w io.Writer, out string, err error) {
	var b bytes.Buffer
	if out != "" {
		b.WriteString(out)
		b.WriteByte('\n')
	}
	if err != nil {
		// One line, whatever the error text holds.
		b.WriteString("error: " + strings.ReplaceAll(err.Error(), "\n", " ") + "\n")
	} else {
		b.WriteString("ok\n")
	}
	_, _ = w.Write(b.Bytes())
}

// Close stops accepting, hangs up every connection, waits for their
// goroutines and removes the socket. It is idempotent.
func (s *controlServer) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		for conn := range s.conns {
			conn.Close()
		}
		s.mu.Unlock()
		s.ln.Close() // removes the socket file too
		s.wg.Wait()
	})
	return nil
}
