package simulator

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Handler runs one command with the modem lock held and returns its
// information lines. A cmeError becomes +CME ERROR (or ERROR under CMEE=0);
// any other error becomes a bare ERROR.
type Handler func(m *Modem, cmd Command) ([]string, error)

// CommandSpec is one entry of the command registry.
type CommandSpec struct {
	Handle Handler
	// NeedSIM makes the command fail with the SIM state's CME code (10 no
	// SIM, 13 SIM off in CFUN=0, 14 busy during a REFRESH) before Handle runs.
	NeedSIM bool
	// Latency, if set, is the command's own duration (a COPS=? scan, a PDP
	// activation); the scenario's timing.commands still overrides it.
	Latency func(m *Modem, cmd Command) time.Duration
}

func (m *Modem) lookup(name string) (CommandSpec, bool) {
	if s, ok := m.d.Commands[name]; ok {
		return s, s.Handle != nil
	}
	s, ok := coreCommands[name]
	return s, ok
}

func (m *Modem) latencyFor(cmd Command, spec CommandSpec) time.Duration {
	d := m.baseLatency(cmd, spec)
	if j := m.sc.Timing.Jitter; j > 0 {
		d += time.Duration(m.rngJitter.Int63n(int64(j) + 1))
	}
	return d
}

func (m *Modem) baseLatency(cmd Command, spec CommandSpec) time.Duration {
	t := &m.sc.Timing
	if d, ok := t.Commands[cmd.Key()]; ok {
		return d
	}
	if d, ok := t.Commands[cmd.Name]; ok {
		return d
	}
	if spec.Latency != nil {
		if d := spec.Latency(m, cmd); d > 0 {
			return d
		}
	}
	return t.Latency
}

// handleLine runs one command line and writes its response.
func (m *Modem) handleLine(ctx context.Context, c *conn, raw []byte) error {
	m.mu.Lock()
	if m.late != nil {
		// The reply the client gave up on arrives now, during its next command.
		m.flushLate()
	}
	m.unlock()
	text := string(raw)
	if strings.Trim(text, "\x1b \t") == "" {
		return nil
	}
	cl, err := ParseCommandLine(text)
	if errors.Is(err, ErrNoPrefix) {
		return nil
	}
	m.mu.Lock()
	if cl.Repeat {
		last := m.lastCmd
		if last == "" {
			m.unlock()
			return nil
		}
		cl, err = ParseCommandLine(last)
	} else if err == nil {
		m.lastCmd = text
	}
	m.unlock()

	var resp []byte
	var final error
	var post []func()
	if err != nil {
		final = errPlain
	}
	for _, cmd := range cl.Commands {
		if err != nil {
			break
		}
		spec, ok := m.lookup(cmd.Name)
		m.mu.Lock()
		lat := m.latencyFor(cmd, spec)
		m.unlock()
		if werr := m.waitClock(ctx, c, lat); werr != nil {
			return werr
		}
		m.mu.Lock()
		var lines []string
		var herr error
		switch {
		case !ok:
			herr = errPlain
		case spec.NeedSIM:
			herr = m.simErr()
		}
		if herr == nil {
			lines, herr = spec.Handle(m, cmd)
		}
		post = append(post, m.post...)
		m.post = nil
		if len(lines) > 0 {
			resp = append(resp, m.frameInfo(lines)...)
		}
		m.unlock()
		if herr != nil {
			final = herr
			break
		}
	}
	m.mu.Lock()
	defer m.unlock()
	for _, l := range m.splice {
		if m.verbose {
			resp = append(resp, "\r\n"+l+m.d.URCTerm...)
		} else {
			resp = append(resp, l+"\r\n"...)
		}
	}
	m.splice = nil
	resp = append(resp, m.frameFinal(final)...)
	m.deliver(resp, final == nil)
	for _, f := range post {
		f()
	}
	return nil
}

// afterResponse queues f to run (mu held) once the current command's
// response has been queued, for URCs and port drops that follow the OK.
func (m *Modem) afterResponse(f func()) { m.post = append(m.post, f) }

func (m *Modem) simErr() error {
	switch m.sim {
	case simAbsent:
		return cmeError{cmeSIMNotInserted}
	case simOff:
		return cmeError{cmeSIMFailure}
	case simBusy:
		return cmeError{cmeSIMBusy}
	}
	return nil
}

func (m *Modem) frameInfo(lines []string) []byte {
	if !m.verbose {
		return []byte(strings.Join(lines, "\r\n") + "\r\n")
	}
	return []byte("\r\n" + strings.Join(lines, "\r\n") + "\r\n")
}

// finalText renders a final result code under the current CMEE setting.
func (m *Modem) finalText(err error) string {
	if err == nil {
		return "OK"
	}
	var rc resultCode
	if errors.As(err, &rc) {
		return rc.text
	}
	var ce cmeError
	if !errors.As(err, &ce) {
		return "ERROR"
	}
	switch m.cmee {
	case 1:
		return "+CME ERROR: " + strconv.Itoa(ce.code)
	case 2:
		if t, ok := m.d.CMEText[ce.code]; ok {
			return "+CME ERROR: " + t
		}
		if t, ok := baseCMEText[ce.code]; ok {
			return "+CME ERROR: " + t
		}
		return "+CME ERROR: " + strconv.Itoa(ce.code)
	}
	return "ERROR"
}

func (m *Modem) frameFinal(err error) []byte {
	if m.quiet {
		// ATQ1 (V.250 §6.2.5): no result codes; information text and
		// unsolicited codes are still sent.
		return nil
	}
	t := m.finalText(err)
	if m.verbose {
		return []byte("\r\n" + t + "\r\n")
	}
	var rc resultCode
	if errors.As(err, &rc) {
		return []byte(strconv.Itoa(rc.num) + "\r")
	}
	switch t {
	case "OK":
		return []byte("0\r")
	case "ERROR":
		return []byte("4\r")
	}
	return []byte(t + "\r\n")
}

// cmdError is the shorthand handlers use for "bad parameters".
func badParams() error { return cmeError{cmeBadParams} }

// needArgs splits a set command's arguments, failing with CME 50.
func needArgs(cmd Command, min, max int) ([]Arg, error) {
	args, err := SplitArgs(cmd.Args)
	if err != nil || len(args) < min || (max >= 0 && len(args) > max) {
		return nil, badParams()
	}
	return args, nil
}

func quote(s string) string { return `"` + s + `"` }
