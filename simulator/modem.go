package simulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"sync"
	"time"

	"github.com/imsid/imsid/simulator/sim"
)

// Option configures New.
type Option func(*Modem)

// WithClock runs the modem on c instead of the wall clock.
func WithClock(c Clock) Option { return func(m *Modem) { m.clk = c } }

// WithLogger sends the modem's debug log to l. IMSIs and ICCIDs never
// appear in it.
func WithLogger(l *slog.Logger) Option { return func(m *Modem) { m.logger = l } }

// Dir is the direction of a logged chunk.
type Dir int

// Directions of LogEntry.
const (
	In  Dir = iota // written by the client
	Out            // written by the modem
)

func (d Dir) String() string {
	if d == In {
		return "in"
	}
	return "out"
}

// LogEntry is one chunk on the wire, with the exact bytes: a command line
// including its CR (and the LF after it, if the client sent one), or one
// Write the modem made.
type LogEntry struct {
	Time time.Time
	Dir  Dir
	Data []byte
}

const maxLogEntries = 20000

// drainGrace bounds how long a dropping port waits for the client to read
// what was queued before the drop; it is wire mechanics, not scenario time.
const drainGrace = 200 * time.Millisecond

// SIM states as the AT side sees them.
type simState int

const (
	simAbsent simState = iota
	simOff             // CFUN=0 powered the card down
	simBusy            // initialising after a reset or REFRESH
	simReady
)

// Modem is one virtual modem. All of its state sits behind mu; timer
// callbacks and command handlers run with mu held.
type Modem struct {
	sc     *Scenario
	d      *Dialect
	clk    Clock
	logger *slog.Logger

	mu      sync.Mutex
	closed  bool
	done    chan struct{}
	timers  map[*trackedTimer]struct{}
	batches map[time.Time]*timerBatch // by due instant (see timerBatch)
	conn    *conn
	wg      sync.WaitGroup
	log     []LogEntry
	gen     uint64 // bumped by resets and REFRESH; stale timers check it
	lastCmd string // for A/
	post    []func()
	splice  []string // URCs for inside the next response

	// volatile settings (reset by ATZ, CFUN=1,1 and spontaneous resets)
	echo, verbose bool
	quiet         bool // ATQ1: no result codes (V.250 §6.2.5)
	s3            byte // ATS3: the command line terminator (V.250 §6.2.1)
	cmee          int
	regN          [3]int // CREG, CGREG, CEREG
	lastRegURC    [3]string
	cgerep        int
	copsFormat    int
	vol           map[string]string // dialects' volatile settings (#QSS, +QINDCFG)

	// NVM settings, kept across resets
	nvm nvmState

	cfun        int
	copsMode    int
	copsPLMN    string
	cards       [2]*sim.Card
	slot        int // 0 or 1
	sim         simState
	simIMSI     string // IMSI read at the last SIM initialisation
	nets        []*network
	reg         regState
	attachTimer *trackedTimer
	rotTimer    *trackedTimer
	forbidden   map[string]bool // PLMNs that rejected with cause 11 since boot
	jam         *jamming
	camped      *network // the cell last measured with service, kept in limited service
	pdp         map[int]*pdpContext
	ipSeq       int
	usage       usage
	since       since
	lastCause   string
	faults      []armedFault
	late        *lateAnswer
	portDown    time.Duration
	portUp      chan struct{} // closed when the port-down period ends
	portUpAt    time.Time     // when it ends
	portTimer   *trackedTimer // closes portUp
	rngFault    *rand.Rand
	rngJitter   *rand.Rand
	// rngTiming draws attach and refresh delays and PLMN searches
	// (timing.attach_delay_max, refresh_delay_max, plmn_search).
	rngTiming *rand.Rand
	// searchIMSI is the IMSI of the last attach attempt: a change arms
	// timing.plmn_search for the next one.
	searchIMSI string
}

type nvmState struct {
	cgdcont  map[int]*pdpDef
	ratMask  ratMask
	qcfg     map[string]string
	slot     int
	cnmp     int
	nwscan   int
	simStatE int
}

