package switcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
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
	// failBackoffMin/Max bound the back-off in the failed state.
	failBackoffMin = time.Minute
	failBackoffMax = 30 * time.Minute
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
	stepTimeout  time.Duration
	onDecision   func(Decision)
	onTransition func(from, to State, ev Event)
	onThreat     func(threat.Result)
	onModemLost  func()
	logger       *slog.Logger
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
	Active      string                 `json:"active"`
	Pin         *Pin                   `json:"pin,omitempty"`
	Quarantines []QuarantineEntry      `json:"quarantines,omitempty"`
	Switches    []time.Time            `json:"switches,omitempty"`
	LastSwitch  time.Time              `json:"last_switch,omitzero"`
	Failures    map[string][]time.Time `json:"failures,omitempty"`
	// Pending is a journalled switch that had not finished.
	Pending *Intent `json:"pending,omitempty"`
}

// Status is a read-only view for the API, refreshed at the end of every tick.
type Status struct {
	At          time.Time         `json:"at"`
	State       State             `json:"state"`
	Active      string            `json:"active"`
	Previous    string            `json:"previous,omitempty"`
	Method      profiles.Method   `json:"method"`
	IMSI        string            `json:"imsi,omitempty"`  // masked
	ICCID       string            `json:"iccid,omitempty"` // masked
	Registered  bool              `json:"registered"`
	PLMN        string            `json:"plmn,omitempty"`
	Tech        string            `json:"tech,omitempty"`
	RSRP        *float64          `json:"rsrp,omitempty"`
	SINR        *float64          `json:"sinr,omitempty"`
	PDPUp       bool              `json:"pdp_up"`
	ProbeFails  int               `json:"probe_failures"`
	LastProbe   *ProbeResult      `json:"last_probe,omitempty"`
	LastProbeAt time.Time         `json:"last_probe_at,omitzero"`
	Pin         *Pin              `json:"pin,omitempty"`
	Suspended   bool              `json:"suspended"`
	ThreatLevel string            `json:"threat_level"`
	Scores      []Score           `json:"scores"`
	Quarantines []QuarantineEntry `json:"quarantines"`
	Switches    int               `json:"switches_in_window"`
	// CapRetryAt is when the next switch fits the cap; zero if it fits now.
	CapRetryAt time.Time     `json:"cap_retry_at,omitzero"`
	DwellUntil time.Time     `json:"dwell_until,omitzero"`
	Recovery   RecoveryStats `json:"recovery"`
}

type manualKind int

const (
	reqForce manualKind = iota + 1
	reqPin
	reqUnpin
)

type manualReq struct {
	kind    manualKind
	profile string
	reason  string
	dur     time.Duration
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
	if o.operator != nil && !o.operator.PLMN.IsZero() {
		return o.operator.PLMN
	}
	if o.serving != nil {
		return o.serving.PLMN
	}
	return modem.PLMN{}
}

func (o *obs) tech() modem.Tech {
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

	active, prev   string
	deadline       time.Time
	verifyWhy      Reason
	pending        *Intent
	needReconcile  bool
	identified     bool
	budget         switchBudget
	lastSwitch     time.Time
	quar           quarantines
	pin            *Pin
	failures       map[string][]time.Time
	departed       map[string]time.Time
	sig            map[string]*sigTrack
	scan           []modem.NetworkEntry
	scanAt         time.Time
	obs            obs
	scores         []Score
	pdpUp          bool
	pdpTried       bool
	probeFails     int
	lastProbe      *ProbeResult
	lastProbeAt    time.Time
	noServiceSince time.Time
	sickTicks      int
	failBackoff    time.Duration
	failedUntil    time.Time
	appletHoldTill time.Time
	jammedURC      bool
	suspended      bool
	threatRes      *threat.Result
	ownEvents      []threat.Event
	actedEpisode   map[threat.Action]int
	rec            RecoveryStats
	recStep        int
	lastKey        string
	seq            uint64

	logMu     sync.Mutex
	decisions *DecisionLog

	reqMu sync.Mutex
	reqs  []manualReq
	wake  chan struct{}

	pub    atomic.Pointer[published]
	closed atomic.Bool
	done   chan struct{}
	once   sync.Once
}

type published struct {
	status Status
	snap   Snapshot
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
		lc:           newLifecycle(StateStarting),
		quar:         newQuarantines(),
		failures:     map[string][]time.Time{},
		departed:     map[string]time.Time{},
		sig:          map[string]*sigTrack{},
		actedEpisode: map[threat.Action]int{},
		decisions:    NewDecisionLog(o.logSize),
		wake:         make(chan struct{}, 1),
		done:         make(chan struct{}),
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
		s.lastSwitch = r.LastSwitch
		for k, v := range r.Failures {
			s.failures[k] = slices.Clone(v)
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
	defer func() { s.publish(now) }()

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

// refuseBusy answers requests that arrive while a switch, recovery or
// start-up is in flight: unpinning is always safe, the rest is refused.
func (s *Switcher) refuseBusy(now time.Time, reqs []manualReq) {
	for _, rq := range reqs {
		if rq.kind == reqUnpin {
			s.pin = nil
			s.fire(EvUnpin)
			continue
		}
		s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerManual,
			Reasons: []Reason{reason(CodeBusy, "request for %q refused: the switcher is %s", rq.profile, s.lc.Current())}}, false)
	}
}

