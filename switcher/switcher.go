package switcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher/threat"
)

// Defaults for knobs the profiles policy does not carry.
const (
	// DefaultStepTimeout bounds every modem call the switcher makes.
	DefaultStepTimeout = 30 * time.Second
	// sickAfter is how many ticks in a row with AT timeouts make the modem
	// (not the profile) sick.
	sickAfter = 2
	// failBackoffMin/Max bound the back-off in the failed state: the
	// device is offline there, so a retry costs nothing it has. Each retry
	// also costs a scan (30 s+) when the last is older than absentMaxAge,
	// and a verify window; with 2 min between retries, a working profile
	// third in turn came back 5 min after it could (DST seed 7992).
	failBackoffMin = 30 * time.Second
	failBackoffMax = time.Minute
	// fastPoll is the tick interval while something is in flight.
	fastPoll = 5 * time.Second
	// pdpCID is the context the switcher brings up.
	pdpCID = 1
)

// Option configures a Switcher.
type Option func(*options)

type options struct {
	clock        Clock
	prober       Prober
	journal      Journal
	usage        Usage
	engine       ThreatEngine
	restore      *Snapshot
	logSize      int
	seqBase      uint64
	onTick       func()
	onView       func(*View)
	stepTimeout  time.Duration
	onDecision   func(Decision)
	onTransition func(from, to State, ev Event)
	onThreat     func(threat.Result)
	onModemLost  func()
	logger       *slog.Logger
	policy       Policy
	// externalData: another program owns the data session; see
	// WithExternalDataSession.
	externalData bool
}

// WithClock injects the clock (default SystemClock).
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithProber sets the data-path prober; without one the data path counts
// as up whenever the PDP context has an address.
func WithProber(p Prober) Option { return func(o *options) { o.prober = p } }

// WithJournal sets the switch journal.
func WithJournal(j Journal) Option { return func(o *options) { o.journal = j } }

// WithUsage sets the usage source for cost scoring (a *profiles.Ledger).
func WithUsage(u Usage) Option { return func(o *options) { o.usage = u } }

// ThreatEngine is the threat side as the switcher uses it; *threat.Engine
// implements it.
type ThreatEngine interface {
	Observe(o threat.Observation) (threat.Result, error)
}

// WithThreat feeds every observation to e and acts on its responses. The
// switcher serialises its calls to e; nobody else may call e.Observe.
func WithThreat(e ThreatEngine) Option { return func(o *options) { o.engine = e } }

// WithRestore starts from persisted state (see Export).
func WithRestore(s Snapshot) Option { return func(o *options) { o.restore = &s } }

// WithDecisionLogSize bounds the in-memory decision log (default 1000).
func WithDecisionLogSize(n int) Option { return func(o *options) { o.logSize = n } }

// WithOnTick is called at the end of every tick, once its view is
// published (Status, Export): the place to persist what the tick changed.
// It runs under the tick's lock and must not block or call back in.
func WithOnTick(f func()) Option { return func(o *options) { o.onTick = f } }

// WithDecisionSeq numbers decisions from after+1: the owner passes the last
// number it persisted, so numbers never repeat across restarts and a
// client paging with ?after= sees one history.
func WithDecisionSeq(after uint64) Option { return func(o *options) { o.seqBase = after } }

// WithStepTimeout bounds each modem call (default DefaultStepTimeout).
func WithStepTimeout(d time.Duration) Option { return func(o *options) { o.stepTimeout = d } }

// WithOnDecision is called, synchronously and without blocking, with every
// recorded decision (for the SSE stream, the upstream outbox, persistence).
func WithOnDecision(f func(Decision)) Option { return func(o *options) { o.onDecision = f } }

// WithOnTransition is called on every lifecycle transition.
func WithOnTransition(f func(from, to State, ev Event)) Option {
	return func(o *options) { o.onTransition = f }
}