type trackedTimer struct {
	b *timerBatch
	f func()
	// reply marks a command's latency running out: at one instant it runs
	// after the world's timers, so a command answered at the instant a
	// network goes away, or an attach completes, sees the world after it.
	reply bool
}

// timerBatch is every tracked timer due at one instant of the modem's
// clock: one clock timer runs them in the order they were scheduled. Two
// clock timers due at the same instant (two timeline events at the same
// second, the ends of two outages that started together, a command's
// latency ending as an attach completes) fire in whatever order the
// runtime wakes their goroutines, and the run then depends on it (which
// network a roaming profile finds back first, say); a batch makes the order
// the scenario's: the world's timers in the order they were set, then the
// replies.
type timerBatch struct {
	when time.Time
	t    Timer
	tts  []*trackedTimer
}

// New builds a modem from a scenario. The modem starts in steady state:
// booted, SIM ready, registered if a network accepts the IMSI, PDP inactive.
// Timeline events are scheduled relative to the clock's time at New.
func New(sc *Scenario, opts ...Option) (*Modem, error) {
	if sc == nil {
		return nil, fmt.Errorf("simulator: New: nil scenario")
	}
	if !sc.validated {
		// Built in Go rather than parsed: check it and fill the defaults
		// (this writes to sc, once).
		if err := sc.validate(&decoder{file: or(sc.Name, "scenario"), pos: map[string]int{}}); err != nil {
			return nil, fmt.Errorf("simulator: New: %w", err)
		}
		sc.validated = true
	}
	d, ok := lookupDialect(sc.Dialect)
	if !ok {
		return nil, fmt.Errorf("simulator: New: %w dialect %q", ErrUnknown, sc.Dialect)
	}
	m := &Modem{
		sc:        sc,
		d:         d,
		done:      make(chan struct{}),
		timers:    map[*trackedTimer]struct{}{},
		forbidden: map[string]bool{},
		pdp:       map[int]*pdpContext{},
	}
	for _, o := range opts {
		o(m)
	}
	if m.clk == nil {
		m.clk = NewRealClock(1)
	}
	if m.logger == nil {
		m.logger = slog.New(slog.DiscardHandler)
	}
	m.rngFault = rand.New(rand.NewSource(sc.Seed))
	m.rngJitter = rand.New(rand.NewSource(sc.Seed + 1))
	m.rngTiming = rand.New(rand.NewSource(sc.Seed + 2))
	for i, cfg := range []*sim.CardConfig{sc.SIM, sc.SIM2} {
		if cfg == nil {
			continue
		}
		c, err := sim.NewCard(*cfg)
		if err != nil {
			return nil, fmt.Errorf("simulator: New: slot %d: %w", i+1, err)
		}
		m.cards[i] = c
	}
	for i := range sc.Networks {
		m.nets = append(m.nets, newNetwork(&sc.Networks[i]))
	}
	m.nvm = nvmState{
		cgdcont: map[int]*pdpDef{},
		qcfg:    map[string]string{},
		slot:    max(sc.Slot, 1) - 1,
		cnmp:    2,
		ratMask: maskAll,
	}
	m.nvm.cgdcont[1] = &pdpDef{cid: 1, typ: "IP", apn: sc.APN}
	if sc.APN == "" {
		m.nvm.cgdcont[1].typ = "IPV4V6"
	}
	m.mu.Lock()
	defer m.unlock()
	m.resetVolatile()
	m.slot = m.nvm.slot
	m.cfun = 1
	if c := m.activeCard(); c != nil {
		m.sim = simReady
		m.simIMSI = c.IMSI()
	}
	// Steady state: registered at once, without URCs nobody could see.
	if sel := m.selectNetwork(); sel.stat != regSearching {
		m.reg = sel.regState()
		m.camped = sel.net
		m.snapRegURCs()
		m.observeRegistration()
	} else {
		m.reg = regState{stat: regSearching}
	}
	m.usage.last = m.clk.Now()
	for i := range sc.Timeline {
		ev := sc.Timeline[i]
		m.after(ev.At, func() {
			if err := m.runEvent(ev); err != nil {
				m.logger.Warn("timeline event failed", "event", ev.Kind, "at", ev.At, "err", err)
			}
		})
	}
	if sc.Timing.BootOnStart {
		m.rebootLocked(false)
	}
	return m, nil
}

