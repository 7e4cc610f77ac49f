package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/threat"
)

// backend implements api.Backend over the daemon's state. Reads answer from
// the switcher's published view and the adapter's last observations, never
// from the modem.
type backend struct{ d *Daemon }

var _ api.Backend = (*backend)(nil)

func (b *backend) switcher() (*switcher.Switcher, error) {
	sw := b.d.sw.Load()
	if sw == nil {
		return nil, fmt.Errorf("%w: the modem has not answered yet", api.ErrUnavailable)
	}
	return sw, nil
}

// up is nil once Run has set up what reads need (store, ledger, prober,
// findings); reads then answer with or without a modem session.
func (b *backend) up() error {
	if !b.d.serving.Load() {
		return fmt.Errorf("%w: starting", api.ErrUnavailable)
	}
	return nil
}

func (b *backend) Ready() error {
	if !b.d.ready.Load() {
		return fmt.Errorf("%w: no modem session", api.ErrUnavailable)
	}
	return nil
}

// view is the switcher's published view or, before the first modem
// session, one that says so: reads answer whether or not there is a modem.
func (b *backend) view() (*switcher.Switcher, *switcher.View) {
	if sw := b.d.sw.Load(); sw != nil {
		return sw, sw.View()
	}
	v := &switcher.View{Status: switcher.Status{At: b.d.o.Clock.Now(), State: switcher.StateStarting, Method: b.d.cfg.Load().SIM.Method}}
	if _, failed := b.d.port.snapshot(); failed {
		v.State = switcher.StateModemLost
	}
	return nil, v
}

