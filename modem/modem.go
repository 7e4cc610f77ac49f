package modem

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warthog618/modem/at"
)

// Modem is one live AT session over one port. It is dead once Done is
// closed (port lost, or Close); the owner then builds a new one over a
// freshly opened port (see Connect).
//
// Design: a single reader goroutine owns the port's read side. It splits the
// byte stream into lines, diverts unsolicited lines to the event queue in
// arrival order, and hands everything else to warthog618's at through a
// pipe. at only frames commands (echo, OK, ERROR, +CME ERROR, timeouts); its
// indication handlers are not used because they run one goroutine per URC
// and so lose the order, and because v0.4.0 passes URCs to the command in
// flight as well.
type Modem struct {
	cfg  config
	rw   io.ReadWriter
	at   *at.AT
	pw   *io.PipeWriter
	pwMu sync.Mutex // one line at a time into at: the reader and aborts share pw

	dialectMu sync.Mutex
	dialect   Dialect
	// redetect: the identity read behind the dialect failed (a timeout, a
	// garbled reply), so the dialect may be generic only for want of an
	// answer; the next dialect-dependent query reads it again.
	redetect atomic.Bool
	detectMu sync.Mutex // one re-detection at a time
	refused  refusals   // optional commands the modem refused this session

	// Responsiveness: when a line last came from the modem (unix
	// nanoseconds on cfg.clock), how many reads brought lines, and that
	// count when a command last went unanswered (-1: none yet).
	lastRx     atomic.Int64
	rxReads    atomic.Int64
	timedOutAt atomic.Int64

	sem      chan struct{} // one command on the wire at a time; held through resync
	inflight atomic.Pointer[cmdSpec]
	noCMEE   atomic.Bool   // +CMEE=1 failed: resync with plain "AT"
	reinit   chan struct{} // the modem restarted (RDY): re-apply the settings
	life     context.Context
	endLife  context.CancelFunc
	swallow  atomic.Int32            // final result codes still owed by abandoned probes; the reader drops them
	sent     atomic.Pointer[cmdSpec] // the command whose line was last written (set just before the write)
	suspect  atomic.Bool             // a stray final result was dropped: resync before the next command

	// Reader-only: how many owned lines the command on the wire has had.
	rdCur   *cmdSpec
	rdOwned int
	rdURCs  []string // owned lines of a URC prefix, until the echo

	sim simAccess

	watchMu  sync.Mutex
	watchers map[chan Event]struct{}

	events chan Event
	qMu    sync.Mutex
	queue  []Event
	qWake  chan struct{}
	seq    uint64
	drops  int

	done      chan struct{} // the session is dead
	closing   chan struct{} // Close was called
	closeOnce sync.Once
	deadOnce  sync.Once
	errMu     sync.Mutex
	err       error
	wg        sync.WaitGroup
	readerWG  sync.WaitGroup

	// ops counts what may use the at object after New returned: commands
	// inside exec1 and the resyncs they hand the slot to. Close sets
	// opsClosed under opsMu before it waits, and enter adds only under
	// opsMu while opsClosed is false, so no Add can race that Wait.
	opsMu     sync.Mutex
	opsClosed bool
	ops       sync.WaitGroup
}

// enter registers a command with the session; false once Close began.
func (m *Modem) enter() bool {
	m.opsMu.Lock()
	defer m.opsMu.Unlock()
	if m.opsClosed {
		return false
	}
	m.ops.Add(1)
	return true
}

func (m *Modem) leave() { m.ops.Done() }

type config struct {
	dialect     Dialect
	dialectSet  bool
	trace       io.Writer
	logger      *slog.Logger
	clock       Clock
	jitter      func() float64
	backoffMin  time.Duration
	backoffMax  time.Duration
	syncTimeout time.Duration
	startBudget time.Duration
	observe     func(cmd string, d time.Duration, err error)
}

// Option configures New and Connect.
type Option func(*config)

// WithDialect fixes the dialect instead of detecting it from +CGMI/+CGMM.
func WithDialect(d Dialect) Option {
	return func(c *config) { c.dialect, c.dialectSet = d, true }
}

