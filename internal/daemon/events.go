package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/store"
	"github.com/imsid/imsid/internal/upstream"
	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/threat"
)

// queue runs jobs in order on one goroutine, so the switcher's callbacks
// (which must not block) hand off store writes, SSE publishing and the
// upstream outbox without reordering them. It is unbounded on purpose: a
// dropped job would be a lost event; the jobs are small and fast.
type queue struct {
	mu     sync.Mutex
	jobs   []func()
	wake   chan struct{}
	closed bool
}

func newQueue() *queue { return &queue{wake: make(chan struct{}, 1)} }

func (q *queue) push(f func()) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.jobs = append(q.jobs, f)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// close lets run finish the queued jobs and return.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue) run() {
	for {
		q.mu.Lock()
		jobs, closed := q.jobs, q.closed
		q.jobs = nil
		q.mu.Unlock()
		for _, f := range jobs {
			f()
		}
		if closed && len(jobs) == 0 {
			return
		}
		if len(jobs) == 0 {
			<-q.wake
		}
	}
}

// linkUpStates are the states in which traffic flows.
func linkUp(s switcher.State) bool {
	return s == switcher.StateConnected || s == switcher.StateDegraded || s == switcher.StateHeld
}

func (d *Daemon) onTransition(from, to switcher.State, ev switcher.Event) {
	d.alive()
	d.link.OnTransition(from, to, ev)
	d.q.push(func() {
		d.metrics.SetState(string(to))
		_, _ = d.hub.Publish(api.EventState, api.StateChange{From: string(from), To: string(to), Event: string(ev)})
		d.log.Info("state", "from", string(from), "to", string(to), "event", string(ev))
		d.notify("STATUS=" + string(to))
		d.progressf(Progress{Kind: "state", State: string(to), Code: string(ev)}, "%s -> %s (%s)", from, to, ev)
	})
	// The link event waits for the tick's view (onView): mid-tick, the
	// published view is the previous tick's.
	d.mu.Lock()
	d.linkWhy = string(ev)
	d.mu.Unlock()
}

// onView runs at the end of every tick with the view it published: the
// datalink, link events, finished switches and the signal gauges all read
// this one view. It must not block: the rest goes through the queue, after
// the jobs the tick's transitions and decisions queued.
func (d *Daemon) onView(v *switcher.View) {
	if d.link != nil {
		d.link.OnTick(v.Status)
	}
	sig := signalOf(v)
	d.metrics.SetSignal(sig.RSSI, sig.RSRP, sig.RSRQ, sig.SINR)
	up := linkUp(v.State)
	d.mu.Lock()
	changed, why := up != d.linkUp, d.linkWhy
	d.linkUp = up
	switches := d.switches
	d.switches = nil
	// A pin released (unpinned, or its --for ran out) is told when a view
	// shows it gone; a new pin is told by its decision (onDecision).
	unpinned := d.pinned && v.Pin == nil
	d.pinned = v.Pin != nil
	d.mu.Unlock()
	if !changed && len(switches) == 0 && !unpinned {
		return
	}
	d.q.push(func() {
		if changed {
			d.publishLink(v, up, why)
		}
		d.publishSwitches(v, switches)
		if unpinned {
			_, _ = d.hub.Publish(api.EventPin, nil)
		}
	})
}

// publishLink tells subscribers and the fleet that the link went up or
// down, with the profile, network and address of the view that saw it.
func (d *Daemon) publishLink(v *switcher.View, up bool, reason string) {
	lc := linkChanged(v, up, reason)
	d.publishUpstream(upstream.TypeLinkChanged, lc)
	link := api.Link{Up: up, ProbeFailures: v.ProbeFails}
	if lc.IP != "" {
		link.IP = api.Ptr(lc.IP)
	}
	_, _ = d.hub.Publish(api.EventLink, link)
}

// linkChanged is the fleet's link event for the view that saw the change:
// the profile, network and address of that tick, never an earlier one's.
func linkChanged(v *switcher.View, up bool, reason string) upstream.LinkChanged {
	lc := upstream.LinkChanged{Up: up, Profile: v.Active, PLMN: v.PLMN, Tech: v.Tech, Reason: reason}
	if up && len(v.Addrs) > 0 {
		lc.IP = v.Addrs[0].String()
	}
	if op := v.Modem.Operator; op != nil && !op.PLMN.IsZero() {
		lc.PLMN = op.PLMN.String()
	}
	return lc
}

