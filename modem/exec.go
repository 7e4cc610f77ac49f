package modem

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/warthog618/modem/at"
)

// cmdSpec is one command and the lines of the reply it owns.
type cmdSpec struct {
	cmd     string        // without "AT": "+CIMI", "+CEREG?", "+QENG=\"servingcell\""
	prefix  []string      // info lines the command owns start with one of these, e.g. {"+CSQ:"}
	bare    bool          // also keep lines without a +X:/^X:/#X:/!X: prefix that are not known URCs
	timeout time.Duration // 0 = the default for this command from timeouts.go; the ctx deadline can only shorten it
	// noResync skips the resynchronisation after a timeout; only for "AT"
	// probes, whose late OK is indistinguishable from the next one's.
	noResync bool
	// one: the reply has a single information line. A second line of the
	// command's prefix that is also a URC prefix ("+CPIN: READY" twice in
	// the answer to AT+CPIN?) may be the URC, so it goes to Events() too.
	one bool

	// The expected shape of a successful reply, for idempotent reads only
	// (exec sends the command a second time when the shape is wrong).
	// need: at least one owned line; an OK without one was not this
	// command's answer. check: the owned lines must pass it (IMEI digits,
	// IMSI digits, one line of text).
	need  bool
	check func(owned []string) error
}

// shapeErr says why owned lines cannot be the reply to c, or nil.
func (c *cmdSpec) shapeErr(owned []string) error {
	if c.need && len(owned) == 0 {
		return fmt.Errorf("%w: OK without the expected information line", ErrParse)
	}
	if c.check != nil {
		return c.check(owned)
	}
	return nil
}

// owns reports whether line belongs to the reply of c.
func (c *cmdSpec) owns(line string) bool {
	for _, p := range c.prefix {
		if strings.HasPrefix(line, p) {
			return true
		}
		// "+CSQ:" also owns "+CSQ: " and "+csq:" (seen on lowercase firmware).
		if len(line) >= len(p) && strings.EqualFold(line[:len(p)], p) {
			return true
		}
	}
	if c.bare && !hasInfoPrefix(line) && !isKnownURC(line) && !isEcho(line) && printable(line) {
		return true
	}
	return false
}