// Run ticks on the signal-poll interval (faster while a switch or recovery
// is in flight) and whenever the modem reports an event, until ctx ends or
// Close is called.
func (s *Switcher) Run(ctx context.Context) error {
	for {
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
		if interval <= 0 {
			interval = fastPoll
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return nil
		case <-s.wake:
		case <-s.clock.After(interval):
		case <-events:
			// Tick re-reads the modem; the event itself is only a hint.
		}
	}
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
	s.identified = false
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
	st := Status{
		At: now, State: s.lc.Current(), Active: s.active, Previous: s.prev, Method: s.cfg.SIM.Method,
		IMSI: s.obs.imsi.String(), ICCID: s.obs.iccid.String(), Registered: s.obs.registered,
		PDPUp: s.pdpUp, ProbeFails: s.probeFails, LastProbeAt: s.lastProbeAt, Suspended: s.suspended,
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
	if s.lastProbe != nil {
		p := *s.lastProbe
		st.LastProbe = &p
	}
	if s.pin != nil {
		p := *s.pin
		st.Pin = &p
	}
	if s.threatRes != nil {
		st.ThreatLevel = s.threatRes.Overall.Level.String()
	}
	capPol := s.cfg.Policy.SwitchCap
	st.Switches = s.budget.count(now, capPol.Window.Std())
	if ok, at := s.budget.allow(now, capPol.Max, capPol.Window.Std()); !ok {
		st.CapRetryAt = at
	}
	if !s.lastSwitch.IsZero() {
		if d := s.lastSwitch.Add(s.cfg.Policy.MinDwell.Std()); d.After(now) {
			st.DwellUntil = d
		}
	}
	snap := Snapshot{Active: s.active, Pin: st.Pin, Quarantines: s.quar.all(), Switches: slices.Clone(s.budget.times),
		LastSwitch: s.lastSwitch}
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
	s.pub.Store(&published{status: st, snap: snap})
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

type modemHealth int

const (
	healthOK modemHealth = iota
	healthSick
	healthLost
)

func classify(err error) modemHealth {
	switch {
	case err == nil:
		return healthOK
	case errors.Is(err, modem.ErrPortLost), errors.Is(err, modem.ErrClosed):
		return healthLost
	case errors.Is(err, modem.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return healthSick
	}
	return healthOK // a device error is an answer: the channel works
}

// observe reads the modem. The modem is sick only when nothing answered.
func (s *Switcher) observe(ctx context.Context, now time.Time) (obs, modemHealth) {
	o := obs{at: now}
	var answered, sick bool
	note := func(err error) bool {
		switch classify(err) {
		case healthLost:
			return false
		case healthSick:
			sick = true
			return true
		}
		answered = true
		return true
	}
	c, cancel := s.step(ctx)
	defer cancel()
	st, err := s.m.SIMState(c)
	if !note(err) {
		return o, healthLost
	}
	if err == nil {
		o.simState = st
	}
	if o.simState == modem.SIMReady {
		if v, err := s.m.IMSI(c); !note(err) {
			return o, healthLost
		} else if err == nil && v.Valid() {
			o.imsi = v
		}
		if v, err := s.m.ICCID(c); !note(err) {
			return o, healthLost
		} else if err == nil {
			o.iccid = v
		}
	}
	regs, err := s.m.Registrations(c)
	if !note(err) {
		return o, healthLost
	}
	o.regs = regs
	for _, r := range regs {
		if r.Status.Registered() && r.Domain != modem.DomainCS {
			o.registered = true
		}
	}
	if !o.registered {
		// Modems that only report CREG still carry data when registered.
		for _, r := range regs {
			if r.Status.Registered() {
				o.registered = true
			}
		}
	}
	if o.registered {
		if op, err := s.m.Operator(c); !note(err) {
			return o, healthLost
		} else if err == nil {
			o.operator = &op
		}
		if sg, err := s.m.Signal(c); !note(err) {
			return o, healthLost
		} else if err == nil {
			o.signal = &sg
		}
		if sc, nb, err := s.m.ServingCell(c); !note(err) {
			return o, healthLost
		} else if err == nil {
			o.serving, o.neighbours, o.haveNeigh = &sc, nb, true
		}
	}
	if sick && !answered {
		return o, healthSick
	}
	return o, healthOK
}

// drainEvents takes what the modem queued without blocking.
func (s *Switcher) drainEvents(now time.Time) []ModemEvent {
	if s.m == nil {
		return nil
	}
	ch := s.m.Events()
	var out []ModemEvent
	for range 256 {
		select {
		case e, ok := <-ch:
			if !ok {
				return out
			}
			if e.At.IsZero() {
				e.At = now
			}
			out = append(out, e)
			continue
		default:
		}
		break
	}
	return out
}

func (s *Switcher) handleEvents(evs []ModemEvent, now time.Time) {
	for _, e := range evs {
		switch e.Kind {
		case ModemEventJamming:
			s.jammedURC = e.Jammed
		case ModemEventReset, ModemEventNetworkDetach, ModemEventPDNDeact, ModemEventSIMRemoved:
			s.pdpUp, s.pdpTried = false, false
		case ModemEventRefresh, ModemEventSIMInserted:
			// An applet or a hand may be rotating the IMSI: do not pre-empt it.
			s.appletHoldTill = laterOf(s.appletHoldTill, now.Add(s.cfg.Policy.AppletHoldoff.Std()))
		}
	}
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (s *Switcher) trackService(now time.Time) {
	if s.obs.registered {
		s.noServiceSince = time.Time{}
		if s.active != "" && s.lc.Current() != StateSwitching {
			t := s.sig[s.active]
			if t == nil {
				t = &sigTrack{}
				s.sig[s.active] = t
			}
			if sg := s.obs.sig(); sg != nil {
				t.add(*sg, s.obs.plmn(), now)
			}
		}
		return
	}
	if s.noServiceSince.IsZero() {
		s.noServiceSince = now
		if s.cfg.SIM.Method == profiles.MethodAutonomous {
			// The applet rotates after its own no-service timer; a reset now
			// would restart that timer (field survey: Eseye, Twilio).
			s.appletHoldTill = laterOf(s.appletHoldTill, now.Add(s.cfg.Policy.AppletHoldoff.Std()))
		}
	}
	s.pdpUp = false
}

// resetAllowed says whether our own CFUN cycle or reset may run now.
func (s *Switcher) resetAllowed(now time.Time) bool { return !now.Before(s.appletHoldTill) }

// identify maps an identity to a profile: ICCID first for euicc and slot
// (one identity per card or profile), the longest IMSI prefix otherwise.
func (s *Switcher) identify(imsi modem.IMSI, iccid modem.ICCID) string {
	byICCID := func() string {
		if iccid == "" {
			return ""
		}
		for _, p := range s.cfg.Profiles {
			if p.ICCID != "" && strings.EqualFold(p.ICCID.Reveal(), iccid.Reveal()) &&
				(p.IMSIPrefix == "" || p.IMSIPrefix.Matches(imsi.Reveal()) || imsi == "") {
				return p.Name
			}
		}
		return ""
	}
	byIMSI := func() string {
		best, bestLen := "", 0
		for _, p := range s.cfg.Profiles {
			if p.IMSIPrefix.Matches(imsi.Reveal()) && len(p.IMSIPrefix) > bestLen {
				best, bestLen = p.Name, len(p.IMSIPrefix)
			}
		}
		return best
	}
	switch s.cfg.SIM.Method {
	case profiles.MethodEUICC, profiles.MethodSlot:
		if n := byICCID(); n != "" {
			return n
		}
		return byIMSI()
	}
	if n := byIMSI(); n != "" {
		return n
	}
	return byICCID()
}

// matches reports whether the observed identity is what profile p expects.
func (s *Switcher) matches(p *profiles.Profile) bool {
	if p.IMSIPrefix != "" && !p.IMSIPrefix.Matches(s.obs.imsi.Reveal()) {
		return false
	}
	if p.ICCID != "" && !strings.EqualFold(p.ICCID.Reveal(), s.obs.iccid.Reveal()) {
		return false
	}
	return s.identify(s.obs.imsi, s.obs.iccid) == p.Name
}

// firstIdentity runs once per modem session, when the SIM is first read:
// it reconciles a journalled switch or adopts what the SIM carries.
func (s *Switcher) firstIdentity(ctx context.Context, now time.Time) {
	s.identified = true
	got := s.identify(s.obs.imsi, s.obs.iccid)
	if s.needReconcile && s.pending != nil {
		in := *s.pending
		s.needReconcile = false
		ok := got == in.To
		r := reason(CodeReconcile, "switch #%d %s→%s was unfinished at start; the SIM carries %q", in.Seq, in.From, in.To, got)
		s.record(now, Decision{Kind: KindAdopt, From: in.From, To: got, Trigger: TriggerExternal, Reasons: []Reason{r}}, false)
		s.finishJournal(ctx, now, ok, r, got)
		s.active = got
		return
	}
	if got != s.active {
		r := reason(CodeExternalChange, "the SIM carries %q, expected %q", got, s.active)
		if got == "" {
			r = reason(CodeUnknownProfile, "the SIM's identity matches no configured profile")
		}
		if s.active != "" || got == "" {
			s.record(now, Decision{Kind: KindAdopt, From: s.active, To: got, Trigger: TriggerExternal, Reasons: []Reason{r}}, false)
		}
		s.active = got
	}
}

// checkIdentity adopts an identity change we did not make (autonomous
// applets, a hand on the SIM) and holds our resets off meanwhile.
func (s *Switcher) checkIdentity(now time.Time) {
	if s.obs.imsi == "" && s.obs.iccid == "" {
		return
	}
	got := s.identify(s.obs.imsi, s.obs.iccid)
	if got == s.active {
		return
	}
	r := reason(CodeExternalChange, "identity changed without us: now %q (IMSI %s)", got, s.obs.imsi)
	if got == "" {
		r = reason(CodeUnknownProfile, "identity changed without us to one no profile matches (IMSI %s)", s.obs.imsi)
	}
	s.record(now, Decision{Kind: KindAdopt, From: s.active, To: got, Trigger: TriggerExternal, Reasons: []Reason{r}}, false)
	s.prev, s.active = s.active, got
	s.pdpUp, s.pdpTried, s.probeFails = false, false, 0
	s.appletHoldTill = laterOf(s.appletHoldTill, now.Add(s.cfg.Policy.AppletHoldoff.Std()))
	if s.lc.Current() == StateHeld && (s.pin == nil || s.pin.Profile != got) {
		s.fire(EvUnpin)
	}
}

func (s *Switcher) pdpSpec(p *profiles.Profile) PDPSpec {
	apn := p.APN
	if apn == "" {
		apn = s.cfg.SIM.APN
	}
	typ := strings.ToUpper(string(p.PDPType))
	if typ == "" {
		typ = "IP"
	}
	return PDPSpec{CID: pdpCID, Type: typ, APN: apn, Auth: p.APNAuth, User: p.APNUser, Password: p.APNPassword}
}

// ensureData brings the PDP context up once registered and checks its address.
func (s *Switcher) ensureData(ctx context.Context, _ time.Time) {
	if !s.obs.registered || s.active == "" {
		s.pdpUp = false
		return
	}
	p := s.cfg.Profile(s.active)
	if p == nil {
		return
	}
	c, cancel := s.step(ctx)
	defer cancel()
	if a, err := s.m.PDPAddress(c, pdpCID); err == nil && len(a.Addrs) > 0 {
		s.pdpUp = true
		return
	}
	s.pdpUp = false
	if s.pdpTried {
		// One define/activate per registration; after that we only look.
		return
	}
	s.pdpTried = true
	if err := s.m.DefinePDP(c, s.pdpSpec(p)); err != nil {
		s.log.Warn("switcher: define PDP", "profile", p.Name, "err", err)
		return
	}
	if err := s.m.ActivatePDP(c, pdpCID); err != nil {
		s.log.Warn("switcher: activate PDP", "profile", p.Name, "err", err)
		return
	}
	if a, err := s.m.PDPAddress(c, pdpCID); err == nil && len(a.Addrs) > 0 {
		s.pdpUp = true
	}
}

// probeStep runs a data-path probe when one is due.
func (s *Switcher) probeStep(ctx context.Context, now time.Time) {
	if !s.pdpUp {
		return
	}
	if !s.lastProbeAt.IsZero() && now.Sub(s.lastProbeAt) < s.cfg.Policy.Probes.Interval.Std() {
		return
	}
	ok := s.probe(ctx, now)
	if ok {
		s.probeFails = 0
	} else {
		s.probeFails++
	}
}

func (s *Switcher) probe(ctx context.Context, now time.Time) bool {
	s.lastProbeAt = now
	if s.opt.prober == nil {
		s.lastProbe = &ProbeResult{OK: true, Detail: "no prober configured"}
		return true
	}
	to := s.cfg.Policy.Probes.Timeout.Std()
	if to <= 0 {
		to = s.opt.stepTimeout
	}
	c, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	r, err := s.opt.prober.Probe(c, s.active)
	if err != nil {
		r = ProbeResult{OK: false, Detail: err.Error()}
	}
	s.lastProbe = &r
	return r.OK
}

// lifecycleHealth moves between registering, connected, degraded and held.
func (s *Switcher) lifecycleHealth(now time.Time) {
	st := s.lc.Current()
	switch {
	case !s.obs.registered:
		s.fire(EvServiceLost)
		return
	case !s.pdpUp:
		return
	}
	t := s.sig[s.active]
	degraded := s.probeFails > 0 || (t != nil && belowFloor(t, s.cfg.Policy.Thresholds))
	switch {
	case st == StateRegistering:
		s.fire(EvHealthy)
	case st == StateConnected && degraded:
		s.fire(EvDegrade)
	case st == StateDegraded && !degraded:
		s.fire(EvHealthy)
	}
	if s.pin != nil && s.pin.Profile == s.active {
		s.fire(EvPin)
	}
}

type trig struct {
	kind    Trigger
	reasons []Reason
}

// triggers lists why the active profile should be left.
func (s *Switcher) triggers(now time.Time, scores []Score) (hard, soft trig) {
	pol := s.cfg.Policy
	if s.active == "" {
		hard.kind = TriggerHard
		hard.reasons = append(hard.reasons, reason(CodeUnknownProfile, "the SIM carries no configured profile"))
	}
	if !s.noServiceSince.IsZero() && now.Sub(s.noServiceSince) >= pol.NoServiceTrigger.Std() {
		hard.kind = TriggerHard
		hard.reasons = append(hard.reasons, reason(CodeNoService, "no service for %s", now.Sub(s.noServiceSince).Round(time.Second)))
	}
	if n := pol.Probes.FailuresToDown; n > 0 && s.probeFails >= n {
		hard.kind = TriggerHard
		hard.reasons = append(hard.reasons, reason(CodeDataPathDead, "%d consecutive probe failures", s.probeFails))
	}
	var act *Score
	for i := range scores {
		if scores[i].Active {
			act = &scores[i]
		}
	}
	if act != nil {
		for _, r := range act.Reasons {
			if r.Code == CodePLMNNotAllowed {
				hard.kind = TriggerHard
				hard.reasons = append(hard.reasons, r)
			}
		}
	}
	if s.threatActs() && s.active != "" {
		if lvl := s.threatLevel(s.active); lvl == threat.SeverityCritical {
			hard.kind = TriggerThreat
			hard.reasons = append(hard.reasons, reason(CodeThreatCritical, "Critical threat on the active profile"))
		} else if s.threatRes.Response.Actions.Has(threat.ActLeaveNow) && s.activeAvoided(now) {
			hard.kind = TriggerThreat
			hard.reasons = append(hard.reasons, reason(CodeThreatLeave, "threat response: leave the quarantined profile or network now"))
		}
	}
	if act != nil {
		for _, r := range act.Reasons {
			if r.Code == CodeOverCap {
				soft.kind = TriggerSoft
				soft.reasons = append(soft.reasons, reason(CodeCapReached, "%s", r.Message))
			}
		}
	}
	return hard, soft
}

// activeAvoided reports whether the active profile or its serving network
// or cell is quarantined.
func (s *Switcher) activeAvoided(now time.Time) bool {
	if _, ok := s.quar.active(now, profileKey(s.active)); ok {
		return true
	}
	if p := s.obs.plmn(); !p.IsZero() {
		if _, ok := s.quar.active(now, "plmn:"+p.String()); ok {
			return true
		}
		if s.obs.serving != nil && s.obs.serving.CellID != nil {
			k := threat.CellKey{PLMN: p, CI: *s.obs.serving.CellID}
			if _, ok := s.quar.active(now, "cell:"+k.String()); ok {
				return true
			}
		}
	}
	return false
}

func (s *Switcher) threatActs() bool {
	return s.threatRes != nil && s.cfg.Policy.Threats.Mode != profiles.ModeShadow
}

// whyNot explains every profile other than chosen.
func whyNot(scores []Score, chosen string, extra map[string][]Reason) []WhyNot {
	var out []WhyNot
	for _, sc := range scores {
		if sc.Profile == chosen {
			continue
		}
		w := WhyNot{Profile: sc.Profile, Total: sc.Total}
		if sc.Active {
			w.Reasons = append(w.Reasons, reason(CodeActive, "the active profile"))
		}
		if !sc.Eligible {
			for _, r := range sc.Reasons {
				switch r.Code {
				case CodeQuarantined, CodeOverCap, CodeNotInScan, CodePLMNAvoided, CodePLMNNotAllowed:
					w.Reasons = append(w.Reasons, r)
				}
			}
		}
		w.Reasons = append(w.Reasons, extra[sc.Profile]...)
		if len(w.Reasons) == 0 {
			w.Reasons = append(w.Reasons, reason(CodeNotBetter, "total %.1f", sc.Total))
		}
		out = append(out, w)
	}
	return out
}

func (s *Switcher) takeRequests() []manualReq {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	r := s.reqs
	s.reqs = nil
	return r
}

// steadyStep is the decision in registering/connected/degraded/held.
func (s *Switcher) steadyStep(ctx context.Context, now time.Time, reqs []manualReq) {
	s.lifecycleHealth(now)
	ranked := s.rank(s.scores)
	pol := s.cfg.Policy

	// Pins lapse on time.
	if s.pin != nil && !s.pin.Until.IsZero() && !now.Before(s.pin.Until) {
		p := s.pin.Profile
		s.pin = nil
		s.fire(EvUnpin)
		s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerManual,
			Reasons: []Reason{reason(CodePinned, "pin on %q expired", p)}}, false)
	}

	for _, rq := range reqs {
		if s.manual(ctx, now, rq, ranked) {
			return
		}
	}

	hard, soft := s.triggers(now, s.scores)
	var best *Score
	for i := range ranked {
		if !ranked[i].Active && ranked[i].Eligible {
			best = &ranked[i]
			break
		}
	}
	var act Score
	for _, sc := range s.scores {
		if sc.Active {
			act = sc
		}
	}
	if hard.kind == TriggerNone && best != nil && s.active != "" && best.Total >= act.Total+margin(pol.Thresholds) {
		soft.kind = TriggerSoft
		soft.reasons = append(soft.reasons, reason(CodeBetterProfile, "%q scores %.1f against %.1f (margin %.1f)",
			best.Profile, best.Total, act.Total, margin(pol.Thresholds)))
	}
	t := hard
	if t.kind == TriggerNone {
		t = soft
	}
	if t.kind == TriggerNone {
		return
	}
	stay := func(kind Kind, extra ...Reason) {
		rs := append(slices.Clone(t.reasons), extra...)
		wn := map[string][]Reason{}
		if best != nil {
			wn[best.Profile] = extra
		}
		s.record(now, Decision{Kind: kind, From: s.active, To: s.active, Trigger: t.kind, Reasons: rs,
			WhyNot: whyNot(ranked, s.active, wn)}, true)
	}

	if s.cfg.SIM.Method == profiles.MethodAutonomous {
		stay(KindStay, reason(CodeAutonomous, "the applet selects the IMSI; imsid only observes"))
		return
	}
	if s.suspended {
		stay(KindSuspend, reason(CodeSuspended, "jamming: changing profile would not help"))
		return
	}
	if s.pin != nil && s.pin.Profile == s.active {
		override := pol.CriticalOverridesPin && slices.ContainsFunc(t.reasons, func(r Reason) bool { return r.Code == CodeThreatCritical })
		if !override {
			stay(KindHold, reason(CodePinned, "pinned to %q", s.pin.Profile))
			return
		}
		s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerThreat,
			Reasons: []Reason{reason(CodePinned, "Critical threat overrides the pin on %q", s.pin.Profile)}}, false)
		s.pin = nil
		s.fire(EvUnpin)
	}
	if best == nil {
		if hard.kind == TriggerHard && (!s.obs.registered || s.probeFails >= pol.Probes.FailuresToDown || s.active == "") {
			s.record(now, Decision{Kind: KindFail, From: s.active, Trigger: t.kind,
				Reasons: append(slices.Clone(t.reasons), reason(CodeExhausted, "no eligible profile to switch to")),
				WhyNot:  whyNot(ranked, "", nil)}, true)
			s.fire(EvExhausted)
			s.armBackoff(now)
			return
		}
		// A threat with nowhere to go: stay (restricted mode), never offline.
		stay(KindStay, reason(CodeExhausted, "no eligible profile to switch to"))
		return
	}
	if ok, at := s.budget.allow(now, pol.SwitchCap.Max, pol.SwitchCap.Window.Std()); !ok {
		stay(KindStay, reason(CodeSwitchCap, "%d switches per %s used; next allowed at %s", pol.SwitchCap.Max,
			pol.SwitchCap.Window, at.UTC().Format(time.RFC3339)))
		return
	}
	if hard.kind == TriggerNone && !s.lastSwitch.IsZero() && now.Sub(s.lastSwitch) < pol.MinDwell.Std() {
		stay(KindStay, reason(CodeDwell, "on %q since %s; minimum dwell %s", s.active,
			s.lastSwitch.UTC().Format(time.RFC3339), pol.MinDwell))
		return
	}
	if hard.kind == TriggerNone && !s.checkTarget(ctx, now, best.Profile) {
		stay(KindStay, reason(CodeNotInScan, "%q: no allowed network in a fresh scan", best.Profile))
		return
	}
	s.beginSwitch(ctx, now, best.Profile, t.kind, t.reasons, ranked)
}