func (d *Daemon) publishUpstream(typ upstream.EventType, data any) {
	if d.rep == nil {
		return
	}
	if _, err := d.rep.Publish(typ, data); d.noteDrop(api.DropUpstreamEvent, err) {
		d.log.Warn("upstream event dropped: the outbox write failed", "type", string(typ), "err", err)
	}
}

// pinRequest is an operator's pin waiting for the switcher's next step.
type pinRequest struct {
	profile string
	dur     time.Duration
}

// storedDecision is a decision as the state file keeps it: the switcher's
// record and, for a threat decision, the finding it acted on.
type storedDecision struct {
	switcher.Decision
	Finding *api.FindingRef `json:"finding,omitempty"`
}

func (d *Daemon) onDecision(dec switcher.Decision) {
	d.alive()
	d.link.OnDecision(dec)
	var finding *api.FindingRef
	if dec.Trigger == switcher.TriggerThreat && dec.Kind != switcher.KindStay {
		// The finding is the daemon's to add: the switcher's rule says
		// "Critical threat on the active profile", the finding says what.
		finding = d.findings.decided(dec.Seq, dec.Time)
	}
	d.q.push(func() {
		if raw, err := json.Marshal(storedDecision{dec, finding}); err == nil {
			if err := d.st.PutDecision(dec.Seq, raw); d.noteDrop(api.DropDecision, err) {
				d.log.Warn("decision dropped: the state file write failed", "seq", dec.Seq, "err", err)
			}
		}
		if dec.Trigger == switcher.TriggerManual {
			// The switcher acted on the operator's request (a switch is
			// journalled as an intent from here on) or refused it.
			d.forgetRequest()
			if pr := d.pinFor.Load(); pr != nil && dec.Has(switcher.CodePin) && dec.To == pr.profile {
				// The pin holds from now: tell the subscribers.
				p := api.Pin{Profile: pr.profile, Since: dec.Time}
				if pr.dur > 0 {
					p.Until = api.Ptr(dec.Time.Add(pr.dur))
				}
				_, _ = d.hub.Publish(api.EventPin, p)
				d.pinFor.CompareAndSwap(pr, nil)
			}
		}
		dto := decisionDTO(dec)
		dto.Finding = finding
		_, _ = d.hub.Publish(api.EventDecision, dto)
		if dec.Kind == switcher.KindSwitch {
			code := ""
			if len(dec.Reasons) > 0 {
				code = string(dec.Reasons[0].Code)
			}
			d.metrics.IncSwitch(string(dec.Trigger), code)
		}
		if dec.Kind != switcher.KindStay {
			d.log.Debug("decision", "seq", dec.Seq, "kind", string(dec.Kind), "from", dec.From, "to", dec.To,
				"trigger", string(dec.Trigger), "reasons", reasonText(dec.Reasons))
			prof := dec.To
			if prof == "" {
				prof = dec.From
			}
			p := Progress{Kind: "decision", State: string(dec.Inputs.State), Profile: prof, Code: string(dec.Kind)}
			if len(dec.Reasons) > 0 {
				p.Reason = string(dec.Reasons[0].Code)
			}
			text := reasonText(dec.Reasons)
			if finding != nil {
				text += " — " + finding.Sentence
				d.log.Info("decision on a threat: "+finding.Sentence, "seq", dec.Seq, "kind", string(dec.Kind),
					"from", dec.From, "to", dec.To, "rule", finding.Rule, "scope", finding.Scope)
			}
			d.progressf(p, "%s %s", dec.Kind, text)
			d.kickPersist()
		}
	})
}

func (d *Daemon) onThreat(r threat.Result) {
	d.q.push(func() {
		d.mu.Lock()
		rr := r
		d.lastThreat = &rr
		d.mu.Unlock()
		d.metrics.SetThreatScores(threatScores(r))
		if len(r.Alerts) == 0 {
			return
		}
		ev := threatDTO(&r)
		ev.Top = d.findings.top(d.o.Clock.Now())
		for _, a := range r.Alerts {
			f := a.Finding
			ev.Findings = append(ev.Findings, api.FindingRef{Rule: f.Rule, Severity: strings.ToLower(f.Severity.String()),
				Scope: scopeKey(f.Scope), Sentence: d.findings.sentenceOf(f)})
		}
		_, _ = d.hub.Publish(api.EventThreat, ev)
		for i, a := range r.Alerts {
			f := a.Finding
			text := ev.Findings[i].Sentence
			d.link.OnThreat(f.Rule, f.Severity.String())
			d.log.Warn("threat alert: "+text, "rule", f.Rule, "severity", f.Severity.String(), "scope", scopeKey(f.Scope), "folded", a.Folded)
			d.progressf(Progress{Kind: "threat", Code: f.Rule, Reason: string(f.Reason)}, "alert %s", text)
			d.publishUpstream(upstream.TypeThreatAlert, alertData{At: f.At, Detector: string(f.Detector), Rule: f.Rule,
				Reason: string(f.Reason), Severity: f.Severity.String(), Score: f.Score, Scope: scopeKey(f.Scope),
				Message: text, Folded: a.Folded})
		}
	})
}