func (b *backend) Status(context.Context) (api.Status, error) {
	if err := b.up(); err != nil {
		return api.Status{}, err
	}
	d := b.d
	cfg := d.cfg.Load()
	sw, v := b.view()
	st := v.Status
	out := api.Status{
		At: st.At, State: string(st.State), Ready: d.ready.Load(),
		ActiveProfile: api.NonEmpty(st.Active), PreviousProfile: api.NonEmpty(st.Previous),
		Suspended:    st.Suspended,
		SIM:          api.SIMInfo{Method: string(st.Method), IMSI: api.NonEmpty(st.IMSI), ICCID: api.NonEmpty(st.ICCID)},
		Registration: api.Registration{PLMN: api.NonEmpty(st.PLMN), Tech: api.NonEmpty(st.Tech)},
		Link:         api.Link{Up: st.PDPUp && linkUp(st.State), ProbeFailures: st.ProbeFails, ProbesSaved: st.ProbesSaved, LastProbe: d.prober.lastProbe()},
		Usage:        []api.Usage{},
		SwitchBudget: api.SwitchBudget{Used: st.Switches, Max: cfg.Policy.SwitchCap.Max, Window: cfg.Policy.SwitchCap.Window.Std().String()},
	}
	out.Modem.Device = api.NonEmpty(cfg.Modem.Device)
	if f, failed := d.port.snapshot(); failed {
		out.Modem.LastError = api.Ptr(f.err.Error())
		out.Modem.LastErrorAt = api.Ptr(f.at)
		out.Modem.NextRetry = api.Ptr(f.next)
	}
	if a := d.cur.Load(); a != nil {
		id := a.ident
		out.Modem.Manufacturer, out.Modem.Model, out.Modem.Revision = api.NonEmpty(id.Manufacturer), api.NonEmpty(id.Model), api.NonEmpty(id.Revision)
		out.Modem.Dialect = api.NonEmpty(string(a.Driver().Dialect()))
	}
	// What the modem answered comes from the same tick as the rest of the
	// view, never from a copy of its own. Responding is the one exception:
	// a tick whose reads time out publishes only when all of them have, so
	// the driver's own word (false from the first timed-out command, the
	// package's one timeout) is taken as well, and a hung modem shows as
	// not responding within one poll.
	m := v.Modem
	a := d.cur.Load()
	out.Modem.Responding = a != nil && m.Responding && a.Driver().Responsive()
	if !m.Read.IsZero() {
		if m.SIM != modem.SIMUnknown {
			out.SIM.State = api.Ptr(m.SIM.String())
		}
		out.Signal = signalOf(v)
		if reg := bestRegistration(m.Registrations); reg != nil {
			out.Registration.Status = api.Ptr(reg.Status.Summary())
			if reg.Area != nil {
				out.Registration.TAC = api.Ptr(fmt.Sprintf("%X", *reg.Area))
			}
			if reg.CellID != nil {
				out.Registration.CellID = api.Ptr(fmt.Sprintf("%X", *reg.CellID))
			}
		}
		if m.Operator != nil && m.Operator.Name != "" {
			out.Registration.Operator = api.Ptr(m.Operator.Name)
		}
	}
	if len(st.Addrs) > 0 {
		out.Link.IP = api.Ptr(st.Addrs[0].String())
	}
	linkDTO(&out.Link, d.link)
	if out.Signal.RSRP == nil && st.RSRP != nil {
		out.Signal.RSRP = st.RSRP
	}
	if out.Signal.SINR == nil && st.SINR != nil {
		out.Signal.SINR = st.SINR
	}
	if st.Pin != nil {
		out.Pin = pinDTO(st.Pin)
	}
	if !st.CapRetryAt.IsZero() {
		out.SwitchBudget.RetryAt = api.Ptr(st.CapRetryAt)
	}
	if !st.DwellUntil.IsZero() {
		out.SwitchBudget.DwellUntil = api.Ptr(st.DwellUntil)
	}
	out.Quarantines = quarantinesDTO(st.Quarantines)
	out.Recovery = recoveryDTO(st.Recovery)
	out.Dropped = api.Dropped{Decisions: d.droppedDecisions.Load(), UpstreamEvents: d.droppedUpstream.Load()}
	d.mu.Lock()
	out.Threat = threatDTO(d.lastThreat)
	d.mu.Unlock()
	if out.Threat.Level == "none" && st.ThreatLevel != "" {
		out.Threat.Level = strings.ToLower(st.ThreatLevel)
	}
	out.Threat.Top = d.findings.top(d.o.Clock.Now())
	now := d.o.Clock.Now()
	for i := range cfg.Profiles {
		p := &cfg.Profiles[i]
		r := d.ledger.Report(p, now)
		u := api.Usage{Profile: p.Name, PeriodStart: r.Period.Start, PeriodEnd: r.Period.End, UsedBytes: clampInt64(r.Total()),
			Spend: moneyText(r.Cost)}
		if r.Cap > 0 {
			u.CapBytes = api.Ptr(int64(r.Cap))
		}
		if r.Forecast != nil && r.Forecast.CapReached != nil {
			u.CapRunsOutAt = api.Ptr(*r.Forecast.CapReached)
		}
		out.Usage = append(out.Usage, u)
	}
	if sw == nil {
		return out, nil
	}
	for _, dec := range lastSwitch(sw) {
		out.LastSwitch = &api.LastSwitch{At: dec.Time, From: dec.From, To: dec.To, Trigger: string(dec.Trigger),
			Reasons: reasonsDTO(dec.Reasons), DecisionSeq: dec.Seq}
	}
	return out, nil
}

// lastSwitch returns the newest switch decision still in the log, if any.
func lastSwitch(sw *switcher.Switcher) []switcher.Decision {
	ds := sw.Decisions(0, 0)
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Kind == switcher.KindSwitch {
			return ds[i : i+1]
		}
	}
	return nil
}

// moneyText is a tariff or spend for people ("" when zero and without a
// currency: not configured).
func moneyText(m profiles.Money) string {
	if m.IsZero() && m.Currency == "" {
		return ""
	}
	return m.String()
}

func clampInt64(u uint64) int64 {
	if u > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(u)
}