func (m *Modem) resetVolatile() {
	m.echo, m.verbose = true, true
	m.quiet, m.s3 = false, '\r'
	m.cmee = m.d.DefaultCMEE
	m.regN = [3]int{}
	m.lastRegURC = [3]string{}
	m.cgerep = 0
	m.copsFormat = 0
	m.vol = map[string]string{}
}

func (m *Modem) activeCard() *sim.Card { return m.cards[m.slot] }

// after runs f with mu held once d has passed on the modem's clock, unless
// the modem closed first. Call with mu held.
func (m *Modem) after(d time.Duration, f func()) *trackedTimer {
	return m.schedule(&trackedTimer{f: f}, d)
}

func (m *Modem) schedule(tt *trackedTimer, d time.Duration) *trackedTimer {
	m.timers[tt] = struct{}{}
	when := m.clk.Now().Add(max(d, 0))
	if b := m.batches[when]; b != nil {
		tt.b = b
		b.tts = append(b.tts, tt)
		return tt
	}
	b := &timerBatch{when: when, tts: []*trackedTimer{tt}}
	tt.b = b
	if m.batches == nil {
		m.batches = map[time.Time]*timerBatch{}
	}
	m.batches[when] = b
	b.t = m.clk.AfterFunc(d, func() {
		m.mu.Lock()
		defer m.unlock()
		if m.batches[when] == b {
			delete(m.batches, when)
		}
		if m.closed {
			return
		}
		for _, replies := range []bool{false, true} {
			// f may add to the batch's instant: it gets a batch of its own.
			for _, tt := range b.tts {
				if _, ok := m.timers[tt]; !ok || tt.reply != replies {
					continue
				}
				delete(m.timers, tt)
				tt.f()
			}
		}
	})
	return tt
}

// afterGen is after, but f is dropped if a reset or REFRESH happened since.
func (m *Modem) afterGen(d time.Duration, f func()) *trackedTimer {
	g := m.gen
	return m.after(d, func() {
		if m.gen == g {
			f()
		}
	})
}

func (m *Modem) stop(tt *trackedTimer) {
	if tt == nil {
		return
	}
	if _, ok := m.timers[tt]; !ok {
		return
	}
	delete(m.timers, tt)
	// The batch's clock timer stops with its last live timer.
	b := tt.b
	for _, o := range b.tts {
		if _, ok := m.timers[o]; ok {
			return
		}
	}
	b.t.Stop()
	if m.batches[b.when] == b {
		delete(m.batches, b.when)
	}
}

// Close stops the modem: Serve returns, timers are cancelled. It is
// idempotent and waits for the goroutines Serve started.
func (m *Modem) Close() error {
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		close(m.done)
		for _, b := range m.batches {
			b.t.Stop()
		}
		m.timers = map[*trackedTimer]struct{}{}
		m.batches = nil
	}
	m.unlock()
	m.wg.Wait()
	return nil
}

// PortDownFor is how long the port stays away after Serve returned an
// ErrPortDropped error; the pty layer recreates it after that.
func (m *Modem) PortDownFor() time.Duration {
	m.mu.Lock()
	defer m.unlock()
	return m.portDown
}

// WaitPortUp blocks until the port-down period of the last drop has passed
// on the modem's clock (scaled by the real clock's speed, driven by Advance
// on a ManualClock); it returns at once if the port is not down.
func (m *Modem) WaitPortUp(ctx context.Context) error {
	m.mu.Lock()
	up := m.portUp
	m.unlock()
	if up == nil {
		return nil
	}
	select {
	case <-up:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-m.done:
		return ErrClosed
	}
}