// checkTarget refreshes a stale scan before a soft switch and re-checks the
// target against it: a soft trigger is worth a scan, a hard one is not.
func (s *Switcher) checkTarget(ctx context.Context, now time.Time, target string) bool {
	if !s.scanAt.IsZero() && now.Sub(s.scanAt) < scanMaxAge {
		return true
	}
	c, cancel := s.step(ctx)
	defer cancel()
	nets, err := s.m.Scan(c)
	if err != nil {
		// No scan (unsupported, busy): judge on history; verify protects us.
		return true
	}
	s.scan, s.scanAt = nets, now
	s.scores = s.scoreAll(now)
	for _, sc := range s.scores {
		if sc.Profile == target {
			return sc.Eligible
		}
	}
	return false
}

func (s *Switcher) armBackoff(now time.Time) {
	if s.failBackoff == 0 {
		s.failBackoff = failBackoffMin
	} else {
		s.failBackoff = min(2*s.failBackoff, failBackoffMax)
	}
	s.failedUntil = now.Add(s.failBackoff)
}

// failedStep waits out the back-off, then cycles the radio (if no applet
// might be rotating) and starts over.
func (s *Switcher) failedStep(ctx context.Context, now time.Time, reqs []manualReq) {
	for _, rq := range reqs {
		if s.manual(ctx, now, rq, s.rank(s.scores)) {
			return
		}
	}
	if now.Before(s.failedUntil) {
		return
	}
	if s.resetAllowed(now) {
		c, cancel := s.step(ctx)
		_ = s.m.SetFunctionality(c, 0)
		_ = s.m.SetFunctionality(c, 1)
		cancel()
		s.rec.CFUN++
		s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnCFUN})
	}
	s.record(now, Decision{Kind: KindRecover, From: s.active, To: s.active, Trigger: TriggerHard,
		Reasons: []Reason{reason(CodeExhausted, "retrying after %s back-off", s.failBackoff)}}, false)
	s.identified = false
	s.fire(EvRetry)
}