// WithTrace copies every byte on the wire to w (nothing is masked: use it
// for debugging only).
func WithTrace(w io.Writer) Option { return func(c *config) { c.trace = w } }

// WithLogger sets the logger for the engine's own diagnostics.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithClock injects time for Connect's backoff.
func WithClock(cl Clock) Option { return func(c *config) { c.clock = cl } }

// WithBackoff sets Connect's first and longest retry delay.
func WithBackoff(min, max time.Duration) Option {
	return func(c *config) { c.backoffMin, c.backoffMax = min, max }
}

// WithJitter injects the jitter source (values in [0,1)) for Connect.
func WithJitter(f func() float64) Option { return func(c *config) { c.jitter = f } }

// WithSyncTimeout bounds each "AT" probe New sends to find a live modem
// (default 1 s, three probes).
func WithSyncTimeout(d time.Duration) Option { return func(c *config) { c.syncTimeout = d } }

// DefaultStartBudget bounds all of New's start-up commands together (the
// AT probes, settings, identity and dialect commands). A healthy modem needs
// well under a second; the budget is there for one that reboots or goes
// silent half-way, which would otherwise cost each command its own timeout
// and a resync.
const DefaultStartBudget = 15 * time.Second

// WithStartBudget replaces DefaultStartBudget. The caller's context can
// only shorten it.
func WithStartBudget(d time.Duration) Option { return func(c *config) { c.startBudget = d } }

// WithCommandObserver calls f after every command that reached the wire
// (start-up commands included; resync probes are not reported) with the
// command as sent ("AT+CSQ"), the time from sending it to its final result
// (or timeout), and the error the caller got (nil, or an *OpError). A
// command that never got the slot (ctx ended, session dead) is not
// reported. f runs in the calling goroutine
// once the command slot is free again, so it may run concurrently with
// itself; keep it quick (meant for latency metrics). Commands carry
// arguments unmasked (PINs, APDUs): do not log them.
func WithCommandObserver(f func(cmd string, d time.Duration, err error)) Option {
	return func(c *config) { c.observe = f }
}