func (m *Modem) appendLog(dir Dir, data []byte) {
	if len(m.log) >= maxLogEntries {
		m.log = append(m.log[:0], m.log[len(m.log)/2:]...)
	}
	m.log = append(m.log, LogEntry{Time: m.clk.Now(), Dir: dir, Data: append([]byte(nil), data...)})
}

// Log returns a copy of the wire log.
func (m *Modem) Log() []LogEntry {
	m.mu.Lock()
	defer m.unlock()
	out := make([]LogEntry, len(m.log))
	for i, e := range m.log {
		out[i] = LogEntry{Time: e.Time, Dir: e.Dir, Data: append([]byte(nil), e.Data...)}
	}
	return out
}

// Advance runs the timeline forward by d. It only works with a ManualClock;
// it must not be called from inside a modem callback.
func (m *Modem) Advance(d time.Duration) {
	if mc, ok := m.clk.(*ManualClock); ok {
		mc.Advance(d)
	}
}

// conn is one served port connection.
type conn struct {
	rw      io.ReadWriter
	out     *outQueue
	lines   chan []byte
	dropped chan struct{}
	drop    sync.Once
	failed  chan error
}

func (c *conn) dropPort() { c.drop.Do(func() { close(c.dropped) }) }

// Serve serves one port connection until ctx is done, rw fails, the modem is
// closed, or the modem drops the port (CFUN=1,1 on a USB modem, a port_loss
// fault); in the last case the error wraps ErrPortDropped.
//
// Serve stops its reader and writer before returning by setting past
// deadlines when rw has SetReadDeadline/SetWriteDeadline (net.Conn, a
// non-blocking pty master); with a plain io.ReadWriter a Read in progress
// can only end when rw delivers data or fails.
func (m *Modem) Serve(ctx context.Context, rw io.ReadWriter) error {
	m.mu.Lock()
	if m.closed {
		m.unlock()
		return ErrClosed
	}
	if m.conn != nil {
		m.unlock()
		return ErrBusy
	}
	c := &conn{
		rw:      rw,
		out:     newOutQueue(),
		lines:   make(chan []byte, 16),
		dropped: make(chan struct{}),
		failed:  make(chan error, 2),
	}
	m.conn = c
	m.portDown = 0
	m.unlock()

	readerDone := make(chan struct{})
	writerDone := make(chan struct{})
	stopReader := make(chan struct{})
	_, canUnblock := rw.(readDeadliner)
	if canUnblock {
		m.wg.Add(1)
	}
	go func() {
		if canUnblock {
			defer m.wg.Done()
		}
		defer close(readerDone)
		m.readLoop(c, stopReader)
	}()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(writerDone)
		m.writeLoop(c)
	}()

	err := m.serveLoop(ctx, c)

	m.mu.Lock()
	if m.conn == c {
		m.conn = nil
	}
	m.unlock()
	close(stopReader)
	if errors.Is(err, ErrPortDropped) {
		// Let what was already said (the OK of CFUN=1,1) reach the client.
		c.out.closeDrain()
		select {
		case <-writerDone:
		case <-time.After(drainGrace):
		}
	}
	c.out.close()
	wd, canUnblockW := rw.(writeDeadliner)
	if canUnblockW {
		_ = wd.SetWriteDeadline(time.Unix(1, 0))
	}
	<-writerDone
	if canUnblockW {
		_ = wd.SetWriteDeadline(time.Time{})
	}
	if rd, ok := rw.(readDeadliner); ok {
		_ = rd.SetReadDeadline(time.Unix(1, 0))
		<-readerDone
		_ = rd.SetReadDeadline(time.Time{})
	}
	return err
}

type readDeadliner interface{ SetReadDeadline(time.Time) error }
type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

func (m *Modem) serveLoop(ctx context.Context, c *conn) error {
	for {
		select {
		case line := <-c.lines:
			if err := m.handleLine(ctx, c, line); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-c.dropped:
			return fmt.Errorf("simulator: %w", ErrPortDropped)
		case err := <-c.failed:
			return err
		case <-m.done:
			return ErrClosed
		}
	}
}