// onAck tells the API's subscribers, the progress line and the fleet that
// a person acknowledged a tamper alarm, and why.
func (d *Daemon) onAck(at time.Time, reason string) {
	d.q.push(func() {
		_, _ = d.hub.Publish(api.EventThreatAck, api.ThreatAck{At: at, Reason: reason})
		d.progressf(Progress{Kind: "threat", Code: "ack"}, "tamper alarm acknowledged: %s", reason)
		d.publishUpstream(upstream.TypeThreatAck, ackData{At: at, Reason: reason})
	})
}

// ackData is the data of io.imsid.threat.acknowledged.
type ackData struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// alertData is the data of io.imsid.threat.alert: the finding without its
// evidence, which may carry SIM identities.
type alertData struct {
	At       time.Time `json:"at"`
	Detector string    `json:"detector"`
	Rule     string    `json:"rule"`
	Reason   string    `json:"reason"`
	Severity string    `json:"severity"`
	Score    float64   `json:"score"`
	Scope    string    `json:"scope"`
	Message  string    `json:"message"`
	Folded   int       `json:"folded,omitempty"`
}

func (d *Daemon) progressf(p Progress, format string, args ...any) {
	if d.o.OnProgress == nil {
		return
	}
	if sw := d.sw.Load(); sw != nil {
		if p.Profile == "" {
			p.Profile = sw.Status().Active
		}
		if p.State == "" {
			p.State = string(sw.State())
		}
	}
	p.At, p.Text = d.o.Clock.Now(), fmt.Sprintf(format, args...)
	d.o.OnProgress(p)
}

func reasonText(rs []switcher.Reason) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, r.String())
	}
	return strings.Join(parts, "; ")
}

// heartbeat is the device's part of each upstream heartbeat.
func (d *Daemon) heartbeat() upstream.Heartbeat {
	hb := upstream.Heartbeat{UptimeS: int64(time.Since(d.started).Seconds()), Version: d.o.Version}
	if sw := d.sw.Load(); sw != nil {
		st := sw.Status()
		hb.Active, hb.State, hb.ThreatLevel = st.Active, string(st.State), st.ThreatLevel
		for _, q := range quarantinesDTO(st.Quarantines) {
			hb.Quarantines = append(hb.Quarantines, upstream.HeartbeatQuarantine{Kind: q.Kind, Key: q.Key, Until: q.Until, Reason: q.Reason.Code})
		}
		hb.RecoveryStep, hb.RecoveryRuns = st.Recovery.Step, st.Recovery.Runs
	}
	now := d.o.Clock.Now()
	if top := d.findings.top(now); top != nil {
		hb.Finding = top.Sentence
	}
	if d.ledger != nil {
		cfg := d.cfg.Load()
		for i := range cfg.Profiles {
			p := &cfg.Profiles[i]
			r := d.ledger.Report(p, now)
			u := upstream.HeartbeatUsage{Profile: p.Name, UsedBytes: clampInt64(r.Total()), CapBytes: int64(max(r.Cap, 0)), Spend: moneyText(r.Cost)}
			if r.Forecast != nil && r.Forecast.CapReached != nil {
				u.CapRunsOutAt = api.Ptr(*r.Forecast.CapReached)
			}
			hb.Usage = append(hb.Usage, u)
		}
	}
	if sw := d.sw.Load(); sw != nil && d.rep != nil {
		m := sw.View().Modem
		ids := d.rep.Identities()
		hb.IMSI, hb.ICCID = ids.Export(m.IMSI.Reveal()), ids.Export(string(m.ICCID))
	}
	return hb
}