// printable reports whether line is text: valid UTF-8 without control
// characters. Line noise (a modem waking up, a baud-rate glitch) forms
// lines of its own; a bare-line answer must never be one of them.
func printable(line string) bool {
	if !utf8.ValidString(line) {
		return false
	}
	for _, r := range line {
		if r != '\t' && !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// isEcho reports whether line is an echoed command line (echo is switched
// off at start-up, but a modem that reset turns it back on).
func isEcho(line string) bool {
	if len(line) < 2 || !strings.EqualFold(line[:2], "AT") {
		return false
	}
	if len(line) == 2 {
		return true
	}
	return strings.ContainsRune("+^#!&$%EIZQVeizqv", rune(line[2]))
}

// abortText is fed into at (never sent to the modem) to end a command whose
// caller has gone away; at treats it as a final result code.
const abortText = "imsid-abort"

// exec sends one command and returns the info lines it owns. Errors are
// *OpError{Cmd: "AT"+c.cmd, Err: *CMEError | ErrError | ErrTimeout |
// ErrPortLost | ErrClosed | ctx.Err()}.
//
// Pairing defence. at ends a command on the first final result code it is
// handed, so a stray one (a modem that answers OK twice, the tail of a
// reply the driver gave up on) would complete the next command and every
// later reply would land one command late. Three layers keep a reply on
// its own command:
//
//  1. The reader knows when a command line has been written (sentMarker).
//     A final result code read while no command is on the wire belongs to
//     none: it is dropped and the pairing marked suspect; so are answer
//     lines then. Results still owed by abandoned commands are counted and
//     swallowed (m.swallow).
//  2. Before the next command is written, a suspect pairing is proven
//     again with resync (a probe whose own answer carries a marker line).
//  3. A stray result can still race the next command onto the wire. Reads
//     with a known reply shape (need/check: a required prefixed line, IMEI
//     or IMSI digits, one line of text) catch it: a reply of the wrong
//     shape marks the pairing suspect, and the read is sent once more after
//     the resync. Commands without a reply shape (settings answered by a
//     bare OK) cannot tell; their owed result then arrives while idle
//     (layer 1) or meets the next shaped read (layer 3). Prefixes keep
//     other commands' information lines out of every reply; the shapes
//     keep them out of the bare-line reads that matter (identity, IMSI,
//     ICCID).
func (m *Modem) exec(ctx context.Context, c cmdSpec) ([]string, error) {
	out, err := m.exec1(ctx, c)
	if err != nil || (!c.need && c.check == nil) {
		return out, err
	}
	if serr := c.shapeErr(out); serr != nil && ctx.Err() == nil {
		m.cfg.logger.Debug("modem: reply has the wrong shape; resynchronising and asking again",
			"cmd", "AT"+c.cmd, "lines", len(out), "err", serr)
		m.suspect.Store(true)
		return m.exec1(ctx, c)
	}
	return out, nil
}

// exec1 is one attempt of exec.
func (m *Modem) exec1(ctx context.Context, c cmdSpec) ([]string, error) {
	op := "AT" + c.cmd
	fail := func(err error) ([]string, error) { return nil, &OpError{Cmd: op, Err: err} }
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if strings.ContainsAny(c.cmd, "\r\n\x1a\x1b") {
		// A line end would make two commands of one and break the pairing
		// of commands and answers for the rest of the session.
		return fail(fmt.Errorf("%w: command contains a line end or control character", ErrIncorrectParameters))
	}
	// Deferred before leave so that it runs after it: an observer that
	// calls Close must not wait for its own command.
	var observed func()
	defer func() {
		if observed != nil {
			observed()
		}
	}()
	if !m.enter() {
		return fail(m.Err())
	}
	defer m.leave()
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-m.done:
		return fail(m.Err())
	}
	select {
	case <-m.done:
		<-m.sem
		return fail(m.Err())
	default:
	}

	if m.suspect.Swap(false) {
		// A final result code came when no command was on the wire: prove
		// the pairing before trusting the next answer.
		m.resync()
	}
	began := time.Now()

	timeout := c.timeout
	if timeout <= 0 {
		timeout = timeoutFor(c.cmd)
	}
	ctxBound := false
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < timeout {
			timeout, ctxBound = left, true
		}
	}
	if timeout <= 0 {
		<-m.sem
		return fail(context.DeadlineExceeded)
	}

	m.inflight.Store(&c)
	aborted := make(chan struct{})
	injected := false // written before aborted closes, read after
	stop := context.AfterFunc(ctx, func() {
		defer close(aborted)
		// When the deadline is what bounds the command, at's own timer
		// fires at the same moment; a second, injected end would then be
		// left over and complete the next command.
		if ctxBound && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return
		}
		injected = true
		m.feedAT("+CME ERROR: " + abortText)
	})
	info, err := m.at.Command(c.cmd, at.WithTimeout(timeout))
	fired := !stop()
	if fired {
		<-aborted
	}
	m.inflight.Store(nil)

	for i := len(info) - 1; i >= 0; i-- {
		if info[i] == echoMark {
			info = info[i+1:]
			break
		}
	}
	var out []string
	for _, l := range info {
		if c.owns(l) {
			out = append(out, l)
		} else {
			m.cfg.logger.Debug("modem: dropped line not owned by the command", "cmd", op, "len", len(l))
		}
	}

	result, resync := m.mapError(ctx, err, ctxBound)
	if resync {
		// The command ended without its final result code (timeout or
		// abort): the modem still owes it, and the reader must not let it
		// end a later command. Counted before the slot is released.
		m.swallow.Add(1)
	}
	if fired && injected {
		// The abort line is on its way through at whether or not it
		// ended this command; the probe in resync swallows it.
		resync = true
	}
	if resync && !c.noResync {
		m.resyncAndRelease()
	} else {
		<-m.sem
	}
	if result != nil {
		out, result = fail(result)
	}
	if f := m.cfg.observe; f != nil {
		d := time.Since(began)
		observed = func() { f(op, d, result) }
	}
	return out, result
}

// mapError turns at's error into the package's, and says whether the
// command was abandoned (so a late reply may still be on the wire).
func (m *Modem) mapError(ctx context.Context, err error, ctxBound bool) (error, bool) {
	var cme at.CMEError
	var cms at.CMSError
	switch {
	case err == nil:
		return nil, false
	case errors.As(err, &cme) && strings.HasPrefix(string(cme), vendorResultMark):
		return &VendorResultError{Result: strings.TrimPrefix(string(cme), vendorResultMark)}, false
	case errors.As(err, &cme) && string(cme) == abortText:
		if ctx.Err() != nil {
			return ctx.Err(), true
		}
		return context.Canceled, true
	case errors.Is(err, at.ErrDeadlineExceeded):
		m.noteTimeout()
		if ctxBound {
			return &deadlineError{cause: context.DeadlineExceeded}, true
		}
		return ErrTimeout, true
	case errors.Is(err, at.ErrClosed):
		if e := m.Err(); e != nil {
			return e, false
		}
		return ErrPortLost, false
	case errors.As(err, &cme):
		return NewCMEError(string(cme)), false
	case errors.Is(err, at.ErrError):
		return ErrError, false
	case errors.As(err, &cms):
		return fmt.Errorf("+CMS ERROR: %s: %w", string(cms), ErrError), false
	}
	// Anything else is a write failure on the port.
	m.die(ErrPortLost)
	m.pw.CloseWithError(ErrPortLost)
	return fmt.Errorf("%w: %v", ErrPortLost, err), false
}