func (b *backend) Profiles(context.Context) ([]api.ProfileView, error) {
	if err := b.up(); err != nil {
		return nil, err
	}
	d := b.d
	cfg := d.cfg.Load()
	sw, v := b.view()
	st := v.Status
	var tracks map[string]switcher.SignalTrack
	if sw != nil {
		tracks = sw.Export().Signal
	}
	scores := map[string]switcher.Score{}
	for _, s := range st.Scores {
		scores[s.Profile] = s
	}
	quar := map[string]switcher.QuarantineEntry{}
	for _, q := range st.Quarantines {
		if q.Key.Kind() == switcher.QuarantineProfile {
			quar[q.Key.Name()] = q
		}
	}
	now := d.o.Clock.Now()
	out := make([]api.ProfileView, 0, len(cfg.Profiles))
	for i := range cfg.Profiles {
		p := &cfg.Profiles[i]
		s, ok := scores[p.Name]
		v := api.ProfileView{Name: p.Name, Active: p.Name == st.Active, Pinned: st.Pin != nil && st.Pin.Profile == p.Name,
			Priority: p.Priority, Eligible: ok && s.Eligible, Reasons: reasonsDTO(s.Reasons),
			Score: api.Score{Signal: s.Signal, Cost: s.Cost, Threat: s.Threat, Health: s.Health, Total: s.Total}}
		if sw == nil {
			v.Reasons = []api.Reason{{Code: "no_modem", Message: "not scored: no modem session yet (imsictl status says why)"}}
		}
		if q, ok := quar[p.Name]; ok {
			v.Quarantine = &api.Quarantine{Until: q.Until, Since: q.Since, Count: q.Count, Reason: reasonDTO(q.Reason)}
		} else if q, ok := networksQuarantined(p, st.Quarantines, now); ok && !v.Active {
			// Kept out by its networks' quarantine (a threat response):
			// shown as the profile's, with the networks named.
			v.Quarantine = &api.Quarantine{Until: q.Until, Since: q.Since, Count: q.Count, Reason: reasonDTO(q.Reason)}
		}
		r := d.ledger.Report(p, now)
		v.Tariff = api.Tariff{PerMB: moneyText(p.Cost.PerMB), PerMonth: moneyText(p.Cost.PerMonth), RoamingPerMB: moneyText(p.Cost.RoamingPerMB)}
		v.Spend = moneyText(r.Cost)
		if f := r.Forecast; f != nil {
			v.Forecast = &api.Forecast{BytesPerDay: f.BytesPerDay, TotalBytes: f.Total, Cost: moneyText(f.Cost)}
			if f.CapReached != nil {
				v.Forecast.CapRunsOutAt = api.Ptr(*f.CapReached)
			}
		}
		if t, ok := tracks[p.Name]; ok {
			if t.HaveRSRP {
				v.Signal.RSRP = tenth(t.RSRP)
			}
			if t.HaveSINR {
				v.Signal.SINR = tenth(t.SINR)
			}
			if t.HaveRSSI {
				v.Signal.RSSI = tenth(t.RSSI)
			}
			if !t.At.IsZero() {
				v.Signal.At = api.Ptr(t.At)
			}
		}
		v.Cap = api.Cap{UsedBytes: clampInt64(r.Total()), Reached: r.OverCap}
		if r.Cap > 0 {
			v.Cap.CapBytes = api.Ptr(int64(r.Cap))
		}
		if !r.Period.End.IsZero() {
			v.Cap.ResetsAt = api.Ptr(r.Period.End)
		}
		out = append(out, v)
	}
	return out, nil
}

