package datalink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/imsid/imsid/internal/hooks"
	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
)

// DataCID is the PDP context the switcher brings up and the data call binds.
const DataCID = 1

// DataCaller is the modem session as the datalink uses it (*modem.Modem).
type DataCaller interface {
	DataCall(ctx context.Context, cid int, up bool) error
}

// Clock is the time source (switcher.Clock fits).
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// Options configure a Manager. Link is required.
type Options struct {
	Link profiles.Link
	// Profile returns a profile's settings by name (for IMSID_APN); nil
	// leaves the APN out.
	Profile func(name string) *profiles.Profile
	// Modem returns the current modem session, nil while there is none.
	Modem func() DataCaller
	// Hooks runs the hooks directory (default: link.hooks_dir with
	// link.hook_timeout).
	Hooks *hooks.Runner
	// Addrs reads the interface's addresses (default: the kernel's).
	Addrs func(iface string) ([]netip.Prefix, error)
	Clock Clock
	Log   *slog.Logger
	// RetryEvery is the wait between bring-up attempts that failed
	// (default 5s); Attempts bounds them per trigger (default 6).
	RetryEvery time.Duration
	Attempts   int
	// StepTimeout bounds one AT command (default 10s).
	StepTimeout time.Duration
}

// Sentinel errors of a bring-up, in Status.LastBringUp.
var (
	// ErrClosed: the Manager was closed.
	ErrClosed = errors.New("datalink: closed")
	// ErrNoModem: no modem session to send the data call on.
	ErrNoModem = errors.New("datalink: no modem session")
	// ErrRenew: the DHCP client or the renew hooks failed.
	ErrRenew = errors.New("datalink: address renewal failed")
	// ErrReconnect: a reconnect hook failed (owner external).
	ErrReconnect = errors.New("datalink: reconnect hook failed")
)

// HookRun is the last hook run, as status shows it.
type HookRun struct {
	Hook     string    `json:"hook"`
	Event    string    `json:"event"`
	At       time.Time `json:"at"`
	Result   string    `json:"result"` // ok, failed, timeout
	ExitCode int       `json:"exit_code"`
	Output   string    `json:"output,omitempty"`
}

// BringUp is the last attempt to bring the link back.
type BringUp struct {
	At      time.Time `json:"at"`
	Trigger string    `json:"trigger"` // the switcher event that asked for it
	OK      bool      `json:"ok"`
	Detail  string    `json:"detail,omitempty"`
	Attempt int       `json:"attempt"`
}

// Status is the data link as status, the API and metrics show it.
type Status struct {
	Owner     string   `json:"owner"`
	Interface string   `json:"interface,omitempty"`
	Bound     bool     `json:"probes_bound"`
	Addresses []string `json:"addresses,omitempty"`
	Up        bool     `json:"up"`
	// Pending: a bring-up waits for registration (or is being retried).
	Pending     bool     `json:"pending,omitempty"`
	LastBringUp *BringUp `json:"last_bring_up,omitempty"`
	LastHook    *HookRun `json:"last_hook,omitempty"`
	HookRuns    uint64   `json:"hook_runs"`
	HookFails   uint64   `json:"hook_failures"`
	Dropped     uint64   `json:"events_dropped,omitempty"`
	// Waiting explains, while registered without a working data path,
	// what the daemon waits for ("registered, waiting for the data
	// session owned by external on wwan0: ...").
	Waiting string `json:"waiting,omitempty"`
}

// maxQueue bounds the events waiting for the worker; beyond it the oldest
// are dropped (and counted), so a wedged hook never grows memory.
const maxQueue = 64

type item struct {
	kind  string // "transition", "decision", "tick", "threat", "pin"
	from  switcher.State
	to    switcher.State
	ev    switcher.Event
	dec   switcher.Decision
	st    switcher.Status
	text  string
	level string
	on    bool
	done  chan struct{}
}

// Manager follows the switcher and keeps the data link. Create with New,
// feed with the On* methods (they never block), stop with Close.
type Manager struct {
	o     Options
	log   *slog.Logger
	hooks *hooks.Runner
	// The link settings, read from Options.Link once, in New.
	external bool
	iface    string
	dataCall bool
	renew    profiles.Renew
	dhcp     []string

	mu      sync.Mutex
	queue   []item
	status  Status
	closed  bool
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	closeMu sync.Once

	// worker-only state
	pending    string // the trigger of a bring-up still to do; "" none
	attempts   int
	retryAt    time.Time
	last       switcher.Status
	haveLast   bool
	linkUp     bool
	lastSwitch switcher.Decision
	waitingLog string
	// linkPLMN is the network the last successful bring-up was made on.
	linkPLMN string
	isolated bool
}