// onAdvisories hands the fleet's advisories to the threat channel (see
// applyAdvisories). It runs on the reporter's goroutine and must not block.
func (d *Daemon) onAdvisories(as []upstream.Advisory) {
	d.threat.setAdvisories(as)
	site := d.cfg.Load().Policy.Site
	for _, a := range as {
		if msg, applies := advisoryEffect(a, site); !applies {
			d.log.Info(msg, "id", a.ID, "scope", string(a.Scope), "key", a.Key, "expires", a.Expires)
			continue
		}
		d.log.Info("fleet advisory in force", "id", a.ID, "scope", string(a.Scope), "key", a.Key,
			"action", string(a.Action), "level", string(a.Level), "expires", a.Expires)
	}
}

// advisoryEffect says whether applyAdvisories applies a (the log must say
// what the code does), and why not when it does not.
func advisoryEffect(a upstream.Advisory, site profiles.Site) (string, bool) {
	if a.Scope == upstream.ScopeRegion {
		if inRegion(site, a.Key) {
			return "", true
		}
		return "fleet advisory for a region this site is not in (policy.site.regions); not applied", false
	}
	if _, ok := advisoryScope(a); !ok {
		return "fleet advisory with a key the switcher cannot apply; not applied", false
	}
	return "", true
}

// journal is the switcher's Journal on the store: the intent is durable
// before the switcher touches the modem.
type journal struct {
	d     *Daemon
	mu    sync.Mutex
	byRef map[uint64]switcher.Intent
}

func (j *journal) Intent(_ context.Context, in switcher.Intent) error {
	detail, err := json.Marshal(in)
	if err != nil {
		return err
	}
	codes := make([]string, 0, len(in.Reasons))
	for _, r := range in.Reasons {
		codes = append(codes, string(r.Code))
	}
	if _, err := j.d.st.BeginSwitch(store.Intent{From: in.From, To: in.To, Started: in.At, Ref: in.Seq,
		Reason: string(in.Trigger) + ":" + strings.Join(codes, ","), Detail: detail}); err != nil {
		return err
	}
	j.mu.Lock()
	j.byRef[in.Seq] = in
	j.mu.Unlock()
	return nil
}

func (j *journal) Outcome(_ context.Context, out switcher.Outcome) error {
	result := "ok"
	switch {
	case out.Reason.Code == switcher.CodeReconcile:
		result = "reconciled"
	case out.Reason.Code == switcher.CodeRolledBack:
		result = "rolled_back"
	case !out.OK:
		result = "failed"
	}
	detail, _ := json.Marshal(out)
	err := j.d.st.EndSwitchRef(out.Seq, store.Outcome{Result: result, Finished: out.At, Active: out.Active, Detail: detail})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	j.mu.Lock()
	in, ok := j.byRef[out.Seq]
	delete(j.byRef, out.Seq)
	j.mu.Unlock()
	d := j.d
	sw := upstream.Switch{From: in.From, To: in.To, Trigger: string(in.Trigger), Result: result}
	if !ok {
		sw.To = out.Active
	}
	for _, r := range in.Reasons {
		sw.Reasons = append(sw.Reasons, string(r.Code))
	}
	if !in.At.IsZero() && out.At.After(in.At) {
		sw.DurationMS = out.At.Sub(in.At).Milliseconds()
	}
	d.log.Info("switch finished", "seq", out.Seq, "from", in.From, "to", in.To, "result", result, "active", out.Active)
	// The event carries the identity the switch ended on: the tick's view
	// (onView) has it, the view published before this tick does not.
	d.mu.Lock()
	d.switches = append(d.switches, sw)
	d.mu.Unlock()
	d.kickPersist()
	return nil
}

// publishSwitches sends finished switches upstream with the identities of
// v, the view of the tick they finished in.
func (d *Daemon) publishSwitches(v *switcher.View, switches []upstream.Switch) {
	for _, sw := range switches {
		if d.rep != nil {
			ids := d.rep.Identities()
			sw.IMSI, sw.ICCID = ids.Export(v.Modem.IMSI.Reveal()), ids.Export(string(v.Modem.ICCID))
		}
		d.publishUpstream(upstream.TypeSwitch, sw)
	}
}

// lockedThreat serialises the engine between the switcher (Observe) and
// persistence (the baseline): the engine itself is not safe for both.
type lockedThreat struct {
	mu   sync.Mutex
	e    *threat.Engine
	adv  []upstream.Advisory
	site profiles.Site // for region advisories
	book *findingBook  // nil in tests that need no findings
}