// resyncAndRelease re-establishes command/response pairing after a command
// was abandoned, then releases the command slot. It runs in the background
// so the abandoning caller returns at once; the next command waits for it.
func (m *Modem) resyncAndRelease() {
	// The caller is inside enter/leave, so the count is above zero and this
	// Add cannot race Close's Wait.
	m.ops.Add(1)
	go func() {
		defer m.ops.Done()
		defer func() { <-m.sem }()
		m.resync()
	}()
}

// resync checks that commands and answers are paired again after one was
// abandoned. Every command gets exactly one final result code, in order;
// m.swallow counts those still owed by abandoned commands, and the reader
// drops that many before letting one through to at. A probe whose own
// answer carries a line no stale reply contains ("+CMEE:" for "+CMEE?")
// proves the count right; a probe completed without it was ended by a
// stale result (the injected abort, or one the count missed), so its own
// answer is owed too. Without CMEE, "AT" is sent until two in a row succeed.
func (m *Modem) resync() {
	okRun := 0
	for attempt := 0; attempt < 5; attempt++ {
		select {
		case <-m.done:
			return
		default:
		}
		probe := cmdSpec{cmd: "+CMEE?", prefix: []string{"+CMEE:"}}
		if m.noCMEE.Load() {
			probe.cmd = ""
		}
		m.inflight.Store(&probe)
		info, err := m.at.Command(probe.cmd, at.WithTimeout(defaultTimeout))
		m.inflight.Store(nil)
		if errors.Is(err, at.ErrClosed) {
			return
		}
		if probe.cmd == "" {
			if err != nil {
				okRun = 0
				continue
			}
			if okRun++; okRun == 2 {
				return
			}
			continue
		}
		marked := false
		for _, l := range info {
			marked = marked || probe.owns(l)
		}
		if err == nil && marked && m.swallow.Load() == 0 {
			return
		}
		if !marked {
			// Completed by someone else's result (or not at all): this
			// probe's own answer is still owed.
			m.swallow.Add(1)
		}
	}
	// The owed results stay counted: a modem that is only slow (a long
	// scan) sends them all eventually, and each would end a later command.
	m.cfg.logger.Warn("modem: could not resynchronise after an abandoned command")
}

// resyncNow runs resync in the caller's goroutine, holding the command slot.
func (m *Modem) resyncNow(ctx context.Context) {
	if !m.enter() {
		return
	}
	defer m.leave()
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return
	case <-m.done:
		return
	}
	defer func() { <-m.sem }()
	m.resync()
}

// start brings a fresh session into the expected state, within the start
// budget. A restart (RDY) after the modem first answered undoes what start
// has set, and a session that dies cannot be started: both end start at
// once with a *StartError naming the command that was cut short, instead
// of leaving the remaining commands to time out one by one.
func (m *Modem) start(ctx context.Context) error {
	budget := m.cfg.startBudget
	if budget <= 0 {
		budget = DefaultStartBudget
	}
	ctx, cancel := context.WithTimeoutCause(ctx, budget,
		fmt.Errorf("%w: start-up took longer than its %v budget", ErrTimeout, budget))
	defer cancel()
	st := starter{m: m, ctx: ctx}

	var err error
	probes := 0
	for i := 0; i < 3; i++ {
		probes++
		_, err = m.exec(ctx, cmdSpec{cmd: "", timeout: m.cfg.syncTimeout, noResync: true})
		if err == nil || ctx.Err() != nil || errors.Is(err, ErrPortLost) || errors.Is(err, ErrClosed) {
			break
		}
	}
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, ErrTimeout) {
			return fmt.Errorf("modem: no answer to AT (is this the AT port?): %w", err)
		}
		return st.fail("AT", err)
	}
	// A restart announced before the modem first answered is harmless:
	// everything start sets comes after it.
	select {
	case <-m.reinit:
	default:
	}
	stop := st.watchReset(cancel)
	defer stop()

	if probes > 1 {
		// A slow modem may still answer the earlier probes; drain them.
		m.resyncNow(ctx)
	}
	if err := m.applySettings(ctx); err != nil {
		return st.fail("", err)
	}
	if !m.cfg.dialectSet {
		_, _, err := m.detect(ctx)
		if err := st.check("AT+CGMI", err); err != nil {
			return err
		}
	} else {
		m.setDialect(m.cfg.dialect)
	}
	for _, c := range m.Dialect().StartupCommands() {
		c = strings.TrimPrefix(c, "AT")
		if _, err := m.exec(ctx, cmdSpec{cmd: c}); err != nil {
			if err := st.check("AT"+c, err); err != nil {
				return err
			}
			m.cfg.logger.Debug("modem: start-up command failed", "cmd", c, "err", err)
		}
	}
	return st.check("AT", nil)
}

