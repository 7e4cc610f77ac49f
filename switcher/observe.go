package switcher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
)

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
	}
	// Signal and the camped cell are read whether registered or not: in
	// limited service the modem may still report the cell's power with a
	// collapsed SINR, which is what tells jamming (D8) from a carrier
	// outage. Two queries per poll, each bounded by the step timeout;
	// plmn() and tech() ignore them until registration comes back, so the
	// decisions do not change.
	if sg, err := s.m.Signal(c); !note(err) {
		return o, healthLost
	} else if err == nil {
		o.signal = &sg
	}
	if sc, nb, err := s.m.ServingCell(c); !note(err) {
		return o, healthLost
	} else if err == nil {
		o.serving = &sc
		// Neighbour lists in limited service are not the site's normal
		// (D7 and its baseline learn from registered polls only).
		if o.registered {
			o.neighbours, o.haveNeigh = nb, true
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
	s.reqMu.Lock()
	out := s.stashed
	s.stashed = nil
	s.reqMu.Unlock()
	for i := range out {
		if out[i].At.IsZero() {
			out[i].At = now
		}
	}
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
			if e.Kind == ModemEventReset {
				s.steerKnown = false // a reset forgets a manual selection
			}
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
		s.noServiceSince, s.lossEvidence, s.attaching = time.Time{}, 0, false
		if s.active != "" && s.lc.Current() != StateSwitching {
			t := s.sig[s.active]
			if t == nil {
				t = &SignalTrack{}
				s.sig[s.active] = t
			}
			// While jamming is observed the samples measure the jammer, not
			// the network: the track keeps what it knew before.
			// (The smoothing weighs a sample by the time since the last
			// one, so the first after the jammer has gone replaces most of
			// what the polls before the finding brought in.)
			if sg := s.obs.sig(); sg != nil && !s.jamObserved(now) {
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
	if why := s.lossEvident(now); why != "" && now.Sub(s.changedAt) >= s.cfg.Policy.NoServiceTrigger.Std() {
		// After an identity change imsid did not make, the modem attaches
		// the new identity (5-30 s, field survey) with no verify window:
		// a reject or a foreign network on the way is the attach, not
		// evidence that the profile's network is gone; no_service_trigger
		// alone judges it (make bench ota-storm: an OTA flip's re-attach
		// read as the roaming profile's network gone cost it a departure
		// penalty, and the outage that followed went to the dearest one).
		s.lossEvidence++
		s.lossWhy = why
	} else {
		s.lossEvidence = 0
	}
	// The next registration is a new one: it gets a fresh data attempt.
	s.pdpUp, s.pdpTried = false, false
}

// refusedByOwnNetwork reports a reject that came from a network the active
// profile may use (or from one the modem did not name): its network is
// there and refuses it. A reject from a network outside the allowlist is
// what a modem collects once its own network has vanished.
func (s *Switcher) refusedByOwnNetwork() bool {
	denied := false
	for _, r := range s.obs.regs {
		denied = denied || r.Status == modem.RegDenied
	}
	if !denied {
		return false
	}
	p := s.cfg.Profile(s.active)
	if p == nil || s.obs.serving == nil || s.obs.serving.PLMN.IsZero() {
		return true
	}
	return p.AllowsPLMN(profiles.PLMN(s.obs.serving.PLMN.String()))
}

// attachRefused says why this poll proves that the identity the modem is
// attaching (a switch's target, an identity imsid adopted) is refused
// ("" if it does not): a reject of the identity itself (identityRefused),
// or any reject from a network the profile may use or the modem did not
// name (refusedByOwnNetwork). A location reject from another network
// (cause 11, 13, 15 from an operator the profile does not use) is the
// modem's network selection trying that operator on its way, and says
// nothing of the identity's own network until it stays: read on two polls
// a second apart, a foreign network's cause 11 could refuse a target its
// own network would have taken a few seconds later (verified waits
// lossEvidenceMin for such a reject).
func (s *Switcher) attachRefused() string {
	if !s.obs.identityRefused() && !s.refusedByOwnNetwork() {
		return ""
	}
	return s.obs.rejected()
}

// rejected describes the first registration reject this poll read ("" if
// none).
func (o *obs) rejected() string {
	for _, r := range o.regs {
		if r.Status == modem.RegDenied {
			if r.RejectCause != nil {
				return fmt.Sprintf("registration rejected (cause %d)", *r.RejectCause)
			}
			return "registration rejected"
		}
	}
	return ""
}

// lossEvidencePolls and lossEvidenceMin: a loss of service the modem
// explains (a reject, or limited service on a network the profile may not
// use) is confirmed after this many polls in a row and this long, instead
// of waiting out no_service_trigger: the modem has already looked for the
// profile's network and not found it.
const (
	lossEvidencePolls = 2
	lossEvidenceMin   = 5 * time.Second
)

// lossEvident says why this poll proves the active profile's network is not
// serving it ("" if it does not): a registration reject, or the modem camped
// in limited service on a network outside the profile's allowlist.
// While an adopted identity is still attaching (stillAttaching) only a
// reject counts: a modem camps in limited service on whatever cell it
// finds while it registers.
func (s *Switcher) lossEvident(now time.Time) string {
	if why := s.obs.rejected(); why != "" {
		return why
	}
	if s.stillAttaching(now) {
		return ""
	}
	p := s.cfg.Profile(s.active)
	if p != nil && s.obs.serving != nil && !s.obs.serving.PLMN.IsZero() && !p.AllowsPLMN(profiles.PLMN(s.obs.serving.PLMN.String())) {
		return "camped on " + s.obs.serving.PLMN.String() + ", which the profile may not use"
	}
	return ""
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
	if dm, ok := s.m.(DeviceModem); ok {
		c, cancel := s.step(ctx)
		if v, err := dm.IMEI(c); err == nil {
			s.imei = v
		}
		cancel()
	}
	got := s.identify(s.obs.imsi, s.obs.iccid)
	if s.needReconcile && s.pending != nil {
		in := *s.pending
		s.needReconcile = false
		ok := got == in.To
		r := reason(CodeReconcile, "switch #%d %s→%s was unfinished at start; the SIM carries %q", in.Seq, in.From, in.To, got)
		s.record(now, Decision{Kind: KindAdopt, From: in.From, To: got, Trigger: TriggerExternal, Reasons: []Reason{r}}, false)
		s.finishJournal(ctx, now, ok, r, got)
		// Adopted, not verified: whichever identity the card carries is
		// attaching, whatever was active before.
		s.identityChanged(now)
		s.active = got
		return
	}
	if got != s.active {
		s.identityChanged(now)
		r := reason(CodeExternalChange, "the SIM carries %q, expected %q", got, s.active)
		if got == "" {
			r = reason(CodeUnknownProfile, "the SIM's identity matches no configured profile")
		}
		if s.active != "" || got == "" {
			s.record(now, Decision{Kind: KindAdopt, From: s.active, To: got, Trigger: TriggerExternal, Reasons: []Reason{r}}, false)
		}
		if s.active != "" {
			s.otherSwitch = now // changed while imsid was down
		} else {
			// The identity found at a fresh start is no new arrival: a
			// restart during an outage must not add verify_deadline to
			// the failover (stillAttaching).
			s.attaching = false
		}
		s.active = got
	}
}

// identityChanged starts the service evidence over for an identity imsid
// adopted rather than verified (a change it did not make, or a switch
// reconciled after the modem timed out): the new identity has been without
// service only since it arrived, and it is attaching. The no-service
// trigger counts from now (a reconciled target was left 3 s after it
// arrived, on the no-service time of the profile before it), and loss
// evidence waits no_service_trigger (trackService).
func (s *Switcher) identityChanged(now time.Time) {
	s.changedAt, s.attaching = now, true
	s.noServiceSince, s.lossEvidence = time.Time{}, 0
}

// stillAttaching reports that a missing registration is still the attach
// of an identity imsid adopted, not a loss of service: until it first
// registers it has verify_deadline from its arrival, the window imsid
// gives its own switch's target. A modem takes 5-30 s to attach a new
// identity, about 45 s after a rotation and REFRESH, and up to 90 s
// more with a full PLMN search (field survey); no_service_trigger (20 s)
// read a slow attach after the carrier's OTA flip as an outage (make
// bench ota-storm, seed 1: both identities the carrier put in were left
// for the dearest profile, which then stayed an hour behind the switch
// cap). A reject still explains the loss after no_service_trigger
// (lossEvident); limited service on another operator's cell does not
// while the identity attaches.
func (s *Switcher) stillAttaching(now time.Time) bool {
	return s.attaching && now.Sub(s.changedAt) < s.cfg.Policy.VerifyDeadline.Std()
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
	s.dataPath.down()
	s.identityChanged(now)
	s.otherSwitch = now
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

// noDataTrigger is how long the active profile may stay registered without
// a data session (every activation refused or unanswered) before that is a
// hard trigger: a core that refuses the context is as dead as one that
// drops the packets.
const noDataTrigger = 45 * time.Second

// pdpRetryBase and pdpRetryMax space out define/activate attempts within
// one registration: a network that refuses the first activation (congestion,
// a slow core) gets asked again, but is not hammered.
const (
	pdpRetryBase = 10 * time.Second
	pdpRetryMax  = 5 * time.Minute
)

// setIsolated holds data off (or lets it come back): while the device is
// registered on a network outside the allowlist with nowhere allowed to
// go, the PDP context stays down.
func (s *Switcher) setIsolated(ctx context.Context, on bool) {
	was := s.isolated
	s.isolated = on
	if !on {
		return
	}
	if !was {
		s.log.Warn("switcher: isolated: registered outside the allowlist and no allowed profile in reach; data held off",
			"plmn", s.obs.plmn().String(), "profile", s.active)
	}
	if s.pdpUp || !was {
		c, cancel := s.step(ctx)
		if err := s.m.DeactivatePDP(c, pdpCID); err != nil {
			s.log.Warn("switcher: deactivate PDP", "err", err)
		}
		cancel()
		s.pdpUp, s.addrs = false, nil
	}
}

// ensureData brings the PDP context up once registered and checks its address.
func (s *Switcher) ensureData(ctx context.Context, now time.Time) {
	if !s.obs.registered || s.active == "" {
		s.pdpUp, s.noDataSince = false, time.Time{}
		return
	}
	if s.isolated {
		s.pdpUp = false
		return
	}
	if s.opt.externalData {
		// The owner brings the session up; the probes say whether it works.
		s.pdpUp, s.addrs, s.noDataSince = true, nil, time.Time{}
		return
	}
	defer func() {
		switch {
		case s.pdpUp:
			s.noDataSince = time.Time{}
		case s.noDataSince.IsZero():
			s.noDataSince = now
		}
	}()
	p := s.cfg.Profile(s.active)
	if p == nil {
		return
	}
	c, cancel := s.step(ctx)
	defer cancel()
	if a, err := s.m.PDPAddress(c, pdpCID); err == nil && len(a.Addrs) > 0 {
		s.pdpUp, s.addrs = true, a.Addrs
		return
	}
	s.pdpUp = false
	plmn := s.obs.plmn()
	if s.pdpTried && plmn == s.pdpPLMN {
		// Within one registration, attempts back off. A reselection to
		// another network (a roaming profile moving between PLMNs) is a
		// new registration even if no poll saw the gap between the two.
		if now.Before(s.pdpRetryAt) {
			return
		}
	} else {
		s.pdpTries = 0
	}
	s.pdpTried, s.pdpPLMN = true, plmn
	s.pdpTries++
	s.pdpRetryAt = now.Add(min(pdpRetryBase<<min(s.pdpTries-1, 8), pdpRetryMax))
	if err := s.m.DefinePDP(c, s.pdpSpec(p)); err != nil {
		s.log.Warn("switcher: define PDP", "profile", p.Name, "err", err)
		return
	}
	if err := s.m.ActivatePDP(c, pdpCID); err != nil {
		s.log.Warn("switcher: activate PDP", "profile", p.Name, "err", err)
		return
	}
	if a, err := s.m.PDPAddress(c, pdpCID); err == nil && len(a.Addrs) > 0 {
		s.pdpUp, s.addrs = true, a.Addrs
	}
}

// CounterModem is the optional part of a Modem that reads the byte
// counters of the data session (Quectel +QGDCNT, u-blox +UGCNTRD, Telit
// #GDATAVOL, Huawei ^DSFLOWQRY). With it, probing is traffic-aware.
type CounterModem interface {
	DataCounters(ctx context.Context) (modem.DataCounters, error)
}

// traffic is what the byte counters said since the previous read.
type traffic struct {
	have        bool
	rx          uint64
	at          time.Time
	rate        float64 // bytes/s received between the last two reads
	grew        bool    // received bytes between the last two reads
	steady      int     // reads in a row that saw bytes arrive
	errs        int     // device errors in a row
	unsupported bool    // the dialect has no counters, or they keep failing: stop asking
	// pendingStall: a read between polls (watchTraffic) saw the stall; the
	// next tick's probe step acts on it.
	pendingStall bool
}

// rateDrop is the fall in receive rate, on a link that has been receiving
// for several polls, that counts as a stall: an outage that starts between
// two polls shows as a sliver of the usual bytes at the first one.
const rateDrop = 0.25

// trafficGap is the least time between two counter reads: a tick woken by
// a URC a moment after a poll would see bursty traffic as stopped.
const trafficGap = 4 * time.Second

// readTraffic reads the receive counter: grew says data arrived since the
// previous read, stalled that it had been arriving and stopped.
func (s *Switcher) readTraffic(ctx context.Context, now time.Time) (grew, stalled bool) {
	cm, ok := s.m.(CounterModem)
	if !ok || !s.cfg.Policy.Probes.TrafficAware || s.traffic.unsupported {
		return false, false
	}
	if s.traffic.pendingStall {
		s.traffic.pendingStall = false
		return false, true
	}
	if s.traffic.have && now.Sub(s.traffic.at) < trafficGap {
		return s.traffic.grew, false // too soon to tell: keep the last verdict
	}
	c, cancel := s.step(ctx)
	defer cancel()
	v, err := cm.DataCounters(c)
	if err != nil {
		if classify(err) == healthOK && ctx.Err() == nil {
			// An answer, not a timeout. The dialect has none, or they fail
			// every time; one stray error (an interleaved URC, a busy
			// modem) only skips this read.
			s.traffic.errs++
			s.traffic.unsupported = errors.Is(err, modem.ErrNotSupported) || s.traffic.errs >= 3
		}
		s.traffic.have, s.traffic.grew = false, false
		return false, false
	}
	s.traffic.errs = 0
	prev := s.traffic
	s.traffic.have, s.traffic.rx, s.traffic.at = true, v.Received, now
	if !prev.have || v.Received < prev.rx || !now.After(prev.at) {
		// First read, the modem reset its counters, or no time passed.
		s.traffic.grew, s.traffic.rate, s.traffic.steady = false, 0, 0
		return false, false
	}
	t := &s.traffic
	t.grew = v.Received > prev.rx
	t.rate = float64(v.Received-prev.rx) / now.Sub(prev.at).Seconds()
	if t.grew {
		t.steady = prev.steady + 1
	} else {
		t.steady = 0
	}
	// Stopped, or (after steady traffic) fell to a sliver: probe now.
	stalled = (prev.grew && !t.grew) || (t.grew && prev.steady >= 2 && t.rate < rateDrop*prev.rate)
	return t.grew && !stalled, stalled
}

// probeStep runs a data-path probe when one is due. A round is due every
// probes.interval, every probes.retry once one has failed, and at once when
// a link that was receiving stops; with traffic-aware probing a due round
// is skipped while data arrives (the traffic proves the path).
func (s *Switcher) probeStep(ctx context.Context, now time.Time) {
	if !s.pdpUp {
		s.traffic.have, s.traffic.grew, s.traffic.pendingStall = false, false, false
		return
	}
	pr := s.cfg.Policy.Probes
	grew, stalled := s.readTraffic(ctx, now)
	since := now.Sub(s.lastProbeAt)
	due := s.lastProbeAt.IsZero() || since >= pr.Interval.Std()
	if s.probeFails > 0 && pr.Retry > 0 {
		due = since >= pr.Retry.Std()
	}
	if stalled && (pr.Retry <= 0 || since >= pr.Retry.Std()) {
		due = true
	} else if stalled {
		s.traffic.pendingStall = true // a round just went: the next one checks
	}
	if grew {
		if due || s.probeFails > 0 {
			s.lastProbeAt = now
			s.lastProbe = &ProbeResult{OK: true, Detail: "not sent: the modem is receiving data"}
			s.probesSaved++
		}
		s.probeFails, s.stallFailed = 0, false
		return
	}
	if !due {
		return
	}
	ok := s.probe(ctx, now)
	if !ok && ctx.Err() != nil {
		return // cut short by shutdown, not a dead data path
	}
	if ok {
		s.probeFails, s.stallFailed = 0, false
	} else {
		if s.probeFails == 0 {
			s.stallFailed = stalled
		}
		s.probeFails++
	}
}

// nextProbe is when the next regular probe round is due on an up data
// link in the states whose tick runs probeStep (zero if none): Run wakes
// for it, so rounds go every probes.interval and not at the first poll
// after it. Retries after a failed round are Run's shorter poll
// (probes.retry after the tick). Caller holds s.mu.
func (s *Switcher) nextProbe() time.Time {
	iv := s.cfg.Policy.Probes.Interval.Std()
	if !s.pdpUp || s.lastProbeAt.IsZero() || iv <= 0 {
		return time.Time{}
	}
	switch s.lc.Current() {
	case StateSwitching, StateVerifying, StateRollingBack, StateFailed, StateStarting, StateProbing:
		return time.Time{} // Tick runs no probe round in these
	}
	return s.lastProbeAt.Add(iv)
}

// dataPathDead: probes.failures_to_down failed rounds in a row, where a
// stall of a receiving link that the first failed round confirmed counts
// as one (the link was carrying data and stopped: that is evidence of its
// own, and waiting out a second round only adds probes.retry plus a
// timeout to the outage).
func (s *Switcher) dataPathDead() bool {
	n := s.cfg.Policy.Probes.FailuresToDown
	if n <= 0 || s.probeFails == 0 {
		return false
	}
	f := s.probeFails
	if s.stallFailed {
		f++
	}
	return f >= n
}

// receiving: the data link is up and its receive counter grew at the last
// read, in a steady state, with traffic-aware probing; between polls Run
// then reads the counter alone every trafficGap (watchTraffic), so a stall
// is seen within seconds, not at the next poll or the one after.
// Caller holds s.mu.
func (s *Switcher) receiving() bool {
	if !s.pdpUp || !s.traffic.have || !s.traffic.grew || s.traffic.unsupported || !s.cfg.Policy.Probes.TrafficAware || s.probeFails > 0 {
		return false
	}
	switch s.lc.Current() {
	case StateConnected, StateHeld, StateDegraded:
		return true
	}
	return false
}

// watchTraffic is Run's read between polls on a receiving link: the
// receive counter alone. It says whether a full tick should run now: the
// link stalled, or it is no longer known to be receiving.
func (s *Switcher) watchTraffic(ctx context.Context) bool {
	if s.closed.Load() {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.receiving() {
		return true
	}
	grew, stalled := s.readTraffic(ctx, s.clock.Now())
	if stalled {
		s.traffic.pendingStall = true
	}
	return stalled || !grew
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