// WithOnThreat is called with every threat engine result (alerts to send).
func WithOnThreat(f func(threat.Result)) Option { return func(o *options) { o.onThreat = f } }

// WithOnModemLost is called when the ladder's last step needs the port
// reopened; the owner reopens it and calls Reopened.
func WithOnModemLost(f func()) Option { return func(o *options) { o.onModemLost = f } }

// WithExternalDataSession says another program owns the data session
// (ModemManager with NetworkManager, netifd with uqmi, pppd): the switcher
// brings no PDP context up and needs no PDP address of its own. Once
// registered, the data path is judged by the prober alone (probes bound to
// the cellular interface), in verification as in the steady state.
func WithExternalDataSession() Option { return func(o *options) { o.externalData = true } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Pin holds the switcher on one profile.
type Pin struct {
	Profile string    `json:"profile"`
	Since   time.Time `json:"since"`
	// Until is when the pin lapses; zero holds until Unpin.
	Until time.Time `json:"until,omitzero"`
}

// RecoveryStats counts the recovery ladder's steps.
type RecoveryStats struct {
	Runs      int       `json:"runs"`
	Requery   int       `json:"requery"`
	Resync    int       `json:"resync"`
	CFUN      int       `json:"cfun"`
	Reset     int       `json:"reset"`
	Reopen    int       `json:"reopen"`
	Recovered int       `json:"recovered"`
	Step      string    `json:"step,omitempty"`
	LastAt    time.Time `json:"last_at,omitzero"`
}

// Snapshot is the state worth keeping across restarts.
type Snapshot struct {
	Active      string            `json:"active"`
	Pin         *Pin              `json:"pin,omitempty"`
	Quarantines []QuarantineEntry `json:"quarantines,omitempty"`
	Switches    []time.Time       `json:"switches,omitempty"`
	// OperatorSwitches are the operator's, counted against their own budget.
	OperatorSwitches []time.Time            `json:"operator_switches,omitempty"`
	LastSwitch       time.Time              `json:"last_switch,omitzero"`
	Failures         map[string][]time.Time `json:"failures,omitempty"`
	// Pending is a journalled switch that had not finished.
	Pending *Intent `json:"pending,omitempty"`
	// Signal is each profile's last smoothed signal: the prior after a reboot.
	Signal map[string]SignalTrack `json:"signal,omitempty"`
}

// Status is a read-only view for the API, refreshed at the end of every tick.
type Status struct {
	At         time.Time       `json:"at"`
	State      State           `json:"state"`
	Active     string          `json:"active"`
	Previous   string          `json:"previous,omitempty"`
	Method     profiles.Method `json:"method"`
	IMSI       string          `json:"imsi,omitempty"`  // masked
	ICCID      string          `json:"iccid,omitempty"` // masked
	Registered bool            `json:"registered"`
	PLMN       string          `json:"plmn,omitempty"`
	Tech       string          `json:"tech,omitempty"`
	RSRP       *float64        `json:"rsrp,omitempty"`
	SINR       *float64        `json:"sinr,omitempty"`
	PDPUp      bool            `json:"pdp_up"`
	Addrs      []netip.Addr    `json:"addrs,omitempty"` // of the PDP context, when up
	ProbeFails int             `json:"probe_failures"`
	// ProbesSaved counts probe rounds not sent because the modem's byte
	// counters showed data arriving (probes.traffic_aware).
	ProbesSaved uint64            `json:"probes_saved"`
	LastProbe   *ProbeResult      `json:"last_probe,omitempty"`
	LastProbeAt time.Time         `json:"last_probe_at,omitzero"`
	Pin         *Pin              `json:"pin,omitempty"`
	Suspended   bool              `json:"suspended"`
	ThreatLevel string            `json:"threat_level"`
	Scores      []Score           `json:"scores"`
	Quarantines []QuarantineEntry `json:"quarantines"`
	Switches    int               `json:"switches_in_window"`
	// CapRetryAt is when the next automatic soft switch fits the cap; zero
	// if it fits now. Failover and leaving a threat are never capped.
	CapRetryAt time.Time `json:"cap_retry_at,omitzero"`
	// OperatorSwitches and OperatorCapRetryAt are the same for operator
	// switches, which have their own budget of the same size.
	OperatorSwitches   int       `json:"operator_switches_in_window"`
	OperatorCapRetryAt time.Time `json:"operator_cap_retry_at,omitzero"`
	// Isolated: registered on a network outside the active profile's
	// allowlist with nowhere allowed to go; no data is carried until an
	// allowed network is found.
	Isolated   bool      `json:"isolated,omitempty"`
	DwellUntil time.Time `json:"dwell_until,omitzero"`
	// Deadline is, while switching, verifying or rolling back, when the
	// attempt under way is given up.
	Deadline time.Time `json:"deadline,omitzero"`
	// RetryAt is, in state failed, when the next attempt is due.
	RetryAt  time.Time     `json:"retry_at,omitzero"`
	Recovery RecoveryStats `json:"recovery"`
}

// obs is one tick's reading of the modem.
type obs struct {
	at         time.Time
	simState   modem.SIMState
	imsi       modem.IMSI
	iccid      modem.ICCID
	regs       []modem.Registration
	registered bool
	operator   *modem.Operator
	signal     *modem.Signal
	serving    *modem.ServingCell
	neighbours []modem.Neighbour
	haveNeigh  bool
}

func (o *obs) plmn() modem.PLMN {
	if !o.registered {
		return modem.PLMN{}
	}
	if o.operator != nil && !o.operator.PLMN.IsZero() {
		return o.operator.PLMN
	}
	if o.serving != nil {
		return o.serving.PLMN
	}
	return modem.PLMN{}
}

func (o *obs) tech() modem.Tech {
	if !o.registered {
		return modem.TechUnknown
	}
	if o.serving != nil && o.serving.Tech != modem.TechUnknown {
		return o.serving.Tech
	}
	for _, r := range o.regs {
		if r.Status.Registered() && r.AcT != nil {
			return r.AcT.Tech()
		}
	}
	if o.operator != nil && o.operator.AcT != nil {
		return o.operator.AcT.Tech()
	}
	return modem.TechUnknown
}

// identityRefused reports a registration denied for the identity itself
// (TS 24.301 causes 2 IMSI unknown in HSS, 3 illegal UE, 6 illegal ME, 7
// EPS services not allowed, 8 EPS and non-EPS services not allowed): the
// network is there and will refuse this IMSI wherever it camps. Location
// causes (11 PLMN not allowed, 12, 13, 15 ...) are what a modem collects
// trying other operators' networks once its own has vanished, so they do
// not say the profile's network is present.
func (o *obs) identityRefused() bool {
	for _, r := range o.regs {
		if r.Status != modem.RegDenied || r.RejectCause == nil {
			continue
		}
		switch *r.RejectCause {
		case 2, 3, 6, 7, 8:
			return true
		}
	}
	return false
}

func (o *obs) sig() *modem.Signal {
	if o.serving != nil && (o.serving.Signal.RSRP != nil || o.serving.Signal.SINR != nil || o.serving.Signal.RSSI != nil) {
		return &o.serving.Signal
	}
	return o.signal
}

// Switcher decides and drives profile switches. Tick is the whole control
// loop step; Run calls it on a timer and on modem events.
type Switcher struct {
	opt   options
	clock Clock
	log   *slog.Logger

	mu  sync.Mutex // held for a whole tick; readers use pub
	cfg *profiles.Config
	m   Modem
	lc  *lifecycle

	// Decision state, in groups (state.go).
	switchState
	selection
	memory
	dataPath
	service
	failure
	threatState
	recoveryState
	obs     obs    // what the last poll read
	lastKey string // the last recorded steady decision's key (dedupe)

	logMu     sync.Mutex
	decisions *DecisionLog

	reqMu   sync.Mutex
	reqs    []manualReq
	stashed []ModemEvent // taken off the channel by Run, for the next tick
	wake    chan struct{}

	pub    atomic.Pointer[published]
	closed atomic.Bool
	done   chan struct{}
	once   sync.Once
}

type scoreAt struct {
	at    time.Time
	total float64
}

type published struct {
	status Status
	view   *View
	snap   Snapshot
	cfg    *profiles.Config
}

// New returns a switcher for cfg driving m. cfg must come from
// profiles.Load/Parse (validated, defaults applied).
func New(cfg *profiles.Config, m Modem, opts ...Option) (*Switcher, error) {
	if cfg == nil || len(cfg.Profiles) == 0 {
		return nil, errors.New("switcher: config has no profiles")
	}
	if m == nil {
		return nil, errors.New("switcher: nil modem")
	}
	o := options{clock: SystemClock{}, logSize: 1000, stepTimeout: DefaultStepTimeout}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	s := &Switcher{
		opt: o, clock: o.clock, log: o.logger, cfg: cfg, m: m,
		lc:          newLifecycle(StateStarting),
		memory:      newMemory(),
		threatState: threatState{actedEpisode: map[threat.Action]int{}},
		decisions:   &DecisionLog{max: max(o.logSize, 1), seq: o.seqBase},
		wake:        make(chan struct{}, 1),
		done:        make(chan struct{}),
	}
	if r := o.restore; r != nil {
		if r.Active != "" && cfg.Profile(r.Active) != nil {
			s.active = r.Active
		}
		if r.Pin != nil && cfg.Profile(r.Pin.Profile) != nil {
			p := *r.Pin
			s.pin = &p
		}
		for _, q := range r.Quarantines {
			e := q
			s.quar.m[q.Key] = &e
		}
		s.budget.times = slices.Clone(r.Switches)
		s.opBudget.times = slices.Clone(r.OperatorSwitches)
		s.lastSwitch = r.LastSwitch
		for k, v := range r.Failures {
			s.failures[k] = slices.Clone(v)
		}
		for k, v := range r.Signal {
			if cfg.Profile(k) != nil {
				t := v
				s.sig[k] = &t
			}
		}
		if r.Pending != nil {
			in := *r.Pending
			s.pending, s.needReconcile = &in, true
			s.seq = in.Seq
			// The interrupted switch counts for the dwell and the cap.
			if in.At.After(s.lastSwitch) {
				s.lastSwitch = in.At
			}
		}
	}
	s.publish(s.clock.Now())
	return s, nil
}

// Tick runs one step of the control loop: read the modem, feed the threat
// engine, score, decide and act. It is deterministic given the modem's
// answers and the clock. Calls are serialised.
func (s *Switcher) Tick(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	defer func() {
		s.publish(now)
		if s.opt.onTick != nil {
			s.opt.onTick()
		}
		if s.opt.onView != nil {
			s.opt.onView(s.pub.Load().view)
		}
	}()

	evs := s.drainEvents(now)
	// Requests apply at the first tick after they were made, whatever the
	// state: one queued during a recovery must not fire hours later.
	reqs := s.takeRequests()
	switch s.lc.Current() {
	case StateModemLost:
		s.refuseBusy(now, reqs)
		return nil
	case StateRecovering:
		s.refuseBusy(now, reqs)
		s.recoverStep(ctx, now)
		return nil
	}
	o, health := s.observe(ctx, now)
	if err := ctx.Err(); err != nil {
		// Queries cut short by the caller's cancellation (shutdown) look
		// like "not registered"; acting on them would log a false
		// service loss as the daemon stops. Keep the requests for the
		// next tick, if there is one.
		s.requeue(reqs)
		return err
	}
	switch health {
	case healthLost:
		s.refuseBusy(now, reqs)
		s.toModemLost(now, reason(CodeModemLost, "the port is gone"))
		return nil
	case healthSick:
		s.refuseBusy(now, reqs)
		s.sickTicks++
		if s.sickTicks >= sickAfter {
			s.enterRecovery(now, reason(CodeModemSick, "%d polls in a row with AT timeouts", s.sickTicks))
		}
		return nil
	}
	s.sickTicks = 0
	if s.lc.Current() == StateStarting {
		s.fire(EvModemUp)
	}
	s.obs = o
	s.handleEvents(evs, now)
	s.trackService(now)
	s.feedThreat(now, evs)
	s.applyThreat(ctx, now)
	s.trackReach(now)
	s.checkRATLock(ctx, now)

	if s.lc.Current() == StateProbing {
		if o.simState != modem.SIMReady || (o.imsi == "" && o.iccid == "") {
			s.refuseBusy(now, reqs)
			return nil
		}
		s.firstIdentity(ctx, now)
		s.fire(EvSIMReady)
	}

	switch s.lc.Current() {
	case StateSwitching, StateVerifying:
		s.refuseBusy(now, reqs)
		s.verifyStep(ctx, now, false)
	case StateRollingBack:
		s.refuseBusy(now, reqs)
		s.verifyStep(ctx, now, true)
	case StateFailed:
		s.scores = s.scoreAll(now)
		s.failedStep(ctx, now, reqs)
	case StateStarting, StateProbing:
		s.refuseBusy(now, reqs)
	default:
		s.checkIdentity(now)
		s.ensureData(ctx, now)
		s.probeStep(ctx, now)
		s.scores = s.scoreAll(now)
		s.steadyStep(ctx, now, reqs)
	}
	return nil
}

// Run ticks on the signal-poll interval (faster while a switch or recovery
// is in flight) and whenever the modem reports an event, until ctx ends or
// Close is called.
func (s *Switcher) Run(ctx context.Context) error {
	for {
		lastTick := s.clock.Now()
		if err := s.Tick(ctx); errors.Is(err, ErrClosed) {
			return nil
		}
		var events <-chan ModemEvent
		s.mu.Lock()
		if s.m != nil {
			events = s.m.Events()
		}
		interval := s.cfg.Policy.SignalPoll.Std()
		switch s.lc.Current() {
		case StateSwitching, StateVerifying, StateRollingBack, StateRecovering, StateStarting, StateProbing:
			interval = min(interval, fastPoll)
		}
		// Trouble seen but not yet confirmed (no service, a failed probe)
		// is looked at again soon: the hard triggers count from the first
		// sighting, and a poll interval must not add to them.
		if !s.noServiceSince.IsZero() {
			interval = min(interval, fastPoll)
		}
		if s.probeFails > 0 && s.cfg.Policy.Probes.Retry > 0 {
			interval = min(interval, s.cfg.Policy.Probes.Retry.Std())
		}
		if interval <= 0 {
			interval = fastPoll
		}
		// Wake at the next deadline, not at the next poll after it.
		if d, ok := s.nextDue(s.clock.Now()); ok {
			interval = min(interval, d)
		}
		watch := s.receiving()
		s.mu.Unlock()
		// On a receiving link the counter alone is read every trafficGap
		// between polls; a full tick runs early when it stalls.
		full := s.clock.Now().Add(interval)
		wait := interval
		for watch && wait > trafficGap {
			w, err := s.idle(ctx, trafficGap, events, lastTick)
			if w == wokeStop {
				return err
			}
			if w == wokeEvent || s.watchTraffic(ctx) {
				wait = 0
				break
			}
			wait = full.Sub(s.clock.Now())
		}
		if w, err := s.idle(ctx, wait, events, lastTick); w == wokeStop {
			return err
		}
	}
}

// woke is why idle returned.
type woke int

const (
	wokeTimer woke = iota // the wait ran out
	wokeEvent             // a wake request or a modem event: tick now
	wokeStop              // the context ended or the switcher closed
)

// idle waits up to d for a cause to tick. A modem event is stashed for the
// next tick, which comes no sooner than urcGap after lastTick and no later
// than d.
func (s *Switcher) idle(ctx context.Context, d time.Duration, events <-chan ModemEvent, lastTick time.Time) (woke, error) {
	if d <= 0 {
		return wokeTimer, nil
	}
	timer := s.clock.After(d)
	var e ModemEvent
	var ok bool
	select {
	case <-ctx.Done():
		return wokeStop, ctx.Err()
	case <-s.done:
		return wokeStop, nil
	case <-s.wake:
		return wokeEvent, nil
	case <-timer:
		// An event that came at the same instant is taken as an event,
		// whichever case the select picked: which of two ready cases it
		// takes is random, and the run must not depend on it.
		select {
		case e, ok = <-events:
			timer = nil
		default:
			return wokeTimer, nil
		}
	case e, ok = <-events:
	}
	// Tick re-reads the modem; the event is kept for it. A chatty modem
	// wakes the loop at most every urcGap: URCs still force a re-read
	// within a second, but cannot drive a poll per URC. The gap never
	// delays a tick that was due anyway. The wait is on the clock even
	// when there is no time left to wait: a modem sends its URCs in bursts
	// (+CGEV, +CREG, +CGREG, +CEREG at one instant), and a clock that
	// orders equal instants (the benchmark's) lets the rest of the burst
	// arrive before the tick drains it, instead of the tick taking what
	// had come so far.
	if ok {
		s.stash(e)
	}
	wait := max(urcGap-s.clock.Now().Sub(lastTick), 0)
	if timer == nil {
		wait = 0
	}
	select {
	case <-ctx.Done():
		return wokeStop, ctx.Err()
	case <-s.done:
		return wokeStop, nil
	case <-timer:
	case <-s.clock.After(wait):
	}
	return wokeEvent, nil
}

// urcGap is the least time between a tick and a tick a URC wakes.
const urcGap = time.Second

// stash keeps an event Run took off the channel for the next tick's drain.
func (s *Switcher) stash(e ModemEvent) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	if len(s.stashed) < 256 {
		s.stashed = append(s.stashed, e)
	}
}