func (s *Switcher) selector(p *profiles.Profile) Selector {
	sel := Selector{Method: s.cfg.SIM.Method, ICCID: p.ICCID, Applet: s.cfg.SIM.Applet, Refresh: s.cfg.SIM.EUICC.Refresh}
	if p.Index != nil {
		sel.Index = *p.Index
	}
	if p.Slot != nil {
		sel.Slot = *p.Slot
	}
	return sel
}

// beginSwitch is check → switch: journal the intent, select the profile
// and start the verify deadline.
func (s *Switcher) beginSwitch(ctx context.Context, now time.Time, to string, t Trigger, why []Reason, ranked []Score) bool {
	p := s.cfg.Profile(to)
	if p == nil {
		return false
	}
	s.seq++
	in := Intent{Seq: s.seq, At: now, From: s.active, To: to, Trigger: t, Reasons: slices.Clone(why)}
	if s.opt.journal != nil {
		c, cancel := s.step(ctx)
		err := s.opt.journal.Intent(c, in)
		cancel()
		if err != nil {
			// Without the intent a restart could not reconcile: do not act.
			s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: t,
				Reasons: append(slices.Clone(why), reason(CodeBusy, "journal: %v", err))}, true)
			return false
		}
	}
	s.pending = &in
	s.record(now, Decision{Kind: KindSwitch, From: s.active, To: to, Trigger: t, Reasons: why, Scores: ranked,
		WhyNot: whyNot(ranked, to, nil)}, false)
	s.fire(EvSwitch)
	s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnSwitchStarted})
	if t != TriggerNone {
		s.budget.record(now)
	}
	s.lastSwitch = now
	if t == TriggerHard || t == TriggerThreat {
		s.departed[s.active] = now
	}
	s.prev, s.active = s.active, to
	s.deadline = now.Add(s.cfg.Policy.VerifyDeadline.Std())
	s.pdpUp, s.pdpTried, s.probeFails = false, false, 0
	s.verifyWhy = reason(CodeVerifyFailed, "not verified yet")
	return s.selectProfile(ctx, now, p, false)
}