func (b *backend) Decisions(_ context.Context, q api.DecisionQuery) ([]api.Decision, error) {
	if err := b.up(); err != nil {
		return nil, err
	}
	// Before the first modem session the log is what earlier runs stored.
	sw := b.d.sw.Load()
	out := []api.Decision{}
	after := q.After
	// What the switcher no longer holds (earlier runs, or beyond its ring)
	// comes from the store, which numbers decisions the same way.
	firstMem := uint64(math.MaxUint64)
	if sw != nil {
		if ds := sw.Decisions(0, 1); len(ds) > 0 {
			firstMem = ds[0].Seq
		}
	}
	for len(out) < q.Limit && after+1 < firstMem {
		recs, err := b.d.st.Decisions(after, q.Limit)
		if err != nil {
			// Serving the in-memory page instead would move the client's
			// cursor past the stored history for good.
			return nil, fmt.Errorf("daemon: stored decisions: %w", err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			if r.Seq >= firstMem {
				after = firstMem - 1
				break
			}
			after = r.Seq
			var sd storedDecision
			if json.Unmarshal(r.Data, &sd) != nil || (!q.Since.IsZero() && sd.Time.Before(q.Since)) {
				continue
			}
			sd.Seq = r.Seq
			dto := decisionDTO(sd.Decision)
			dto.Finding = sd.Finding
			out = append(out, dto)
			if len(out) == q.Limit {
				return out, nil
			}
		}
	}
	for sw != nil && len(out) < q.Limit {
		ds := sw.Decisions(after, q.Limit)
		if len(ds) == 0 {
			break
		}
		for _, dec := range ds {
			after = dec.Seq
			if !q.Since.IsZero() && dec.Time.Before(q.Since) {
				continue
			}
			dto := decisionDTO(dec)
			dto.Finding = b.d.findings.refOf(dec.Seq)
			out = append(out, dto)
			if len(out) == q.Limit {
				break
			}
		}
	}
	return out, nil
}

func (b *backend) Threats(context.Context) (api.ThreatList, error) {
	if err := b.up(); err != nil {
		return api.ThreatList{}, err
	}
	d := b.d
	now := d.o.Clock.Now()
	out := api.ThreatList{At: now, Level: "none", Findings: d.findings.list(now), Quarantines: []api.QuarantineEntry{}}
	d.mu.Lock()
	out.Level = threatDTO(d.lastThreat).Level
	d.mu.Unlock()
	if sw := d.sw.Load(); sw != nil {
		out.Quarantines = quarantinesDTO(sw.Status().Quarantines)
	}
	return out, nil
}

func recoveryDTO(r switcher.RecoveryStats) api.Recovery {
	out := api.Recovery{Step: r.Step, Runs: r.Runs, Requery: r.Requery, Resync: r.Resync, CFUN: r.CFUN,
		Reset: r.Reset, Reopen: r.Reopen, Recovered: r.Recovered}
	if !r.LastAt.IsZero() {
		out.LastAt = api.Ptr(r.LastAt)
	}
	return out
}

func (b *backend) Subscribe(ctx context.Context, after uint64) (<-chan api.Event, func(), error) {
	return b.d.hub.Subscribe(ctx, after)
}

// lastSeq is the newest decision's number: a queued request's outcome is
// the first manual decision after it.
func lastSeq(sw *switcher.Switcher) uint64 {
	if ds := sw.Decisions(0, 0); len(ds) > 0 {
		return ds[len(ds)-1].Seq
	}
	return 0
}

// requestID names a queued request in the log and the answer: the daemon
// run (its start second, modulo a day and a bit) and the request's number
// in that run, short enough to read out ("r41522-3").
func (d *Daemon) requestID() string {
	return fmt.Sprintf("r%d-%d", d.started.Unix()%100000, d.reqSeq.Add(1))
}

// precheck refuses what api.md promises to refuse before anything is
// queued: a switch away from a pinned profile (unpin or move the pin
// first), a switch to a profile whose every network is quarantined (the
// switcher's own check covers only the profile's quarantine) and a switch
// to a profile over its data cap.
func (b *backend) precheck(st switcher.Status, profile string, isSwitch bool) error {
	d := b.d
	cfg := d.cfg.Load()
	p := cfg.Profile(profile)
	if p == nil || profile == st.Active {
		return nil // the switcher names unknown profiles; staying needs no check
	}
	if isSwitch && st.Pin != nil && st.Pin.Profile != profile {
		return &api.RefusedError{Code: api.CodePinned, Message: fmt.Sprintf("%q is pinned; 'imsictl unpin' first, or 'imsictl pin %s' to move the pin", st.Pin.Profile, profile)}
	}
	if q, ok := networksQuarantined(p, st.Quarantines, d.o.Clock.Now()); ok {
		return &api.RefusedError{Code: api.CodeQuarantined, RetryAt: q.Until,
			Message: fmt.Sprintf("%q is quarantined: %s", profile, q.Reason.Message)}
	}
	if r := d.ledger.Report(p, d.o.Clock.Now()); r.OverCap {
		return &api.RefusedError{Code: api.CodeOverCap, RetryAt: r.Period.End,
			Message: fmt.Sprintf("%q has used its data cap (%s of %s) in this billing period", profile, bytesText(r.Total()), bytesText(uint64(max(r.Cap, 0))))}
	}
	return nil
}

// bytesText is the one format for byte counts: decimal units, 3 digits.
func bytesText(n uint64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), 0
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.3g %s", v, units[i])
}