// nextDue is the time until the earliest deadline the next tick must not
// be late for: a trigger confirming, a verification ending or reaching one
// of its own judgements (inFlight.due), a back-off or a pin running out.
// Caller holds s.mu.
func (s *Switcher) nextDue(now time.Time) (time.Duration, bool) {
	var due []time.Time
	if !s.noServiceSince.IsZero() {
		due = append(due, s.noServiceSince.Add(s.cfg.Policy.NoServiceTrigger.Std()))
		if s.attaching {
			due = append(due, s.changedAt.Add(s.cfg.Policy.VerifyDeadline.Std()))
		}
		if s.lossEvidence > 0 {
			due = append(due, s.noServiceSince.Add(lossEvidenceMin))
		}
	}
	if !s.noDataSince.IsZero() {
		due = append(due, s.noDataSince.Add(noDataTrigger))
	}
	switch s.lc.Current() {
	case StateSwitching, StateVerifying, StateRollingBack:
		due = append(due, s.deadline)
		due = append(due, s.flight.due()...)
		if s.flight.lastResort {
			// A last resort gives way when a bar on a better one lapses.
			if t := s.barLapse(now); !t.IsZero() {
				due = append(due, t)
			}
		}
	case StateFailed:
		due = append(due, s.failedUntil)
	}
	if s.pin != nil && !s.pin.Until.IsZero() {
		due = append(due, s.pin.Until)
	}
	if t := s.nextProbe(); !t.IsZero() {
		due = append(due, t)
	}
	var best time.Duration
	found := false
	for _, t := range due {
		if d := t.Sub(now); d > 0 && (!found || d < best) {
			// A tick a hair after the instant, so it sees it as reached.
			best, found = d+10*time.Millisecond, true
		}
	}
	return best, found
}