func (s *Switcher) selectProfile(ctx context.Context, now time.Time, p *profiles.Profile, rollback bool) bool {
	c, cancel := s.step(ctx)
	err := s.m.SelectProfile(c, s.selector(p))
	cancel()
	switch classify(err) {
	case healthLost:
		s.toModemLost(now, reason(CodeModemLost, "port lost while selecting %q", p.Name))
		return false
	case healthSick:
		// A hung modem is not a bad profile: recover, then reconcile.
		s.needReconcile = true
		s.enterRecovery(now, reason(CodeModemSick, "modem timed out selecting %q", p.Name))
		return false
	}
	if err != nil {
		s.verifyWhy = reason(CodeVerifyFailed, "selecting %q failed: %v", p.Name, err)
		if !rollback {
			s.failTarget(ctx, now)
		} else {
			s.rollbackFailed(ctx, now)
		}
		return false
	}
	if !rollback {
		s.fire(EvSwitched)
	}
	return true
}

// verified checks the active profile against the verify conditions.
func (s *Switcher) verified(ctx context.Context, now time.Time) (bool, Reason) {
	p := s.cfg.Profile(s.active)
	if p == nil {
		return false, reason(CodeUnknownProfile, "profile %q is gone", s.active)
	}
	if s.obs.imsi == "" && s.obs.iccid == "" {
		return false, reason(CodeVerifyFailed, "identity not readable yet")
	}
	if !s.matches(p) {
		return false, reason(CodeVerifyFailed, "SIM still reports IMSI %s / ICCID %s", s.obs.imsi, s.obs.iccid)
	}
	if !s.obs.registered {
		return false, reason(CodeVerifyFailed, "not registered")
	}
	plmn := s.obs.plmn()
	if plmn.IsZero() || !p.AllowsPLMN(profiles.PLMN(plmn.String())) {
		return false, reason(CodeVerifyFailed, "registered on %q, not on the allowlist", plmn.String())
	}
	if tech := s.obs.tech(); tech != modem.TechUnknown && !allowsTech(p, tech) {
		return false, reason(CodeVerifyFailed, "registered on %s, not an allowed RAT", tech)
	}
	s.ensureData(ctx, now)
	if !s.pdpUp {
		return false, reason(CodeVerifyFailed, "no PDP address")
	}
	if !s.probe(ctx, now) {
		return false, reason(CodeVerifyFailed, "data probe failed")
	}
	return true, Reason{}
}