// readLoop assembles command lines. Echo happens here, byte by byte as a
// real modem's UART echo does, so a person at a terminal sees what they type.
func (m *Modem) readLoop(c *conn, stop <-chan struct{}) {
	buf := make([]byte, 512)
	var line []byte
	var overflow bool
	empty := 0
	for {
		n, err := c.rw.Read(buf)
		if n == 0 && err == nil {
			// A reader that keeps returning nothing would spin us forever.
			if empty++; empty >= 100 {
				err = io.ErrNoProgress
			}
		} else {
			empty = 0
		}
		if n > 0 {
			m.mu.Lock()
			echo := m.echo && m.conn == c
			var echoed []byte
			// endLine hands the line to the interpreter; term is what ended
			// it on the wire (S3, or nothing after A/). It returns with mu
			// held, false if the loop must stop.
			endLine := func(term []byte) bool {
				raw := append(line, term...)
				m.appendLog(In, raw)
				if echo {
					echoed = append(echoed, term...)
				}
				l := append([]byte(nil), line...)
				if overflow {
					l = []byte("AT\x00overflow")
				}
				line, overflow = line[:0], false
				// The echo of a command line must be on the wire before
				// anything the command answers: queue it before the line
				// reaches the interpreter.
				if len(echoed) > 0 {
					c.out.push(outChunk{data: echoed})
					echoed = nil
				}
				m.unlock()
				select {
				case c.lines <- l:
				case <-stop:
					return false
				}
				m.mu.Lock()
				// The command may have been ATE0/ATE1.
				echo = m.echo && m.conn == c
				return true
			}
			for _, b := range buf[:n] {
				// S3 ends a command line (13 unless ATS3 changed it).
				if b == m.s3 {
					if !endLine([]byte{b}) {
						return
					}
					continue
				}
				switch b {
				case '\n':
					m.appendLFToLastIn()
					continue
				case 0x08, 0x7f: // backspace (S5)
					if len(line) > 0 {
						line = line[:len(line)-1]
					}
				default:
					if len(line) < maxLineLen+64 {
						line = append(line, b)
					} else {
						overflow = true
					}
				}
				if echo {
					echoed = append(echoed, b)
				}
				// V.250 §6.2.2: A/ repeats the last command line at once,
				// without a terminator.
				if b == '/' && isRepeat(line) {
					if !endLine(nil) {
						return
					}
				}
			}
			if len(echoed) > 0 {
				c.out.push(outChunk{data: echoed})
			}
			m.unlock()
		}
		if err != nil {
			select {
			case c.failed <- fmt.Errorf("simulator: read: %w", err):
			default:
			}
			return
		}
		select {
		case <-stop:
			return
		default:
		}
	}
}

// isRepeat reports whether line is "A/" (any case, after the ESC and blanks
// a command line may start with).
func isRepeat(line []byte) bool {
	l := bytes.TrimLeft(line, "\x1b \t")
	return len(l) == 2 && (l[0] == 'A' || l[0] == 'a') && l[1] == '/'
}

func (m *Modem) appendLFToLastIn() {
	for i := len(m.log) - 1; i >= 0; i-- {
		if m.log[i].Dir == In {
			if d := m.log[i].Data; len(d) > 0 && d[len(d)-1] == '\r' {
				m.log[i].Data = append(d, '\n')
			}
			return
		}
	}
}

func (m *Modem) writeLoop(c *conn) {
	for {
		ch, ok := c.out.pop()
		if !ok {
			return
		}
		pieces := [][]byte{ch.data}
		if ch.split != nil {
			pieces = splitRandom(ch.data, ch.split)
		}
		for _, p := range pieces {
			m.mu.Lock()
			m.appendLog(Out, p)
			m.unlock()
			if _, err := c.rw.Write(p); err != nil {
				select {
				case c.failed <- fmt.Errorf("simulator: write: %w", err):
				default:
				}
				c.out.close()
				return
			}
		}
	}
}

// outChunk is one queued write; split, when set, cuts it at random
// boundaries into several writes.
type outChunk struct {
	data  []byte
	split *rand.Rand
}