// Close stops Run and refuses further ticks. It is idempotent.
func (s *Switcher) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.done)
	})
	return nil
}

// Reopened hands the switcher a new modem after the port was reopened.
func (s *Switcher) Reopened(m Modem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m = m
	s.sickTicks, s.recStep = 0, 0
	s.pdpUp, s.pdpTried = false, false
	s.traffic = traffic{}
	s.imei = ""
	s.steerKnown = false
	s.fire(EvReopened)
	s.poke()
}

// Reload swaps in a new validated config. Quarantines, pins and history are
// kept; a pin on a profile that no longer exists is dropped.
func (s *Switcher) Reload(cfg *profiles.Config) error {
	if cfg == nil || len(cfg.Profiles) == 0 {
		return errors.New("switcher: config has no profiles")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
	if s.pin != nil && cfg.Profile(s.pin.Profile) == nil {
		s.pin = nil
	}
	s.publish(s.clock.Now())
	return nil
}

func (s *Switcher) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Status returns the view as of the last tick.
func (s *Switcher) Status() Status { return s.pub.Load().status }

// Scores returns every profile's score as of the last tick, best first.
func (s *Switcher) Scores() []Score { return slices.Clone(s.pub.Load().status.Scores) }

// Export returns the state to persist.
func (s *Switcher) Export() Snapshot { return s.pub.Load().snap }

// Decisions returns up to limit decisions after sequence number after.
func (s *Switcher) Decisions(after uint64, limit int) []Decision {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.decisions.Since(after, limit)
}

// State returns the lifecycle state as of the last tick.
func (s *Switcher) State() State { return s.pub.Load().status.State }

func (s *Switcher) publish(now time.Time) {
	s.quar.prune(now, s.cfg.Policy.Quarantine.Max.Std())
	st := Status{
		At: now, State: s.lc.Current(), Active: s.active, Previous: s.prev, Method: s.cfg.SIM.Method,
		IMSI: s.obs.imsi.String(), ICCID: s.obs.iccid.String(), Registered: s.obs.registered,
		PDPUp: s.pdpUp, ProbeFails: s.probeFails, ProbesSaved: s.probesSaved, LastProbeAt: s.lastProbeAt, Suspended: s.suspended,
		Scores: s.rank(s.scores), Quarantines: s.quar.list(now), Recovery: s.rec, ThreatLevel: threat.SeverityNone.String(),
	}
	if p := s.obs.plmn(); !p.IsZero() {
		st.PLMN = p.String()
	}
	st.Tech = string(s.obs.tech())
	if t := s.sig[s.active]; t != nil {
		if t.HaveRSRP {
			v := round1(t.RSRP)
			st.RSRP = &v
		}
		if t.HaveSINR {
			v := round1(t.SINR)
			st.SINR = &v
		}
	}
	if s.pdpUp {
		st.Addrs = slices.Clone(s.addrs)
	}
	if s.lastProbe != nil {
		p := *s.lastProbe
		st.LastProbe = &p
	}
	if s.pin != nil {
		p := *s.pin
		st.Pin = &p
	}
	switch st.State {
	case StateFailed:
		st.RetryAt = s.failedUntil
	case StateSwitching, StateVerifying, StateRollingBack:
		st.Deadline = s.deadline
	}
	if s.threatRes != nil {
		st.ThreatLevel = s.threatRes.Overall.Level.String()
	}
	capPol := s.cfg.Policy.SwitchCap
	st.Switches = s.budget.count(now, capPol.Window.Std())
	if ok, at := s.budget.allow(now, capPol.Max, capPol.Window.Std()); !ok {
		st.CapRetryAt = at
	}
	st.OperatorSwitches = s.opBudget.count(now, capPol.Window.Std())
	if ok, at := s.opBudget.allow(now, capPol.Max, capPol.Window.Std()); !ok {
		st.OperatorCapRetryAt = at
	}
	st.Isolated = s.isolated || s.offList.polls >= offListConfirm
	if on := s.onSince(); !on.IsZero() {
		if d := on.Add(s.cfg.Policy.MinDwell.Std()); d.After(now) {
			st.DwellUntil = d
		}
	}
	snap := Snapshot{Active: s.active, Pin: st.Pin, Quarantines: s.quar.all(), Switches: slices.Clone(s.budget.times),
		OperatorSwitches: slices.Clone(s.opBudget.times), LastSwitch: s.lastSwitch}
	if len(s.failures) > 0 {
		snap.Failures = map[string][]time.Time{}
		for k, v := range s.failures {
			snap.Failures[k] = slices.Clone(v)
		}
	}
	if s.pending != nil {
		in := *s.pending
		snap.Pending = &in
	}
	if len(s.sig) > 0 {
		snap.Signal = map[string]SignalTrack{}
		for k, v := range s.sig {
			snap.Signal[k] = *v
		}
	}
	s.pub.Store(&published{status: st, view: s.view(st), snap: snap, cfg: s.cfg})
}

// fire moves the lifecycle; a transition the table does not allow is a
// bug in the caller, logged rather than crashing the loop.
func (s *Switcher) fire(e Event) {
	from := s.lc.Current()
	if !s.lc.Can(e) {
		return
	}
	if err := s.lc.Fire(e); err != nil {
		s.log.Error("switcher: transition", "event", e, "state", from, "err", err)
		return
	}
	if to := s.lc.Current(); to != from && s.opt.onTransition != nil {
		s.opt.onTransition(from, to, e)
	}
}

// record stores a decision and notifies. Steady-state decisions that repeat
// the previous one (same kind, target and codes) are not recorded again.
func (s *Switcher) record(now time.Time, d Decision, dedupe bool) {
	d.Time = now
	d.Inputs = s.inputs(now)
	if d.Scores == nil {
		d.Scores = s.rank(s.scores)
	}
	codes := make([]string, 0, len(d.Reasons))
	for _, r := range d.Reasons {
		codes = append(codes, string(r.Code))
	}
	key := string(d.Kind) + "|" + d.From + ">" + d.To + "|" + strings.Join(codes, ",")
	if dedupe && key == s.lastKey {
		return
	}
	s.lastKey = key
	s.logMu.Lock()
	d = s.decisions.Add(d)
	s.logMu.Unlock()
	s.log.Info("switcher: decision", "kind", d.Kind, "from", d.From, "to", d.To, "trigger", d.Trigger, "codes", strings.Join(codes, ","))
	if s.opt.onDecision != nil {
		s.opt.onDecision(d)
	}
}

func (s *Switcher) inputs(now time.Time) Inputs {
	in := Inputs{State: s.lc.Current(), Registered: s.obs.registered, ProbeFails: s.probeFails,
		Switches: s.budget.count(now, s.cfg.Policy.SwitchCap.Window.Std())}
	if p := s.obs.plmn(); !p.IsZero() {
		in.PLMN = p.String()
	}
	in.Tech = string(s.obs.tech())
	if t := s.sig[s.active]; t != nil {
		if t.HaveRSRP {
			v := round1(t.RSRP)
			in.RSRP = &v
		}
		if t.HaveSINR {
			v := round1(t.SINR)
			in.SINR = &v
		}
	}
	if s.threatRes != nil {
		in.ThreatLvl = s.threatRes.Overall.Level.String()
	}
	return in
}

func (s *Switcher) step(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opt.stepTimeout)
}

func (s *Switcher) String() string {
	st := s.Status()
	return fmt.Sprintf("switcher{%s on %q}", st.State, st.Active)
}