// ratTechs maps a profile RAT to the modem technologies it covers.
func ratTechs(r profiles.RAT) []modem.Tech {
	switch r {
	case profiles.RATGSM:
		return []modem.Tech{modem.TechGSM}
	case profiles.RATUMTS:
		return []modem.Tech{modem.TechUMTS}
	case profiles.RATLTE:
		return []modem.Tech{modem.TechLTE}
	case profiles.RATLTEM:
		return []modem.Tech{modem.TechLTEM}
	case profiles.RATNBIoT:
		return []modem.Tech{modem.TechNBIoT}
	case profiles.RATNR:
		return []modem.Tech{modem.TechNR5G, modem.TechNR5GNSA}
	}
	return nil
}

func allowsTech(p *profiles.Profile, t modem.Tech) bool {
	for _, r := range p.RATs {
		if slices.Contains(ratTechs(r), t) {
			return true
		}
	}
	return false
}

// verifyStep advances switching/verifying/rolling_back by one tick.
func (s *Switcher) verifyStep(ctx context.Context, now time.Time, rollback bool) {
	ok, why := s.verified(ctx, now)
	if ok {
		s.probeFails = 0
		if rollback {
			r := reason(CodeVerifyFailed, "rolled back to %q", s.active)
			s.record(now, Decision{Kind: KindVerified, From: s.prev, To: s.active, Trigger: TriggerHard, Reasons: []Reason{r}}, false)
			s.fire(EvRolledBack)
			s.finishJournal(ctx, now, false, r, s.active)
		} else {
			r := reason(CodeActive, "%q verified: identity, allowed network, PDP address, probe", s.active)
			s.record(now, Decision{Kind: KindVerified, From: s.prev, To: s.active, Reasons: []Reason{r}}, false)
			s.fire(EvVerified)
			s.finishJournal(ctx, now, true, r, s.active)
		}
		s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnSwitchFinished})
		return
	}
	s.verifyWhy = why
	if now.Before(s.deadline) {
		return
	}
	if rollback {
		s.rollbackFailed(ctx, now)
		return
	}
	s.failTarget(ctx, now)
}