func (b *backend) Switch(_ context.Context, profile, reason string) (api.Ack, error) {
	sw, err := b.switcher()
	if err != nil {
		return api.Ack{}, err
	}
	st := sw.Status()
	if err := b.precheck(st, profile, true); err != nil {
		return api.Ack{}, err
	}
	if st.Active == profile && b.d.cfg.Load().Profile(profile) != nil {
		return api.Ack{Op: "switch", Profile: api.Ptr(profile), Reason: api.NonEmpty(reason), Status: "done", AfterSeq: lastSeq(sw),
			Message: fmt.Sprintf("already on %s; nothing to do", profile)}, nil
	}
	after := lastSeq(sw)
	// Durable before the 202: a restart before the switcher's next step
	// queues it again (requeueRequest).
	b.d.journalRequest(profile, reason)
	if err := sw.Force(profile, reason); err != nil {
		b.d.forgetRequest()
		return api.Ack{}, b.refusal(err)
	}
	id := b.d.requestID()
	b.d.log.Info("operator switch requested", "profile", profile, "reason", reason, "request", id)
	dwell := roundDuration(b.d.cfg.Load().Policy.MinDwell.Std())
	return api.Ack{Op: "switch", Profile: api.Ptr(profile), Reason: api.NonEmpty(reason), Status: "accepted", RequestID: id, AfterSeq: after,
		Message: fmt.Sprintf("queued as %s, decided at the next control-loop step; once %s is verified, imsid may move to a better-scoring profile after min_dwell (%s): to hold it, imsictl pin %s --for DURATION",
			id, profile, dwell, profile)}, nil
}

func (b *backend) Pin(_ context.Context, profile string, dur time.Duration) (api.Ack, error) {
	sw, err := b.switcher()
	if err != nil {
		return api.Ack{}, err
	}
	st := sw.Status()
	if err := b.precheck(st, profile, false); err != nil {
		return api.Ack{}, err
	}
	after := lastSeq(sw)
	if err := sw.Pin(profile, dur); err != nil {
		return api.Ack{}, b.refusal(err)
	}
	b.d.link.OnPin(profile, true)
	id := b.d.requestID()
	b.d.log.Info("operator pin requested", "profile", profile, "for", dur, "request", id)
	ack := api.Ack{Op: "pin", Profile: api.Ptr(profile), Status: "accepted", RequestID: id, AfterSeq: after,
		Message: fmt.Sprintf("queued as %s, decided at the next control-loop step", id)}
	if profile != st.Active {
		ack.Message += fmt.Sprintf(" (a switch to %s, verified before the pin holds)", profile)
	}
	if dur > 0 {
		ack.Until = api.Ptr(b.d.o.Clock.Now().Add(dur))
	}
	// The pin event goes out when the switcher applies it (onDecision),
	// not now: it may still be refused.
	b.d.pinFor.Store(&pinRequest{profile: profile, dur: dur})
	b.d.kickPersist()
	return ack, nil
}

