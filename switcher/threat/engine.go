package threat

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/imsid/imsid/modem"
)

// DetectorInfo describes a detector, in the manner of Rayhunter's analyzer
// metadata. Version changes whenever a rule changes meaning, so stored
// findings can be re-read later.
type DetectorInfo struct {
	ID          DetectorID `json:"id"`
	Version     int        `json:"version"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
}

// detector is one detector family with its own bounded state.
type detector interface {
	info() DetectorInfo
	enabled(*Config) bool
	observe(e *env, o *Observation) []Finding
}

// Catalogue lists the detectors the engine runs, in order.
func Catalogue() []DetectorInfo {
	var out []DetectorInfo
	for _, d := range newDetectors() {
		out = append(out, d.info())
	}
	return out
}

func newDetectors() []detector {
	return []detector{&d1{}, &d2{}, &d3{}, newD4(), &d5{}, &d6{}, &d7{}, newD8(), &d9{}, &d10{}}
}

// Episode is one stretch of elevated threat. Its response only tightens.
type Episode struct {
	ID      int       `json:"id"`
	Active  bool      `json:"active"`
	Started time.Time `json:"started,omitzero"`
	Peak    Severity  `json:"peak"`
}

// Alert is a finding to send upstream now. Folded counts the findings of
// the same rule and scope held back by the rate limit since the last alert.
type Alert struct {
	Finding Finding `json:"finding"`
	Folded  int     `json:"folded,omitempty"`
}

// Result is the engine's answer to one observation.
type Result struct {
	At time.Time `json:"at"`
	// Findings are the findings of this observation only.
	Findings []Finding `json:"findings,omitempty"`
	// Overall is the device-level assessment; Profiles and PLMNs the
	// per-scope ones (sorted by scope), for findings attributed to them.
	Overall  Assessment   `json:"overall"`
	Profiles []Assessment `json:"profiles,omitempty"`
	PLMNs    []Assessment `json:"plmns,omitempty"`
	// Response is the episode's accumulated response.
	Response Response `json:"response"`
	Episode  Episode  `json:"episode"`
	Alerts   []Alert  `json:"alerts,omitempty"`
	// Suppressed is true while our own switch/CFUN/RAT change window is open.
	Suppressed bool `json:"suppressed,omitempty"`
	// Warm is true once the baseline is trusted.
	Warm bool `json:"warm"`
}

// Errors returned by Observe.
var (
	ErrNoTime        = errors.New("threat: observation has no time")
	ErrTimeBackwards = errors.New("threat: observation time went backwards")
)

// ObservationError names the field of an observation that was rejected.
type ObservationError struct {
	Field string
	Err   error
}

func (e *ObservationError) Error() string {
	return "threat: observation " + e.Field + ": " + e.Err.Error()
}
func (e *ObservationError) Unwrap() error { return e.Err }

// Engine runs the detectors over a stream of observations. It is a plain
// value with no goroutines and no clock of its own; it is not safe for
// concurrent use, the caller serialises Observe.
type Engine struct {
	cfg       Config
	base      *Baseline
	fleet     map[CellKey]bool
	detectors []detector

	last    time.Time
	started bool
	hist    history

	switching     bool
	switchStart   time.Time
	suppressUntil time.Time
	maintUntil    time.Time
	// cardUntil ends the window after a card change imsid did not make (a
	// slot or SIM swapped, the card not ready): its detach and re-attach
	// are D10's evidence, not jamming (D8c) or churn (D9a).
	cardUntil time.Time
	lastIMSI  modem.IMSI
	lastICCID modem.ICCID

	window      []Finding
	critical    bool // a tamper-class Critical latched until Acknowledge
	episode     Episode
	response    Response
	lastFiredAt time.Time
	alerted     map[string]alertMark
	acked       map[modem.ICCID]bool
	lastIMEI    string
}

type alertMark struct {
	at     time.Time
	folded int
}

// history is what the detectors share about the previous observations.
type history struct {
	prevServing    CellKey
	havePrev       bool
	baselineCell   CellKey // last trusted cell that served
	haveBaseline   bool
	suspiciousAt   time.Time // serving changed to an unknown / off-baseline cell
	suspiciousCell CellKey
	haveSuspicious bool
	registered     bool
	haveReg        bool
	rsrp           float64
	haveRSRP       bool
	plmn           modem.PLMN
	servingPolls   int
}

// New returns an engine. base may be nil (a fresh baseline starting at the
// first observation) or a baseline loaded from disk, which the engine owns
// from then on.
func New(cfg Config, base *Baseline) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, base: base, fleet: map[CellKey]bool{}, detectors: newDetectors(),
		alerted: map[string]alertMark{}, acked: map[modem.ICCID]bool{}}
	for _, k := range cfg.FleetCells {
		e.fleet[k] = true
	}
	return e, nil
}

// Baseline returns a copy of the current baseline, for persistence.
func (e *Engine) Baseline() *Baseline {
	if e.base == nil {
		return nil
	}
	return e.base.Clone()
}

// Latched reports whether a tamper-class Critical holds the engine until
// Acknowledge.
func (e *Engine) Latched() bool { return e.critical }

// Acknowledge records a human or attested acknowledgement: the current
// IMEI and ICCID are accepted, Critical findings are cleared and the
// episode ends, so the response can loosen again. Only a tamper-class
// Critical (Finding.Latches) needs it; other episodes end on their own.
func (e *Engine) Acknowledge(at time.Time, iccid modem.ICCID) {
	if e.base != nil && e.lastIMEI != "" {
		e.base.IMEI = e.lastIMEI
	}
	if iccid != "" {
		e.acked[iccid] = true
	}
	e.critical = false
	e.window = slices.DeleteFunc(e.window, func(f Finding) bool { return f.Severity == SeverityCritical })
	e.episode.Active = false
	e.response = Response{}
	e.lastFiredAt = at
}

// env is the per-observation context handed to detectors.
type env struct {
	cfg         *Config
	base        *Baseline
	fleet       map[CellKey]bool
	hist        *history
	now         time.Time
	profile     string
	policy      ProfilePolicy
	suppressed  bool
	maintenance bool
	warm        bool
	stationary  bool
	acked       map[modem.ICCID]bool
	engine      *Engine
	// jamming: D8 (which runs before D9) sees jamming in this observation
	// or is confirming it; registration losses are then the jammer's.
	jamming bool
	// cardChange: within Suppression.After of a card change imsid did not
	// make; registration losses are the card's (Engine.cardUntil).
	cardChange bool
}

func (e *env) known(k CellKey) bool { return e.fleet[k] || e.base.trusted(k, &e.cfg.Baseline) }

// suspicious: a cell that is unknown, or in a TAC the site has never seen.
func (e *env) suspicious(k CellKey, area uint32, haveArea bool) bool {
	if !e.warm || !e.stationary {
		return false
	}
	return !e.known(k) || (haveArea && !e.base.hasTAC(area))
}

// cellOf is the cell an observation is about: the serving report, or the
// registration's CI on the last known PLMN.
func (e *env) cellOf(o *Observation) (CellKey, bool) {
	if k, ok := o.servingKey(); ok {
		return k, true
	}
	if o.Registration != nil && o.Registration.CellID != nil {
		p := o.servingPLMN()
		if p.IsZero() {
			p = e.hist.plmn
		}
		if !p.IsZero() {
			return CellKey{PLMN: p, CI: *o.Registration.CellID}, true
		}
	}
	return CellKey{}, false
}

// scopeFor builds the narrowest scope the observation supports.
func (e *env) scopeFor(o *Observation, kind ScopeKind) Scope {
	s := Scope{Kind: kind, Profile: e.profile, PLMN: o.servingPLMN()}
	if s.PLMN.IsZero() {
		s.PLMN = e.hist.plmn
	}
	if kind == ScopeCell {
		k, ok := e.cellOf(o)
		if !ok {
			if s.PLMN.IsZero() {
				s.Kind = ScopeProfile
			} else {
				s.Kind = ScopePLMN
			}
			return s
		}
		s.Cell, s.PLMN = k, k.PLMN
		if a, ok := o.area(); ok {
			s.Area = a
		}
	}
	if kind == ScopePLMN && s.PLMN.IsZero() {
		s.Kind = ScopeProfile
	}
	if s.Kind == ScopeProfile && s.Profile == "" {
		s.Kind = ScopeDevice
	}
	return s
}

func (e *env) finding(rule string, reason Reason, sev Severity, score float64, scope Scope, msg string, evidence ...Evidence) Finding {
	return Finding{At: e.now, Rule: rule, Reason: reason, Severity: sev, Score: round3(score),
		Scope: scope, Message: msg, Evidence: evidence}
}

// Observe runs every enabled detector on o and returns the findings, the
// scored levels and the episode's response. An observation older than the
// previous one is rejected without changing any state.
func (e *Engine) Observe(o Observation) (Result, error) {
	if o.At.IsZero() {
		return Result{}, &ObservationError{Field: "At", Err: ErrNoTime}
	}
	if e.started && o.At.Before(e.last) {
		return Result{}, &ObservationError{Field: "At", Err: fmt.Errorf("%w: %s before %s", ErrTimeBackwards,
			o.At.UTC().Format(time.RFC3339Nano), e.last.UTC().Format(time.RFC3339Nano))}
	}
	if err := o.validate(); err != nil {
		return Result{}, err
	}
	if e.base == nil {
		e.base = NewBaseline(o.At)
	}
	e.started, e.last = true, o.At
	now := o.At

	// Our own transitions open the suppression window before anything is
	// judged, since the URC that reports a planned switch may ride along.
	for _, ev := range o.Events {
		switch ev.Kind {
		case EventOwnSwitchStarted:
			e.switching, e.switchStart = true, now
		case EventOwnSwitchFinished:
			e.switching = false
			e.extendSuppression(now.Add(e.cfg.Suppression.After))
		case EventOwnCFUN, EventOwnRATChange, EventOwnNetworkSelect:
			e.extendSuppression(now.Add(e.cfg.Suppression.After))
		case EventMaintenance:
			if ev.Until.After(e.maintUntil) {
				e.maintUntil = ev.Until
			}
		}
	}
	if e.switching && now.Sub(e.switchStart) > e.cfg.Suppression.MaxSwitch {
		// A switch whose end we never heard of: close it so suppression cannot be held open forever.
		e.switching = false
		e.extendSuppression(e.switchStart.Add(e.cfg.Suppression.MaxSwitch + e.cfg.Suppression.After))
	}
	suppressed := e.switching || now.Before(e.suppressUntil)
	e.noteCard(&o, now)

	en := &env{cfg: &e.cfg, base: e.base, fleet: e.fleet, hist: &e.hist, now: now, profile: o.Profile,
		policy: e.cfg.profile(o.Profile), suppressed: suppressed, maintenance: now.Before(e.maintUntil), cardChange: now.Before(e.cardUntil),
		warm: e.base.warm(now, &e.cfg.Baseline), stationary: e.cfg.Site.Stationary, acked: e.acked, engine: e}

	var found []Finding
	anomaly := false
	for _, d := range e.detectors {
		if !d.enabled(&e.cfg) {
			continue
		}
		info := d.info()
		for _, f := range d.observe(en, &o) {
			f.Detector, f.Version = info.ID, info.Version
			if f.Scope.Profile == "" {
				f.Scope.Profile = o.Profile
			}
			found = append(found, f)
			if f.Score > 0 && (info.ID == D6 || info.ID == D8) {
				anomaly = true
			}
			if f.Score > 0 && info.ID == D8 {
				en.jamming = true
			}
		}
		if d8, ok := d.(*d8); ok && d8.pending() {
			en.jamming = true
		}
	}
	if d8, ok := e.detectors[7].(*d8); ok && d8.pending() {
		anomaly = true
	}
	// D4 accepts a new tuple only if nothing else fires while it persists.
	others := slices.ContainsFunc(found, func(f Finding) bool { return f.Detector != D4 && f.Score > 0 })
	if d4, ok := e.detectors[3].(*d4); ok {
		d4.noteOthers(others, now)
	}

	for _, f := range found {
		if f.Severity >= SeverityHigh && f.Scope.Kind == ScopeCell {
			e.base.implicate(f.Scope.Cell, now, &e.cfg.Baseline)
		}
	}
	e.base.learn(&o, &e.cfg, learnOpts{identity: !suppressed, signal: !anomaly && !suppressed, locked: en.warm,
		implicated: e.implicated(&o, found)})
	e.updateHistory(en, &o)

	return e.score(now, found, suppressed, en.warm), nil
}

// implicated reports whether the serving cell is an untrusted cell under
// suspicion: the subject of a High-or-above finding now, or quarantined in
// the current episode. Such a cell must not earn trust days, or a catcher
// that keeps coming back would poison the baseline.
func (e *Engine) implicated(o *Observation, found []Finding) bool {
	k, ok := o.servingKey()
	if !ok {
		return false
	}
	for _, f := range found {
		if f.Severity >= SeverityHigh && f.Scope.Kind == ScopeCell && f.Scope.Cell == k && !e.base.trusted(k, &e.cfg.Baseline) {
			return true
		}
	}
	if e.episode.Active && !e.base.trusted(k, &e.cfg.Baseline) {
		for _, q := range e.response.Quarantine {
			if q.Scope.Kind == ScopeCell && q.Scope.Cell == k {
				return true
			}
		}
	}
	return false
}

// noteCard opens the card-change window on an identity that changed, a
// card that is not ready, or a hot-plug event. The losses such a change
// causes can show a poll before the new identity does; D8c needs losses on
// every profile, and D9a three, so the one before is not enough for either.
func (e *Engine) noteCard(o *Observation, now time.Time) {
	change := o.has(EventSIMRemoved) || o.has(EventSIMInserted)
	if sim := o.SIM; sim != nil {
		change = change || (sim.State != modem.SIMUnknown && sim.State != modem.SIMReady) ||
			(sim.IMSI != "" && e.lastIMSI != "" && sim.IMSI != e.lastIMSI) ||
			(sim.ICCID != "" && e.lastICCID != "" && sim.ICCID != e.lastICCID)
		if sim.IMSI != "" {
			e.lastIMSI = sim.IMSI
		}
		if sim.ICCID != "" {
			e.lastICCID = sim.ICCID
		}
	}
	if change && now.Add(e.cfg.Suppression.After).After(e.cardUntil) {
		e.cardUntil = now.Add(e.cfg.Suppression.After)
	}
}

func (e *Engine) extendSuppression(t time.Time) {
	if t.After(e.suppressUntil) {
		e.suppressUntil = t
	}
}

func (e *Engine) updateHistory(en *env, o *Observation) {
	h := &e.hist
	if p := o.servingPLMN(); !p.IsZero() {
		h.plmn = p
	}
	if k, ok := o.servingKey(); ok {
		h.servingPolls++
		a, haveA := o.area()
		if !h.havePrev || h.prevServing != k {
			if en.suspicious(k, a, haveA) {
				h.suspiciousAt, h.suspiciousCell, h.haveSuspicious = en.now, k, true
			}
		}
		h.prevServing, h.havePrev = k, true
		if en.known(k) && !(haveA && en.warm && !e.base.hasTAC(a)) {
			h.baselineCell, h.haveBaseline = k, true
		}
	}
	if o.Registration != nil {
		h.registered, h.haveReg = o.Registration.Status.Registered(), true
	}
	if v, ok := o.rsrp(); ok {
		h.rsrp, h.haveRSRP = v, true
	}
	if o.SIM != nil && o.SIM.IMEI != "" {
		e.lastIMEI = o.SIM.IMEI
	}
}

// maxWindow bounds the scoring window's findings by count.
const maxWindow = 2048

// score folds the new findings into the window, assesses every scope and
// moves the episode's response, which only ever tightens.
func (e *Engine) score(now time.Time, found []Finding, suppressed, warm bool) Result {
	sc := &e.cfg.Scoring
	e.window = append(e.window, found...)
	e.window = slices.DeleteFunc(e.window, func(f Finding) bool {
		return now.Sub(f.At) >= sc.Window // a latched Critical lives in e.critical, not here
	})
	if n := len(e.window) - maxWindow; n > 0 {
		// Bounded by count as well as age: the oldest go first (they
		// weigh least in the score's decay).
		e.window = slices.Delete(e.window, 0, n)
	}
	for _, f := range found {
		if f.Latches() {
			e.critical = true
		}
		if f.Score > 0 {
			e.lastFiredAt = now
		}
	}

	r := Result{At: now, Findings: found, Suppressed: suppressed, Warm: warm}
	r.Overall = assess("overall", e.window, now, sc, func(*Finding) bool { return true })
	if e.critical {
		r.Overall.Level = SeverityCritical
	}
	// A device-wide finding (jamming, a RAT lock changed, a swapped card or
	// modem) names the profile and network it was seen on, but says nothing
	// against them: another profile would meet the same jammer. Counted
	// against the profile, it lowered its score for the finding's lifetime,
	// and the device switched away for "signal" as the jammer left and came
	// back ten minutes later (make demo).
	narrow := func(f *Finding) bool { return f.Scope.Kind != ScopeDevice }
	var profiles, plmns []string
	for i := range e.window {
		f := &e.window[i]
		if !narrow(f) {
			continue
		}
		if f.Scope.Profile != "" && !slices.Contains(profiles, f.Scope.Profile) {
			profiles = append(profiles, f.Scope.Profile)
		}
		if p := f.Scope.PLMN.String(); p != "" && !slices.Contains(plmns, p) {
			plmns = append(plmns, p)
		}
	}
	slices.Sort(profiles)
	slices.Sort(plmns)
	for _, p := range profiles {
		a := assess("profile:"+p, e.window, now, sc, func(f *Finding) bool { return narrow(f) && f.Scope.Profile == p })
		if a.Score > 0 || a.Level > SeverityNone {
			r.Profiles = append(r.Profiles, a)
		}
	}
	for _, p := range plmns {
		a := assess("plmn:"+p, e.window, now, sc, func(f *Finding) bool { return narrow(f) && f.Scope.PLMN.String() == p })
		if a.Score > 0 || a.Level > SeverityNone {
			r.PLMNs = append(r.PLMNs, a)
		}
	}

	step := tierResponse(r.Overall.Level, e.critical, e.window, now, sc)
	for _, f := range found {
		step = step.Merge(f.Response)
	}
	if !e.episode.Active && (!step.IsZero() || r.Overall.Level > SeverityNone) {
		e.episode = Episode{ID: e.episode.ID + 1, Active: true, Started: now}
		e.response = Response{}
	}
	if e.episode.Active {
		e.response = e.response.Merge(step)
		e.episode.Peak = max(e.episode.Peak, r.Overall.Level, e.response.Level)
		if r.Overall.Level == SeverityNone && !e.critical && now.Sub(e.lastFiredAt) >= sc.EpisodeQuiet {
			e.episode.Active = false
		}
	}
	r.Episode = e.episode
	if e.episode.Active {
		r.Response = e.response
		r.Response.Quarantine = slices.Clone(e.response.Quarantine)
	}
	r.Alerts = e.alerts(now, found, r.Response)
	return r
}

// alerts rate-limits upstream alerts to one per (rule, scope) per
// AlertEvery, folding the rest into a count.
func (e *Engine) alerts(now time.Time, found []Finding, resp Response) []Alert {
	var out []Alert
	for _, f := range found {
		if f.Score <= 0 && f.Severity < SeverityCritical {
			continue
		}
		if !f.Response.Actions.Has(ActAlert) && !resp.Actions.Has(ActAlert) {
			continue
		}
		key := f.Rule + "|" + f.Scope.Key()
		m, seen := e.alerted[key]
		if seen && now.Sub(m.at) < e.cfg.Scoring.AlertEvery {
			m.folded++
			e.alerted[key] = m
			continue
		}
		out = append(out, Alert{Finding: f, Folded: m.folded})
		e.alerted[key] = alertMark{at: now}
	}
	// Forget marks that can no longer hold anything back, so memory stays bounded.
	for k, m := range e.alerted {
		if age := now.Sub(m.at); (age >= e.cfg.Scoring.AlertEvery && m.folded == 0) || age >= 4*e.cfg.Scoring.AlertEvery {
			delete(e.alerted, k)
		}
	}
	return out
}

// maskTail keeps the last n characters of an identity for evidence.
func maskTail(s string, n int) string {
	if len(s) <= n {
		return strings.Repeat("*", len(s))
	}
	return strings.Repeat("*", len(s)-n) + s[len(s)-n:]
}