// failTarget quarantines the target that did not verify and rolls back.
func (s *Switcher) failTarget(ctx context.Context, now time.Time) {
	target := s.active
	q := s.cfg.Policy.Quarantine
	e := s.quar.add(now, profileKey(target), q.Base.Std(), q.Max.Std(), s.verifyWhy)
	s.failures[target] = append(s.failures[target], now)
	s.pruneFailures(now)
	s.fire(EvVerifyFailed)
	s.record(now, Decision{Kind: KindRollback, From: target, To: s.prev, Trigger: TriggerHard,
		Reasons: []Reason{s.verifyWhy, reason(CodeQuarantined, "%q quarantined until %s (#%d)", target,
			e.Until.UTC().Format(time.RFC3339), e.Count)}}, false)
	if s.prev == "" || s.cfg.Profile(s.prev) == nil {
		s.rollbackFailed(ctx, now)
		return
	}
	s.prev, s.active = target, s.prev
	s.deadline = now.Add(s.cfg.Policy.VerifyDeadline.Std())
	s.pdpUp, s.pdpTried, s.probeFails = false, false, 0
	s.selectProfile(ctx, now, s.cfg.Profile(s.active), true)
}

func (s *Switcher) rollbackFailed(ctx context.Context, now time.Time) {
	r := reason(CodeRollbackFailed, "neither the target nor %q came up: %s", s.active, s.verifyWhy.Message)
	s.record(now, Decision{Kind: KindFail, From: s.prev, To: s.active, Trigger: TriggerHard, Reasons: []Reason{r}}, false)
	s.fire(EvRollbackFailed)
	s.armBackoff(now)
	s.finishJournal(ctx, now, false, r, "")
	s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnSwitchFinished})
}

func (s *Switcher) pruneFailures(now time.Time) {
	for k, v := range s.failures {
		v = slices.DeleteFunc(v, func(t time.Time) bool { return now.Sub(t) >= historyTTL })
		if len(v) == 0 {
			delete(s.failures, k)
		} else {
			s.failures[k] = v
		}
	}
}

func (s *Switcher) finishJournal(ctx context.Context, now time.Time, ok bool, r Reason, active string) {
	if s.pending == nil {
		return
	}
	out := Outcome{Seq: s.pending.Seq, At: now, Active: active, OK: ok, Reason: r}
	if s.opt.journal != nil {
		c, cancel := s.step(ctx)
		if err := s.opt.journal.Outcome(c, out); err != nil {
			s.log.Warn("switcher: journal outcome", "err", err)
		}
		cancel()
	}
	if ok {
		s.failBackoff = 0
	}
	s.pending = nil
}