func newConfig(opts []Option) config {
	c := config{
		startBudget: DefaultStartBudget,
		logger:      slog.New(slog.DiscardHandler),
		clock:       realClock{},
		backoffMin:  500 * time.Millisecond,
		backoffMax:  30 * time.Second,
		syncTimeout: time.Second,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.jitter == nil {
		c.jitter = defaultJitter
	}
	return c
}

// New starts a session on rw and brings the modem into the state the driver
// expects: echo off, numeric CME errors, registration and packet URCs on.
// It never sends ATZ (it would reset the URC modes and, on some modems,
// more). If rw is also an io.Closer, the Modem owns it and closes it on Close
// or on failure.
//
// Start-up is bounded as a whole by DefaultStartBudget (WithStartBudget),
// shortened by ctx. A port that never answers AT fails with ErrTimeout
// within about three sync timeouts. Once the modem has answered, a failure
// is a *StartError naming the command that was cut short: ErrRestarted
// when the modem announces a restart (RDY) half-way, ErrPortLost when the
// port goes, ErrTimeout when the budget runs out. Either way New returns
// promptly and Connect may simply try again.
func New(ctx context.Context, rw io.ReadWriter, opts ...Option) (*Modem, error) {
	cfg := newConfig(opts)
	m := &Modem{
		cfg:     cfg,
		rw:      rw,
		sem:     make(chan struct{}, 1),
		events:  make(chan Event),
		qWake:   make(chan struct{}, 1),
		done:    make(chan struct{}),
		closing: make(chan struct{}),
		reinit:  make(chan struct{}, 1),
	}
	m.timedOutAt.Store(-1)
	m.life, m.endLife = context.WithCancel(context.Background())
	var port io.ReadWriter = rw
	if cfg.trace != nil {
		port = newTrace(rw, cfg.trace)
	}
	pr, pw := io.Pipe()
	m.pw = pw
	// at writes commands straight to the port but reads only what the
	// reader lets through.
	m.at = at.New(struct {
		io.Reader
		io.Writer
	}{pr, sentMarker{m, port}}, at.WithCmds("E0"))

	m.readerWG.Add(1)
	go m.readLoop(port)
	m.wg.Add(2)
	go m.watchAT()
	go m.dispatch()

	if err := m.start(ctx); err != nil {
		m.Close()
		return nil, err
	}
	// Started only now so that it never races start over the dialect; a
	// restart seen during start-up is still queued in m.reinit.
	m.wg.Add(1)
	go m.reinitLoop()
	return m, nil
}

// Close ends the session, closes the port if the Modem owns it, and waits
// for every goroutine the Modem started and every command in flight; those
// return ErrClosed (or ErrPortLost if the port was lost first). It is safe
// to call more than once and concurrently with any other method.
//
// Without an io.Closer a blocked port read or write cannot be interrupted:
// Close then does not wait for the reader or for a command stuck writing.
func (m *Modem) Close() error {
	m.closeOnce.Do(func() {
		close(m.closing)
		m.die(ErrClosed)
		m.opsMu.Lock()
		m.opsClosed = true
		m.opsMu.Unlock()
		c, closer := m.rw.(io.Closer)
		if closer {
			c.Close()
		}
		// at's reader sees EOF, so a command waiting for its reply returns.
		m.pw.CloseWithError(ErrClosed)
		if closer {
			m.ops.Wait()
		}
		m.wg.Wait()
		if closer {
			m.readerWG.Wait()
		}
	})
	return nil
}

// Dialect is the vendor dialect in use. With auto-detection it may change
// during the session: a dialect detected from a failed identity read is
// detected again (see Identity).
func (m *Modem) Dialect() Dialect {
	m.dialectMu.Lock()
	defer m.dialectMu.Unlock()
	return m.dialect
}

func (m *Modem) setDialect(d Dialect) {
	m.dialectMu.Lock()
	defer m.dialectMu.Unlock()
	m.dialect = d
}

// LastResponse is when the modem last sent anything (a reply line, a
// result code or a URC), on the injected clock; zero before the first.
func (m *Modem) LastResponse() time.Time {
	n := m.lastRx.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Responsive reports whether the modem is answering: false from the moment
// a command times out (errors.Is(err, ErrTimeout): the one definition of a
// timeout in this package, whether the command's own budget or the
// caller's deadline ran out first) until the modem next sends a line. A
// hung modem is therefore seen as unresponsive by the first poll that
// reaches it, not only when the port is lost.
func (m *Modem) Responsive() bool {
	t := m.timedOutAt.Load()
	return t < 0 || m.rxReads.Load() > t
}

// noteTimeout records that a command went unanswered. It counts reads, not
// time, so that an injected clock that stands still cannot hide an answer.
func (m *Modem) noteTimeout() { m.timedOutAt.Store(m.rxReads.Load()) }

// Events delivers unsolicited lines in arrival order. It is closed after
// the session dies, once what was queued has been delivered or Close was
// called.
func (m *Modem) Events() <-chan Event { return m.events }

// Done is closed when the session is dead; Err says why.
func (m *Modem) Done() <-chan struct{} { return m.done }

// Err is nil while the session lives, then ErrPortLost or ErrClosed.
func (m *Modem) Err() error {
	m.errMu.Lock()
	defer m.errMu.Unlock()
	return m.err
}

// die records the first cause of death and closes done.
func (m *Modem) die(err error) {
	m.deadOnce.Do(func() {
		m.errMu.Lock()
		m.err = err
		m.errMu.Unlock()
		close(m.done)
		m.endLife()
		if errors.Is(err, ErrPortLost) {
			m.cfg.logger.Warn("modem: port lost")
		}
	})
}

// watchAT turns at's own death (its reader saw EOF) into session death.
func (m *Modem) watchAT() {
	defer m.wg.Done()
	select {
	case <-m.at.Closed():
		m.die(ErrPortLost)
	case <-m.closing:
		// Close shut the pipe; at's goroutines finish on that EOF.
		<-m.at.Closed()
	}
}

// readLoop owns the port's read side until it fails.
func (m *Modem) readLoop(port io.Reader) {
	defer m.readerWG.Done()
	var sp lineSplitter
	buf := make([]byte, 4096)
	for {
		n, err := port.Read(buf)
		lines := sp.feed(buf[:n])
		if len(lines) > 0 {
			m.lastRx.Store(m.cfg.clock.Now().UnixNano())
			m.rxReads.Add(1)
		}
		for _, line := range lines {
			m.route(line)
		}
		if err != nil {
			m.die(ErrPortLost)
			m.pw.CloseWithError(ErrPortLost)
			return
		}
		// A (0, nil) read is what a serial port with a read timeout returns;
		// unlike bufio.Scanner we simply read again.
	}
}

// sentMarker records which command is on the wire before at writes it.
// at writes only from inside Command, after exec (or resync) has set
// inflight, so the command being written is the one in flight. Marking it
// before the write means its answer, which can only follow the write, is
// never read while it looks unsent.
type sentMarker struct {
	m *Modem
	w io.Writer
}

func (s sentMarker) Write(p []byte) (int, error) {
	s.m.sent.Store(s.m.inflight.Load())
	return s.w.Write(p)
}

// echoMark is fed into at (never sent to the modem) where a command's echo
// was read after lines it seemed to own; exec keeps only what follows it.
const echoMark = "\x00imsid-echo"

// route sends one line to the event queue or to at.
//
// URC rule: a line is never lost from Events(). A line of a URC prefix is
// an event unless the command on the wire owns it; a command not yet
// written, or whose echo has not come yet when echo is on, owns nothing
// (the line came before it could be answered); and a
// command whose reply has one information line (cmdSpec.one) gets the
// first such line, while any further one is also delivered as an event,
// because either of the two may be the URC that crossed the command on
// the wire. Duplicate events are harmless (they are triggers to re-query);
// a lost one is not.
func (m *Modem) route(line string) {
	cur := m.inflight.Load()
	if cur != nil && m.sent.Load() != cur {
		// In flight but not yet on the wire: nothing read now answers it.
		cur = nil
	}
	if cur != m.rdCur {
		m.rdCur, m.rdOwned, m.rdURCs = cur, 0, m.rdURCs[:0]
	}
	if cur != nil && m.rdOwned > 0 && isEcho(line) {
		// Echo is back on (the modem restarted). A modem echoes a command
		// before it answers, so the lines the command seemed to own before
		// its echo were not its answer: the URCs among them go to the
		// events, and exec drops them all from the reply at the mark.
		for _, u := range m.rdURCs {
			kind, dom, _ := classifyURC(u, nil)
			m.event(kind, dom, u)
		}
		m.rdOwned, m.rdURCs = 0, m.rdURCs[:0]
		m.feedAT(echoMark)
	}
	if kind, dom, ok := classifyURC(line, cur); ok {
		if kind == EventReset && line != "POWERED DOWN" {
			select {
			case m.reinit <- struct{}{}:
			default:
			}
		}
		m.event(kind, dom, line)
		return
	}
	if final, ok := classifyFinal(line); ok {
		line = final
		if m.swallow.Load() > 0 {
			m.swallow.Add(-1)
			return
		}
		if cur == nil {
			// One final result code per command line (27.007 §5.7.1): with
			// no command on the wire this one is nobody's. Handing it to at
			// would complete the next command with an empty answer.
			m.suspect.Store(true)
			m.cfg.logger.Debug("modem: dropped a final result code with no command on the wire", "line", truncate(line, 24))
			return
		}
		// The reply is complete: whatever follows is not the command's,
		// even before exec gets round to clearing inflight.
		m.inflight.CompareAndSwap(cur, nil)
		m.feedAT(line)
		return
	}
	if cur == nil {
		// The rest of an abandoned reply, or noise: no command to give it to.
		m.cfg.logger.Debug("modem: dropped a line with no command on the wire", "len", len(line))
		return
	}
	if cur.owns(line) {
		m.rdOwned++
		if isKnownURC(line) {
			m.rdURCs = append(m.rdURCs, line)
		}
		if m.rdOwned > 1 && cur.one && isKnownURC(line) {
			kind, dom, _ := classifyURC(line, nil)
			m.event(kind, dom, line)
		}
	}
	m.feedAT(line)
}

func (m *Modem) event(kind EventKind, dom Domain, line string) {
	m.enqueue(Event{Time: m.cfg.clock.Now(), Kind: kind, Domain: dom, Line: line}.withHint())
}

// vendorResultMark prefixes, inside at's input only, a vendor's own error
// result code turned into the "+CME ERROR:" form at ends a command on;
// mapError turns it back into a *VendorResultError.
const vendorResultMark = "imsid-vendor-result:"

// classifyFinal is the one place final result codes are recognised. It
// reports whether line ends a command's reply and returns the line as at
// must see it: the V.250/27.007 codes (OK, ERROR, +CME ERROR, +CMS ERROR)
// as they are, and a registered family's own error codes (Huawei's
// "COMMAND NOT SUPPORT") rewritten so that at ends the command on them.
func classifyFinal(line string) (string, bool) {
	switch {
	case line == "OK" || strings.HasPrefix(line, "ERROR") ||
		strings.HasPrefix(line, "+CME ERROR:") || strings.HasPrefix(line, "+CMS ERROR:"):
		return line, true
	case vendorFinalResult(line):
		return "+CME ERROR: " + vendorResultMark + line, true
	}
	return "", false
}

// feedAT writes one line into at's input. It fails only once at is gone.
func (m *Modem) feedAT(line string) {
	m.pwMu.Lock()
	defer m.pwMu.Unlock()
	m.pw.Write([]byte(line + "\r\n"))
}

func (m *Modem) enqueue(e Event) {
	m.qMu.Lock()
	m.seq++
	e.Seq = m.seq
	if len(m.queue) >= eventQueueCap {
		m.queue = m.queue[1:]
		m.drops++
	}
	m.queue = append(m.queue, e)
	m.qMu.Unlock()
	m.watchMu.Lock()
	for w := range m.watchers {
		select {
		case w <- e:
		default: // an internal watcher polls as well; a miss only slows it
		}
	}
	m.watchMu.Unlock()
	select {
	case m.qWake <- struct{}{}:
	default:
	}
}

// watch gives the engine's own waits (AwaitSIMRefresh) a copy of the event
// stream without taking events from the owner's Events channel.
func (m *Modem) watch() (<-chan Event, func()) {
	w := make(chan Event, 64)
	m.watchMu.Lock()
	if m.watchers == nil {
		m.watchers = make(map[chan Event]struct{})
	}
	m.watchers[w] = struct{}{}
	m.watchMu.Unlock()
	return w, func() {
		m.watchMu.Lock()
		delete(m.watchers, w)
		m.watchMu.Unlock()
	}
}

// dispatch delivers queued events so that a slow consumer never stalls the
// reader (and with it every command).
func (m *Modem) dispatch() {
	defer m.wg.Done()
	defer close(m.events)
	for {
		m.qMu.Lock()
		var e Event
		have := len(m.queue) > 0
		if have {
			e = m.queue[0]
			m.queue = m.queue[1:]
			e.Dropped, m.drops = m.drops, 0
		}
		m.qMu.Unlock()
		if !have {
			select {
			case <-m.qWake:
				continue
			case <-m.done:
				// Lines read before death are already queued (the reader
				// enqueues before it reports loss); deliver them first.
				m.qMu.Lock()
				empty := len(m.queue) == 0
				m.qMu.Unlock()
				if empty {
					return
				}
				continue
			case <-m.closing:
				return
			}
		}
		select {
		case m.events <- e:
		case <-m.closing:
			return
		}
	}
}

// lineSplitter cuts a byte stream into lines on CR or LF, dropping empty
// lines. Modems end lines with CRLF, echo with a bare CR, and some send
// CR CR LF; all of those are line ends.
type lineSplitter struct{ partial []byte }

// maxLine bounds a line so garbage without line ends cannot grow memory.
const maxLine = 64 << 10

func (s *lineSplitter) feed(b []byte) []string {
	var out []string
	for _, c := range b {
		if c == '\r' || c == '\n' {
			if len(s.partial) > 0 {
				out = append(out, string(s.partial))
				s.partial = s.partial[:0]
			}
			continue
		}
		s.partial = append(s.partial, c)
		if len(s.partial) >= maxLine {
			out = append(out, string(s.partial))
			s.partial = s.partial[:0]
		}
	}
	return out
}