func (t *lockedThreat) Observe(o threat.Observation) (threat.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, err := t.e.Observe(o)
	if err != nil {
		return r, err
	}
	if len(t.adv) > 0 {
		r = applyAdvisories(r, o, t.adv, t.site, time.Now())
	}
	if t.book != nil {
		t.book.add(o, r.Findings)
	}
	return r, nil
}

// acknowledge clears a latched tamper Critical, accepting the current
// identity; it reports whether anything was latched.
func (t *lockedThreat) acknowledge(at time.Time, iccid modem.ICCID) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	// Acknowledge also clears every Critical in the window and the running
	// response: without a latched tamper alarm that would silently drop a
	// live catcher response, so it is not called at all.
	if !t.e.Latched() {
		return false
	}
	t.e.Acknowledge(at, iccid)
	return true
}

func (t *lockedThreat) setAdvisories(as []upstream.Advisory) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.adv = append([]upstream.Advisory(nil), as...)
}

// reload rebuilds the engine for new settings, carrying the learned
// baseline over; the running episode starts afresh (quarantines already
// made live in the switcher's book and stay).
func (t *lockedThreat) reload(cfg *profiles.Config) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, err := threat.New(switcher.ThreatConfig(cfg), t.e.Baseline())
	if err != nil {
		return err
	}
	t.e = e
	t.site = cfg.Policy.Site
	return nil
}

func (t *lockedThreat) baselineJSON() ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return json.Marshal(t.e.Baseline())
}

// lockedLedger serialises the usage ledger between the switcher (Report)
// and the daemon's readings (Observe).
type lockedLedger struct {
	mu sync.Mutex
	l  *profiles.Ledger
}

func (l *lockedLedger) Report(p *profiles.Profile, now time.Time) profiles.Report {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.l.Report(p, now)
}

func (l *lockedLedger) observe(p *profiles.Profile, s profiles.Sample) []profiles.Usage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.l.Observe(p, s)
}

func (l *lockedLedger) json() ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return json.Marshal(l.l)
}

// meteredProber times every probe into the metrics; the inner prober can
// be swapped on reload.
type meteredProber struct {
	m     *api.Metrics
	clock switcher.Clock
	mu    sync.Mutex
	p     switcher.Prober
	last  *api.Probe
}

func (p *meteredProber) set(in switcher.Prober) {
	p.mu.Lock()
	p.p = in
	p.mu.Unlock()
}

func (p *meteredProber) Probe(ctx context.Context, profile string) (switcher.ProbeResult, error) {
	p.mu.Lock()
	in := p.p
	p.mu.Unlock()
	r, err := in.Probe(ctx, profile)
	if err == nil {
		p.m.ObserveProbe(r.Latency, r.OK)
	}
	pr := &api.Probe{At: p.clock.Now(), OK: err == nil && r.OK, Target: "data path"}
	if err == nil {
		pr.LatencyMS = api.Ptr(float64(r.Latency.Microseconds()) / 1000)
		if r.Detail != "" {
			pr.Error = api.Ptr(r.Detail)
		}
	} else {
		pr.Error = api.Ptr(err.Error())
	}
	p.mu.Lock()
	p.last = pr
	p.mu.Unlock()
	return r, err
}

func (p *meteredProber) lastProbe() *api.Probe {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// metricsLoop refreshes the gauges that are states rather than events.
func (d *Daemon) metricsLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var dropped uint64
	if d.st != nil {
		dropped = d.st.Dropped()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.metrics.SetOutboxDepth(d.st.Len())
		if n := d.st.Dropped(); n > dropped {
			d.metrics.AddOutboxDropped(n - dropped)
			dropped = n
		}
	}
}

// observeAT is the driver's command observer: every command that reached
// the wire, timed from sending it to its final result, into the metrics.
func (d *Daemon) observeAT(cmd string, took time.Duration, err error) {
	d.metrics.ObserveATCommand(cmd, took, atErrorKind(err))
}

// atErrorKind classifies a command's error for the metrics: "" (success),
// "timeout", "cme", "cms", "lost" or "error".
func atErrorKind(err error) string {
	var cme *modem.CMEError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, modem.ErrTimeout):
		return "timeout"
	case errors.As(err, &cme):
		return "cme"
	case errors.Is(err, modem.ErrError) && strings.Contains(err.Error(), "+CMS ERROR:"):
		// The driver has no type for 27.005's codes; it names them.
		return "cms"
	case errors.Is(err, modem.ErrPortLost) || errors.Is(err, modem.ErrClosed):
		return "lost"
	}
	return "error"
}