// manual applies one operator request; it reports whether it acted.
func (s *Switcher) manual(ctx context.Context, now time.Time, rq manualReq, ranked []Score) bool {
	switch rq.kind {
	case reqUnpin:
		if s.pin != nil {
			s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerManual,
				Reasons: []Reason{reason(CodePinned, "unpinned %q", s.pin.Profile)}}, false)
		}
		s.pin = nil
		s.fire(EvUnpin)
		return false
	case reqPin:
		if ref := s.refuse("pin", rq.profile, now, rq.profile != s.active); ref != nil {
			s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerManual, Reasons: []Reason{ref.Reason}}, false)
			return false
		}
		s.pin = &Pin{Profile: rq.profile, Since: now}
		if rq.dur > 0 {
			s.pin.Until = now.Add(rq.dur)
		}
		if rq.profile == s.active {
			s.record(now, Decision{Kind: KindHold, From: s.active, To: s.active, Trigger: TriggerManual,
				Reasons: []Reason{reason(CodePin, "pinned to %q", rq.profile)}}, false)
			s.fire(EvPin)
			return false
		}
		return s.beginSwitch(ctx, now, rq.profile, TriggerManual, []Reason{reason(CodePin, "pinned to %q", rq.profile)}, ranked)
	case reqForce:
		if ref := s.refuse("force", rq.profile, now, true); ref != nil {
			s.record(now, Decision{Kind: KindStay, From: s.active, To: s.active, Trigger: TriggerManual, Reasons: []Reason{ref.Reason}}, false)
			return false
		}
		if rq.profile == s.active {
			return false
		}
		if s.pin != nil && s.pin.Profile != rq.profile {
			// Forcing elsewhere is an explicit operator act: it replaces the pin.
			s.pin = nil
			s.fire(EvUnpin)
		}
		msg := rq.reason
		if msg == "" {
			msg = "operator request"
		}
		return s.beginSwitch(ctx, now, rq.profile, TriggerManual, []Reason{reason(CodeManual, "%s", msg)}, ranked)
	}
	return false
}

// refuse checks a manual request against live state; move says a switch
// would be needed. Caller holds s.mu.
func (s *Switcher) refuse(op, name string, now time.Time, move bool) *RefusedError {
	v := view{
		cfg: s.cfg, state: s.lc.Current(), active: s.active, suspended: s.suspended,
		quar: s.quar.list(now),
	}
	if ok, at := s.budget.allow(now, s.cfg.Policy.SwitchCap.Max, s.cfg.Policy.SwitchCap.Window.Std()); !ok {
		v.capRetry = at
	}
	return v.refuse(op, name, now, move)
}

// view is what a manual request is judged on.
type view struct {
	cfg       *profiles.Config
	state     State
	active    string
	suspended bool
	quar      []QuarantineEntry
	capRetry  time.Time
}

func (v view) refuse(op, name string, now time.Time, move bool) *RefusedError {
	ref := func(c Code, at time.Time, format string, a ...any) *RefusedError {
		return &RefusedError{Op: op, Profile: name, Reason: reason(c, format, a...), RetryAt: at}
	}
	if v.cfg.Profile(name) == nil {
		names := make([]string, len(v.cfg.Profiles))
		for i, p := range v.cfg.Profiles {
			names[i] = p.Name
		}
		sort.Strings(names)
		return ref(CodeUnknownProfile, time.Time{}, "no profile %q; known: %s", name, strings.Join(names, ", "))
	}
	if !move {
		return nil
	}
	if v.cfg.SIM.Method == profiles.MethodAutonomous {
		return ref(CodeAutonomous, time.Time{}, "the applet selects the IMSI on its own (method autonomous)")
	}
	for _, q := range v.quar {
		if q.Key == profileKey(name) && now.Before(q.Until) {
			return ref(CodeQuarantined, q.Until, "quarantined (%s) until %s", q.Reason.Code, q.Until.UTC().Format(time.RFC3339))
		}
	}
	if v.suspended {
		return ref(CodeSuspended, time.Time{}, "switching is suspended while jamming is detected")
	}
	switch v.state {
	case StateSwitching, StateVerifying, StateRollingBack, StateRecovering, StateModemLost, StateStarting, StateProbing:
		return ref(CodeBusy, time.Time{}, "the switcher is %s; try again shortly", v.state)
	}
	if !v.capRetry.IsZero() && now.Before(v.capRetry) {
		return ref(CodeSwitchCap, v.capRetry, "the switch cap (%d per %s) is used up", v.cfg.Policy.SwitchCap.Max, v.cfg.Policy.SwitchCap.Window)
	}
	return nil
}

func (s *Switcher) requestView() view {
	st := s.pub.Load().status
	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()
	return view{cfg: cfg, state: st.State, active: st.Active, suspended: st.Suspended, quar: st.Quarantines, capRetry: st.CapRetryAt}
}

func (s *Switcher) enqueue(r manualReq) {
	s.reqMu.Lock()
	s.reqs = append(s.reqs, r)
	s.reqMu.Unlock()
	s.poke()
}

// Force asks for a switch to profile now, skipping the dwell but not the
// cap, quarantines or a jamming suspension. It is checked against the last
// tick's state, queued, and re-checked when the next tick applies it; a
// refusal is a *RefusedError saying why and, where it applies, from when.
func (s *Switcher) Force(profile, why string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	v := s.requestView()
	if ref := v.refuse("force", profile, s.clock.Now(), profile != v.active); ref != nil {
		return ref
	}
	s.enqueue(manualReq{kind: reqForce, profile: profile, reason: why})
	return nil
}

// Pin holds the switcher on profile for d (0: until Unpin), switching to it
// first if needed. Automatic logic respects it; a Critical threat overrides
// it when policy.critical_overrides_pin is set.
func (s *Switcher) Pin(profile string, d time.Duration) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if d < 0 {
		return &RefusedError{Op: "pin", Profile: profile, Reason: reason(CodeBusy, "negative duration %s", d)}
	}
	v := s.requestView()
	if ref := v.refuse("pin", profile, s.clock.Now(), profile != v.active); ref != nil {
		return ref
	}
	s.enqueue(manualReq{kind: reqPin, profile: profile, dur: d})
	return nil
}

// Unpin releases a pin. It is idempotent.
func (s *Switcher) Unpin() error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.enqueue(manualReq{kind: reqUnpin})
	return nil
}

func (s *Switcher) String() string {
	st := s.Status()
	return fmt.Sprintf("switcher{%s on %q}", st.State, st.Active)
}