// New starts the Manager's goroutine. With owner imsid a first bring-up is
// due as soon as the modem is registered with a PDP context.
func New(o Options) *Manager {
	if o.Clock == nil {
		o.Clock = switcher.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.RetryEvery <= 0 {
		o.RetryEvery = 5 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 6
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = 10 * time.Second
	}
	if o.Addrs == nil {
		o.Addrs = KernelAddrs
	}
	if o.Modem == nil {
		o.Modem = func() DataCaller { return nil }
	}
	l := o.Link
	h := o.Hooks
	if h == nil {
		h = &hooks.Runner{Dir: l.HooksDir, Timeout: l.HookTimeout.Std(), Log: o.Log.With("component", "hooks"), Now: o.Clock.Now}
	}
	m := &Manager{o: o, log: o.Log, hooks: h, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		external: External(l), iface: l.Interface, dataCall: l.DataCall, renew: l.Renew, dhcp: l.DHCPCommand}
	m.status = Status{Owner: m.owner(), Interface: m.iface, Bound: ProbeInterface(l) != ""}
	if !m.external && (m.dataCall || m.renew != profiles.RenewNone) {
		m.pending = "start"
		m.status.Pending = true
	}
	go m.run()
	return m
}

// Close stops the goroutine and waits for it; a hook running is killed
// (its context ends). Idempotent.
func (m *Manager) Close() {
	m.closeMu.Do(func() {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		close(m.stop)
	})
	<-m.done
}

// OnTransition takes a switcher transition (switcher.WithOnTransition).
func (m *Manager) OnTransition(from, to switcher.State, ev switcher.Event) {
	m.push(item{kind: "transition", from: from, to: to, ev: ev})
}

// OnDecision takes a switcher decision (switcher.WithOnDecision).
func (m *Manager) OnDecision(d switcher.Decision) {
	if d.Kind == switcher.KindStay {
		return
	}
	m.push(item{kind: "decision", dec: d})
}

// OnTick takes the status published at the end of a tick.
func (m *Manager) OnTick(st switcher.Status) { m.push(item{kind: "tick", st: st}) }

// OnThreat takes a threat alert: the rule and its severity.
func (m *Manager) OnThreat(rule, level string) {
	m.push(item{kind: "threat", text: rule, level: level})
}

// OnPin takes an operator's pin (on) or unpin of profile.
func (m *Manager) OnPin(profile string, on bool) { m.push(item{kind: "pin", text: profile, on: on}) }

// Flush waits until every event given before it has been handled (and
// the bring-up it made due, if ready, attempted), or ctx ends.
func (m *Manager) Flush(ctx context.Context) error {
	done := make(chan struct{})
	m.push(item{kind: "flush", done: done})
	select {
	case <-done:
		return nil
	case <-m.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status is a copy of the current view.
func (m *Manager) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.status
	s.Addresses = append([]string(nil), s.Addresses...)
	if s.LastBringUp != nil {
		b := *s.LastBringUp
		s.LastBringUp = &b
	}
	if s.LastHook != nil {
		h := *s.LastHook
		s.LastHook = &h
	}
	return s
}

func (m *Manager) push(it item) {
	if m == nil {
		return // a daemon without a datalink (tests)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	if n := len(m.queue); it.kind == "tick" && n > 0 && m.queue[n-1].kind == "tick" {
		// Of ticks in a row only the newest matters; a tick between two
		// transitions is kept, in order.
		m.queue[n-1] = it
		m.mu.Unlock()
		return
	}
	if len(m.queue) >= maxQueue {
		for i, q := range m.queue {
			if q.kind != "flush" {
				m.queue = append(m.queue[:i], m.queue[i+1:]...)
				m.status.Dropped++
				break
			}
		}
	}
	m.queue = append(m.queue, it)
	m.mu.Unlock()
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

func (m *Manager) run() {
	defer close(m.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-m.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		var retry <-chan time.Time
		if m.pending != "" && !m.retryAt.IsZero() {
			retry = m.o.Clock.After(m.retryAt.Sub(m.o.Clock.Now()))
		}
		select {
		case <-m.stop:
			return
		case <-m.kick:
		case <-retry:
		}
		m.mu.Lock()
		q := m.queue
		m.queue = nil
		m.mu.Unlock()
		var flushed []chan struct{}
		for _, it := range q {
			if ctx.Err() != nil {
				return
			}
			if it.kind == "flush" {
				flushed = append(flushed, it.done)
				continue
			}
			m.handle(ctx, it)
			if it.kind == "tick" {
				// Bring up on the status that made it due, before the
				// events that follow it are told to the hooks.
				m.maybeBringUp(ctx)
			}
		}
		m.maybeBringUp(ctx)
		m.refreshAddrs()
		for _, c := range flushed {
			close(c)
		}
	}
}

func (m *Manager) handle(ctx context.Context, it item) {
	switch it.kind {
	case "tick":
		m.last, m.haveLast = it.st, true
		m.explain()
		if it.st.Isolated != m.isolated {
			m.isolate(ctx, it.st.Isolated)
		}
		// A bring-up made on the registration a switch had not yet
		// replaced (or a rollback returning) is stale once the modem
		// registers elsewhere: do it again on the new network.
		st := it.st
		if m.pending == "" && m.linkPLMN != "" && st.Registered && st.PLMN != "" && st.PLMN != m.linkPLMN &&
			(st.State == switcher.StateVerifying || st.State == switcher.StateRollingBack || st.State == switcher.StateRegistering) {
			m.setPending("network_changed")
		}
	case "decision":
		if it.dec.Kind == switcher.KindSwitch {
			m.lastSwitch = it.dec
		}
	case "threat":
		f := m.facts(hooks.Threat)
		f.Reason, f.Level = it.text, it.level
		m.runHooks(ctx, f)
	case "pin":
		f := m.facts(hooks.Pin)
		f.Result, f.To = "unpinned", it.text
		if it.on {
			f.Result = "pinned"
		}
		m.runHooks(ctx, f)
	case "transition":
		m.transition(ctx, it.from, it.to, it.ev)
	}
}

// linkUpState: the states in which traffic flows.
func linkUpState(s switcher.State) bool {
	return s == switcher.StateConnected || s == switcher.StateDegraded || s == switcher.StateHeld
}

func (m *Manager) transition(ctx context.Context, from, to switcher.State, ev switcher.Event) {
	switch ev {
	case switcher.EvSwitch:
		f := m.facts(hooks.SwitchStart)
		f.From, f.To = m.lastSwitch.From, m.lastSwitch.To
		if len(m.lastSwitch.Reasons) > 0 {
			f.Reason = string(m.lastSwitch.Reasons[0].Code)
		}
		m.runHooks(ctx, f)
	case switcher.EvSwitched, switcher.EvReopened, switcher.EvModemOK, switcher.EvVerifyFailed,
		switcher.EvServiceLost, switcher.EvSIMReady:
		// A new identity (or the old one back), a modem that was reset
		// (the SIM comes ready again; a spontaneous reset keeps the port)
		// or service lost and found again: the data call is gone and the
		// address may be stale.
		if ev == switcher.EvSIMReady && m.pending == "start" {
			break // the first bring-up is already due
		}
		m.setPending(string(ev))
	}
	if res := switchResult(ev); res != "" {
		f := m.facts(hooks.SwitchEnd)
		f.From, f.To, f.Result = m.lastSwitch.From, m.lastSwitch.To, res
		m.runHooks(ctx, f)
	}
	up := linkUpState(to)
	if up != m.linkUp {
		m.linkUp = up
		m.mu.Lock()
		m.status.Up = up
		m.mu.Unlock()
		ev := hooks.LinkDown
		if up {
			ev = hooks.LinkUp
		}
		f := m.facts(ev)
		f.Reason = string(ev)
		m.runHooks(ctx, f)
	}
}

// isolate takes the data session down while no data may flow (the modem
// is registered outside the allowlist with nowhere allowed to go): the
// data call is released (owner imsid) and the hooks are told (owner
// external: the owner takes its session down). When it ends, the link is
// brought up again.
func (m *Manager) isolate(ctx context.Context, on bool) {
	m.isolated = on
	f := m.facts(hooks.LinkIsolate)
	f.Result = "off"
	if on {
		f.Result = "on"
		m.log.Warn("isolated: no data may flow; taking the data session down", "owner", m.owner())
		if !m.external && m.dataCall {
			if dm := m.o.Modem(); dm != nil {
				cctx, cancel := context.WithTimeout(ctx, m.o.StepTimeout)
				if err := dm.DataCall(cctx, DataCID, false); err != nil && !errors.Is(err, modem.ErrNotSupported) {
					m.log.Warn("isolated: releasing the data call failed", "err", err)
				}
				cancel()
			}
		}
	}
	m.runHooks(ctx, f)
	if !on {
		m.setPending("isolation_ended")
	}
}

func switchResult(ev switcher.Event) string {
	switch ev {
	case switcher.EvVerified:
		return "verified"
	case switcher.EvRolledBack:
		return "rolled-back"
	case switcher.EvRollbackFailed:
		return "failed"
	case switcher.EvAborted:
		return "aborted"
	}
	return ""
}

func (m *Manager) setPending(trigger string) {
	if !m.external && !m.dataCall && m.renew == profiles.RenewNone {
		return // nothing to do on the host side
	}
	m.pending, m.attempts, m.retryAt = trigger, 0, time.Time{}
	m.mu.Lock()
	m.status.Pending = true
	m.mu.Unlock()
}

// ready: registered on an allowed network and, when imsid owns the
// session, with the PDP context up; the modem is ready for the data call
// and the host for the renewal.
func (m *Manager) ready() bool {
	if !m.haveLast || !m.last.Registered || m.last.Isolated {
		return false
	}
	switch m.last.State {
	case switcher.StateSwitching, switcher.StateModemLost, switcher.StateStarting, switcher.StateProbing:
		return false
	}
	return m.external || m.last.PDPUp
}

func (m *Manager) maybeBringUp(ctx context.Context) {
	if m.pending == "" || (!m.retryAt.IsZero() && m.o.Clock.Now().Before(m.retryAt)) || !m.ready() {
		return
	}
	m.retryAt = time.Time{}
	m.attempts++
	err := m.bringUp(ctx)
	if ctx.Err() != nil {
		return
	}
	b := &BringUp{At: m.o.Clock.Now(), Trigger: m.pending, OK: err == nil, Attempt: m.attempts}
	if err != nil {
		b.Detail = err.Error()
	}
	switch {
	case err == nil:
		m.log.Info("data link brought up", "owner", m.owner(), "interface", m.iface,
			"trigger", m.pending, "plmn", m.last.PLMN)
		m.pending, m.linkPLMN = "", m.last.PLMN
	case m.attempts >= m.o.Attempts:
		m.log.Warn("data link bring-up failed; giving up until the next switch or reset",
			"trigger", m.pending, "attempts", m.attempts, "err", err)
		m.pending = ""
	default:
		m.log.Warn("data link bring-up failed; retrying", "attempt", m.attempts, "in", m.o.RetryEvery, "err", err)
		m.retryAt = m.o.Clock.Now().Add(m.o.RetryEvery)
	}
	m.mu.Lock()
	m.status.LastBringUp = b
	m.status.Pending = m.pending != ""
	m.mu.Unlock()
}

// bringUp does one attempt: owner imsid dials and renews, owner external
// asks the owner to reconnect.
func (m *Manager) bringUp(ctx context.Context) error {
	if m.external {
		res := m.runHooks(ctx, m.facts(hooks.LinkReconnect))
		for _, r := range res {
			if !r.OK() {
				return fmt.Errorf("%w: %s: %w", ErrReconnect, r.Hook, r.Err)
			}
		}
		return nil
	}
	if m.dataCall {
		dm := m.o.Modem()
		if dm == nil {
			return ErrNoModem
		}
		cctx, cancel := context.WithTimeout(ctx, m.o.StepTimeout)
		err := dm.DataCall(cctx, DataCID, true)
		cancel()
		if err != nil && !errors.Is(err, modem.ErrNotSupported) {
			return fmt.Errorf("data call: %w", err)
		}
	}
	switch m.renew {
	case profiles.RenewDHCP:
		argv := make([]string, len(m.dhcp))
		for i, a := range m.dhcp {
			argv[i] = strings.ReplaceAll(a, "{iface}", m.iface)
		}
		r := m.hooks.Exec(ctx, argv, m.facts(hooks.LinkRenew))
		m.noteHook(r)
		if !r.OK() {
			return fmt.Errorf("%w: %s: %w", ErrRenew, r.Hook, r.Err)
		}
	case profiles.RenewHook:
		for _, r := range m.runHooks(ctx, m.facts(hooks.LinkRenew)) {
			if !r.OK() {
				return fmt.Errorf("%w: %s: %w", ErrRenew, r.Hook, r.Err)
			}
		}
	}
	return nil
}

func (m *Manager) facts(ev hooks.Event) hooks.Facts {
	f := hooks.Facts{Event: ev, Interface: m.iface, Owner: m.owner()}
	if m.haveLast {
		f.Profile, f.PLMN = m.last.Active, m.last.PLMN
	}
	if m.o.Profile != nil && f.Profile != "" {
		if p := m.o.Profile(f.Profile); p != nil {
			f.APN = p.APN
		}
	}
	m.mu.Lock()
	if len(m.status.Addresses) > 0 {
		f.Address = m.status.Addresses[0]
	}
	m.mu.Unlock()
	return f
}

func (m *Manager) runHooks(ctx context.Context, f hooks.Facts) []hooks.Result {
	res := m.hooks.Run(ctx, f)
	for _, r := range res {
		m.noteHook(r)
	}
	return res
}

func (m *Manager) noteHook(r hooks.Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.status.HookRuns++
	if !r.OK() {
		m.status.HookFails++
	}
	m.status.LastHook = &HookRun{Hook: r.Hook, Event: string(r.Event), At: r.At, Result: r.Outcome(), ExitCode: r.ExitCode, Output: r.Output}
}

// explain says, while registered without a working data path, what the
// daemon waits for; logged once per change.
func (m *Manager) explain() {
	st := m.last
	w := ""
	if st.Registered && !st.Isolated && (st.State == switcher.StateRegistering || st.State == switcher.StateVerifying) {
		w = Waiting(m.owner(), m.iface, st)
	}
	m.mu.Lock()
	m.status.Waiting = w
	m.mu.Unlock()
	if w != m.waitingLog {
		m.waitingLog = w
		if w != "" {
			m.log.Info(w)
		}
	}
}

// Waiting is the sentence status shows while registered without a working
// data path: who owns the session and what the probes saw.
func Waiting(owner, iface string, st switcher.Status) string {
	w := "registered, waiting for the data session owned by " + owner
	if owner == string(profiles.LinkOwnerIMSID) && !st.PDPUp {
		w = "registered, waiting for the PDP context (data session owned by imsid)"
	}
	if iface != "" {
		w += " on " + iface
	}
	if st.LastProbe != nil && !st.LastProbe.OK && st.LastProbe.Detail != "" {
		w += ": probes fail: " + st.LastProbe.Detail
	}
	return w
}

func (m *Manager) refreshAddrs() {
	if m.iface == "" {
		return
	}
	ps, err := m.o.Addrs(m.iface)
	var out []string
	if err == nil {
		for _, p := range ps {
			out = append(out, p.String())
		}
	}
	m.mu.Lock()
	m.status.Addresses = out
	m.mu.Unlock()
}

// KernelAddrs reads an interface's addresses from the kernel.
func KernelAddrs(iface string) ([]netip.Prefix, error) {
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, err
	}
	as, err := ifc.Addrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, a := range as {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				ones, _ := n.Mask.Size()
				p := netip.PrefixFrom(ip.Unmap(), ones)
				if p.Addr().IsLinkLocalUnicast() {
					continue
				}
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// owner names who owns the session, as status and the hooks say it.
func (m *Manager) owner() string {
	if m.external {
		return string(profiles.LinkOwnerExternal)
	}
	return string(profiles.LinkOwnerIMSID)
}

// ProbeInterface is the interface the probes bind to: link.interface when
// link.bind_probes is set, else "" (unbound).
func ProbeInterface(l profiles.Link) string {
	if l.BindProbes {
		return l.Interface
	}
	return ""
}

// External reports whether another program owns the data session, so the
// switcher must be built with switcher.WithExternalDataSession.
func External(l profiles.Link) bool { return l.Owner == profiles.LinkOwnerExternal }