// Unpin queues the release of the pin: like a pin or a switch, it takes
// effect at the switcher's next step, so the answer says "accepted" with a
// request id, never "done" for what has not happened yet. With nothing
// pinned and no pin queued it is done at once, and says so.
func (b *backend) Unpin(context.Context) (api.Ack, error) {
	sw, err := b.switcher()
	if err != nil {
		return api.Ack{}, err
	}
	st := sw.Status()
	after := lastSeq(sw)
	pinned := ""
	if st.Pin != nil {
		pinned = st.Pin.Profile
	} else if pr := b.d.pinFor.Load(); pr != nil {
		pinned = pr.profile
	}
	if pinned == "" {
		return api.Ack{Op: "unpin", Status: "done", AfterSeq: after, Message: "nothing is pinned; automatic selection is already in charge"}, nil
	}
	if err := sw.Unpin(); err != nil {
		return api.Ack{}, b.refusal(err)
	}
	id := b.d.requestID()
	b.d.log.Info("operator unpin requested", "profile", pinned, "request", id)
	b.d.link.OnPin("", false)
	// The pin event (null) goes out when a view shows the pin gone (onView).
	return api.Ack{Op: "unpin", Profile: api.Ptr(pinned), Status: "accepted", RequestID: id, AfterSeq: after,
		Message: fmt.Sprintf("queued as %s: the pin on %s is released at the next control-loop step, then automatic selection resumes (after min_dwell it may move to a better-scoring profile)", id, pinned)}, nil
}

func (b *backend) AckThreat(_ context.Context, reason string) (api.Ack, error) {
	if _, err := b.switcher(); err != nil {
		return api.Ack{}, err
	}
	var iccid modem.ICCID
	if sw := b.d.sw.Load(); sw != nil {
		iccid = sw.View().Modem.ICCID
	}
	now := b.d.o.Clock.Now()
	if !b.d.threat.acknowledge(now, iccid) {
		return api.Ack{Op: "threat_ack", Status: "done", Message: "no tamper alarm is latched; nothing to acknowledge"}, nil
	}
	// The accepted IMEI lives in the baseline: write it now, not in five
	// minutes, so a power cut cannot bring the alarm back.
	b.d.persistFull()
	b.d.log.Warn("operator acknowledged a tamper alarm", "reason", reason, "iccid", iccid.String())
	b.d.onAck(now, reason)
	return api.Ack{Op: "threat_ack", Status: "done", Message: "tamper alarm acknowledged: the current IMEI and ICCID are accepted"}, nil
}

// refusal maps the switcher's refusal onto the API's.
func (b *backend) refusal(err error) error {
	var re *switcher.RefusedError
	if errors.As(err, &re) {
		out := &api.RefusedError{Code: string(re.Reason.Code), Message: re.Reason.Message, RetryAt: re.RetryAt}
		if re.Reason.Code == switcher.CodeUnknownProfile {
			for _, p := range b.d.cfg.Load().Profiles {
				out.Profiles = append(out.Profiles, p.Name)
			}
		}
		if re.Reason.Code == switcher.CodeBadRequest {
			return &api.ValidationError{Message: re.Reason.Message}
		}
		return out
	}
	if errors.Is(err, switcher.ErrClosed) {
		return fmt.Errorf("%w: shutting down", api.ErrUnavailable)
	}
	return err
}

func pinDTO(p *switcher.Pin) *api.Pin {
	out := &api.Pin{Profile: p.Profile, Since: p.Since}
	if !p.Until.IsZero() {
		out.Until = api.Ptr(p.Until)
	}
	return out
}

func reasonDTO(r switcher.Reason) api.Reason {
	return api.Reason{Code: string(r.Code), Message: r.Message}
}

func reasonsDTO(rs []switcher.Reason) []api.Reason {
	out := make([]api.Reason, 0, len(rs))
	for _, r := range rs {
		out = append(out, reasonDTO(r))
	}
	return out
}