// starter turns what ended start-up into a *StartError.
type starter struct {
	m     *Modem
	ctx   context.Context
	reset atomic.Bool
}

// watchReset ends ctx (through cancel) when the modem announces a restart
// or the session dies; the returned func stops the watch and waits for it.
func (s *starter) watchReset(cancel context.CancelFunc) func() {
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-s.m.reinit:
			s.reset.Store(true)
			cancel()
		case <-s.m.done:
			cancel()
		case <-quit:
		case <-s.ctx.Done():
		}
	}()
	return func() {
		close(quit)
		<-exited
		if s.reset.Load() {
			// Seen as start finished: the settings must still be re-applied.
			select {
			case s.m.reinit <- struct{}{}:
			default:
			}
		}
	}
}

// check returns the start-up error if start must stop after cmd, which
// returned err, or nil.
func (s *starter) check(cmd string, err error) error {
	if !s.m.ended(s.ctx, err) {
		return nil
	}
	return s.fail(cmd, err)
}

// fail builds the start-up error for err, which ended cmd (or, if cmd is
// empty, the command named by err's *OpError).
func (s *starter) fail(cmd string, err error) error {
	var op *OpError
	if errors.As(err, &op) {
		cmd = op.Cmd
		err = op.Err
	}
	s.m.ended(s.ctx, err) // lets a deadline exec saw first reach ctx
	switch {
	case s.reset.Load():
		err = ErrRestarted
	case s.m.Err() != nil:
		err = s.m.Err()
	case s.ctx.Err() != nil:
		err = context.Cause(s.ctx)
	}
	if cmd == "" {
		cmd = "AT"
	}
	return &StartError{Cmd: cmd, Err: err}
}

// ended reports whether err, from a command under ctx, means no further
// command can succeed: the session died or ctx ended. exec sees ctx's
// deadline on its own timer, so it can report it a moment before ctx.Err
// does; ended then waits for ctx to catch up.
func (m *Modem) ended(ctx context.Context, err error) bool {
	if dl, ok := ctx.Deadline(); ok && errors.Is(err, context.DeadlineExceeded) && !time.Now().Before(dl) {
		<-ctx.Done()
		return true
	}
	return ctx.Err() != nil || m.Err() != nil
}

// applySettings sets what a modem reset undoes: echo off, numeric CME
// errors, registration and packet-domain URCs.
func (m *Modem) applySettings(ctx context.Context) error {
	if _, err := m.exec(ctx, cmdSpec{cmd: "E0"}); err != nil {
		return err
	}
	if _, err := m.exec(ctx, cmdSpec{cmd: "+CMEE=1"}); err != nil {
		if m.ended(ctx, err) {
			return err
		}
		m.noCMEE.Store(true)
	}
	// n=3 adds the reject cause; older firmware only knows 2.
	for _, d := range []string{"+CREG", "+CGREG", "+CEREG"} {
		if _, err := m.exec(ctx, cmdSpec{cmd: d + "=3"}); err != nil {
			if m.ended(ctx, err) {
				return err
			}
			m.exec(ctx, cmdSpec{cmd: d + "=2"})
		}
	}
	if _, err := m.exec(ctx, cmdSpec{cmd: "+CGEREP=2,1"}); err != nil && m.ended(ctx, err) {
		return err
	}
	return nil
}

func (m *Modem) applyDialectSettings(ctx context.Context) {
	for _, c := range m.Dialect().StartupCommands() {
		c = strings.TrimPrefix(c, "AT")
		if _, err := m.exec(ctx, cmdSpec{cmd: c}); err != nil {
			m.cfg.logger.Debug("modem: start-up command failed", "cmd", c, "err", err)
		}
	}
}

// reinitLoop re-applies the session settings after the modem announces a
// restart (RDY) without losing the port: echo, CMEE and the URC modes are
// back to their defaults then (reference §1).
func (m *Modem) reinitLoop() {
	defer m.wg.Done()
	for {
		select {
		case <-m.reinit:
		case <-m.done:
			return
		}
		ctx, cancel := context.WithTimeout(m.life, time.Minute)
		if err := m.applySettings(ctx); err != nil {
			m.cfg.logger.Warn("modem: re-applying settings after a restart failed", "err", err)
		} else {
			m.applyDialectSettings(ctx)
		}
		cancel()
	}
}