// outQueue never blocks the producer: URCs are queued under the modem lock
// while the writer may be stuck on a slow client.
type outQueue struct {
	mu       sync.Mutex
	items    []outChunk
	notify   chan struct{}
	closed   bool
	draining bool
}

func newOutQueue() *outQueue { return &outQueue{notify: make(chan struct{}, 1)} }

func (q *outQueue) push(c outChunk) {
	q.mu.Lock()
	if !q.closed {
		q.items = append(q.items, c)
	}
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// closeDrain lets pop return what is queued, then report the end.
func (q *outQueue) closeDrain() {
	q.mu.Lock()
	q.draining = true
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *outQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *outQueue) pop() (outChunk, bool) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return outChunk{}, false
		}
		if len(q.items) > 0 {
			c := q.items[0]
			q.items = q.items[1:]
			q.mu.Unlock()
			return c, true
		}
		if q.draining {
			q.mu.Unlock()
			return outChunk{}, false
		}
		q.mu.Unlock()
		<-q.notify
	}
}

func splitRandom(b []byte, r *rand.Rand) [][]byte {
	var out [][]byte
	for len(b) > 1 {
		n := 1 + r.Intn(len(b))
		if n >= len(b) {
			break
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	if len(b) > 0 {
		out = append(out, b)
	}
	return out
}

// emit queues raw bytes for the current connection; without one they are
// lost, as URCs are on a real port nobody has open. Call with mu held.
func (m *Modem) emit(b []byte) {
	if m.conn == nil || len(b) == 0 {
		return
	}
	m.conn.out.push(outChunk{data: b, split: m.takeSplit()})
}

// urc sends unsolicited lines. Call with mu held.
func (m *Modem) urc(lines ...string) {
	for _, l := range lines {
		m.logger.Debug("urc", "line", l)
		if m.verbose {
			m.emit([]byte("\r\n" + l + m.d.URCTerm))
		} else {
			m.emit([]byte(l + "\r\n"))
		}
	}
}

// waitClock waits d on the modem clock, or until the connection ends. The
// wait ends in the batch of its instant, after the world's timers.
func (m *Modem) waitClock(ctx context.Context, c *conn, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	ch := make(chan struct{})
	m.mu.Lock()
	tt := m.schedule(&trackedTimer{f: func() { close(ch) }, reply: true}, d)
	m.unlock()
	stop := func() {
		m.mu.Lock()
		m.stop(tt)
		m.unlock()
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		stop()
		return ctx.Err()
	case <-c.dropped:
		stop()
		return fmt.Errorf("simulator: %w", ErrPortDropped)
	case err := <-c.failed:
		stop()
		return err
	case <-m.done:
		return ErrClosed
	}
}

// since holds when the SIM state, registration and data flow last took
// their current values, to the instant: a benchmark splits a failover
// into the modem's phases with them, where sampling would round each
// boundary up to the next sample.
type since struct {
	stamped   bool
	sim       simState
	reg, data bool
	stat      int // the 27.007 registration status (a reject is 3)
	simAt     time.Time
	regAt     time.Time
	dataAt    time.Time
	statAt    time.Time
}

// unlock stamps the transitions the holder made and releases mu. Every
// change of state happens under mu at one instant of the modem's clock,
// so the stamp is the instant of the change.
func (m *Modem) unlock() {
	m.stamp()
	m.mu.Unlock()
}

func (m *Modem) stamp() {
	now, t := m.clk.Now(), &m.since
	if reg := m.reg.registered(); !t.stamped || reg != t.reg {
		t.reg, t.regAt = reg, now
	}
	if !t.stamped || m.reg.stat != t.stat {
		t.stat, t.statAt = m.reg.stat, now
	}
	if data := m.dataFlows(); !t.stamped || data != t.data {
		t.data, t.dataAt = data, now
	}
	if !t.stamped || m.sim != t.sim {
		t.sim, t.simAt = m.sim, now
	}
	t.stamped = true
}