func decisionDTO(d switcher.Decision) api.Decision {
	out := api.Decision{Seq: d.Seq, Time: d.Time, Kind: string(d.Kind), From: api.NonEmpty(d.From), To: api.NonEmpty(d.To),
		Trigger: api.NonEmpty(string(d.Trigger)), Reasons: reasonsDTO(d.Reasons),
		Inputs: api.Inputs{State: string(d.Inputs.State), Registered: d.Inputs.Registered, PLMN: api.NonEmpty(d.Inputs.PLMN),
			Tech: api.NonEmpty(d.Inputs.Tech), RSRP: d.Inputs.RSRP, SINR: d.Inputs.SINR, ProbeFailures: d.Inputs.ProbeFails,
			ThreatLevel: api.NonEmpty(d.Inputs.ThreatLvl), Switches: d.Inputs.Switches},
		Scores: []api.Ranked{}, WhyNot: []api.WhyNot{}}
	for _, s := range d.Scores {
		out.Scores = append(out.Scores, api.Ranked{Profile: s.Profile, Eligible: s.Eligible, Reasons: reasonsDTO(s.Reasons),
			Score: api.Score{Signal: s.Signal, Cost: s.Cost, Threat: s.Threat, Health: s.Health, Total: s.Total}})
	}
	for _, w := range d.WhyNot {
		out.WhyNot = append(out.WhyNot, api.WhyNot{Profile: w.Profile, Total: w.Total, Reasons: reasonsDTO(w.Reasons)})
	}
	return out
}

// threatScope names a threat assessment's scope as the API does.
func threatScope(s string) string {
	if s == "overall" {
		return "device"
	}
	return s
}

func threatDTO(r *threat.Result) api.Threat {
	out := api.Threat{Level: "none", Scores: []api.ThreatScore{}}
	if r == nil {
		return out
	}
	out.Level = strings.ToLower(r.Overall.Level.String())
	for _, a := range append(append([]threat.Assessment{r.Overall}, r.Profiles...), r.PLMNs...) {
		out.Scores = append(out.Scores, api.ThreatScore{Scope: threatScope(a.Scope), Score: a.Score, Level: strings.ToLower(a.Level.String())})
	}
	return out
}

func threatScores(r threat.Result) map[string]float64 {
	out := map[string]float64{}
	for _, a := range append(append([]threat.Assessment{r.Overall}, r.Profiles...), r.PLMNs...) {
		out[threatScope(a.Scope)] = a.Score
	}
	return out
}

// signalOf is the signal the view's tick read (empty when none was).
// tenth is a smoothed level to a tenth of a dB: what the radio can tell,
// not the float the average happens to hold.
func tenth(x float64) *float64 { return api.Ptr(math.Round(x*10) / 10) }

func signalOf(v *switcher.View) api.Signal {
	var s api.Signal
	if v == nil || v.Modem.Signal == nil {
		return s
	}
	sig := *v.Modem.Signal
	f := func(p *modem.DBm) *float64 {
		if p == nil {
			return nil
		}
		return api.Ptr(float64(*p))
	}
	g := func(p *modem.DB) *float64 {
		if p == nil {
			return nil
		}
		return api.Ptr(float64(*p))
	}
	s.RSSI, s.RSRP, s.RSRQ, s.SINR = f(sig.RSSI), f(sig.RSRP), g(sig.RSRQ), g(sig.SINR)
	if bars, ok := signalBars(s); ok {
		s.Bars = api.Ptr(bars)
	}
	return s
}

// signalBars is a 0-5 rating for people: RSRP where known (the usual LTE
// bands of phone UIs), else RSSI.
func signalBars(s api.Signal) (int, bool) {
	if s.RSRP != nil {
		return bucket(*s.RSRP, -120, -110, -100, -90, -80), true
	}
	if s.RSSI != nil {
		return bucket(*s.RSSI, -105, -95, -85, -75, -65), true
	}
	return 0, false
}

func bucket(v float64, edges ...float64) int {
	n := 0
	for _, e := range edges {
		if v >= e {
			n++
		}
	}
	return n
}

// bestRegistration picks the registration worth showing: the domain that
// carries the service (modem.ServiceRegistration: EPS first).
func bestRegistration(rs []modem.Registration) *modem.Registration {
	if r, ok := modem.ServiceRegistration(rs); ok {
		return &r
	}
	return nil
}
