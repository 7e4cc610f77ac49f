// Package switchertest provides in-memory fakes for the switcher's ports:
// a modem whose SIM carries configurable profiles on a configurable
// network, a manual clock, a prober, a journal and a scripted threat engine.
// They model behaviour (select a profile and the identity changes); they do
// not check call order.
package switchertest

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/threat"
)

// Net is how the network treats one profile right now.
type Net struct {
	Reg  modem.RegStatus
	PLMN string // "310260"
	AcT  modem.AcT
	RSRP float64
	SINR float64
	// CellID of the serving cell.
	CellID uint64
	// NoPDP: the context never gets an address (core outage).
	NoPDP bool
	// RejectCause, when set, is reported with a denied registration.
	RejectCause *int
}

// Identity is what the SIM reports for a profile.
type Identity struct {
	IMSI  modem.IMSI
	ICCID modem.ICCID
}

// Modem is a fake switcher.Modem.
type Modem struct {
	mu      sync.Mutex
	cfg     *profiles.Config
	ids     map[string]Identity
	nets    map[string]*Net
	current string
	events  chan switcher.ModemEvent

	// Hung makes every call time out; Lost makes every call report the port gone.
	hung, lost bool
	// SelectErr fails SelectProfile for a profile name.
	selectErr map[string]error
	scan      []modem.NetworkEntry
	// rx is the byte counter DataCounters reports; counters false makes
	// DataCounters answer ERROR, like a dialect without them.
	rx       uint64
	counters bool
	// ratOverride, when set, is what RATLock reads back.
	ratOverride []modem.Tech

	Selects  []string
	CFUNs    int
	Resets   int
	Resyncs  int
	RATLocks [][]modem.Tech
	PDPDefs  []switcher.PDPSpec
	// Steers records SelectNetwork calls (zero: automatic).
	Steers []modem.PLMN
	// Deactivated counts DeactivatePDP calls.
	Deactivated int
}

// NewModem returns a fake whose SIM carries the configured profiles, with
// identities derived from each profile's IMSI prefix and ICCID, and starts
// on profile start. Every network starts registered (home) on the first
// allowed PLMN with good LTE.
func NewModem(cfg *profiles.Config, start string) *Modem {
	m := &Modem{cfg: cfg, ids: map[string]Identity{}, nets: map[string]*Net{}, current: start,
		events: make(chan switcher.ModemEvent, 64), selectErr: map[string]error{}}
	for i, p := range cfg.Profiles {
		imsi := string(p.IMSIPrefix)
		for len(imsi) < 15 {
			imsi += "0"
		}
		iccid := modem.ICCID(p.ICCID.Reveal())
		if iccid == "" {
			iccid = modem.ICCID("8901000000000000" + string(rune('0'+i%10)) + "00")
		}
		m.ids[p.Name] = Identity{IMSI: modem.IMSI(imsi), ICCID: iccid}
		plmn := ""
		if len(p.PLMNs) > 0 {
			plmn = string(p.PLMNs[0])
		} else if len(p.MCCs) > 0 {
			plmn = string(p.MCCs[0]) + "99"
		}
		m.nets[p.Name] = &Net{Reg: modem.RegHome, PLMN: plmn, AcT: modem.ActEUTRAN, RSRP: -90, SINR: 12, CellID: 0x1234}
	}
	return m
}

// SetNet changes how the network treats profile.
func (m *Modem) SetNet(profile string, f func(n *Net)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m.nets[profile])
}

// SetIdentity overrides what the SIM reports for profile.
func (m *Modem) SetIdentity(profile string, id Identity) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ids[profile] = id
}

// SwitchTo changes the active profile as an autonomous applet would.
func (m *Modem) SwitchTo(profile string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.current = profile
}

// Current is the profile the SIM carries.
func (m *Modem) Current() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.current
}

// SetHung makes the AT channel time out (true) or answer (false).
func (m *Modem) SetHung(h bool) { m.mu.Lock(); m.hung = h; m.mu.Unlock() }

// SetLost makes the port report itself gone.
func (m *Modem) SetLost(l bool) { m.mu.Lock(); m.lost = l; m.mu.Unlock() }

// FailSelect makes SelectProfile(profile) fail with err (nil clears).
func (m *Modem) FailSelect(profile string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.selectErr[profile] = err
}

// Receive adds n bytes to the receive counter, as traffic would.
func (m *Modem) Receive(n uint64) { m.mu.Lock(); m.rx += n; m.counters = true; m.mu.Unlock() }

// DataCounters implements switcher.CounterModem. Until Receive is first
// called it answers like a modem without counters.
func (m *Modem) DataCounters(context.Context) (modem.DataCounters, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(); err != nil {
		return modem.DataCounters{}, err
	}
	if !m.counters {
		return modem.DataCounters{}, modem.ErrNotSupported
	}
	return modem.DataCounters{Received: m.rx}, nil
}

// SetScan sets the +COPS=? answer.
func (m *Modem) SetScan(e []modem.NetworkEntry) { m.mu.Lock(); m.scan = e; m.mu.Unlock() }

// Emit queues an event.
func (m *Modem) Emit(e switcher.ModemEvent) { m.events <- e }

// Counts returns the action counters under the lock.
func (m *Modem) Counts() (selects []string, cfuns, resets, resyncs int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.Selects...), m.CFUNs, m.Resets, m.Resyncs
}

func (m *Modem) check() error {
	switch {
	case m.lost:
		return modem.ErrPortLost
	case m.hung:
		return modem.ErrTimeout
	}
	return nil
}

func (m *Modem) net() *Net {
	if n := m.nets[m.current]; n != nil {
		return n
	}
	return &Net{Reg: modem.RegNotRegistered}
}

// SIMState implements switcher.Modem.
func (m *Modem) SIMState(context.Context) (modem.SIMState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(); err != nil {
		return 0, err
	}
	return modem.SIMReady, nil
}

// IMSI implements switcher.Modem.
func (m *Modem) IMSI(context.Context) (modem.IMSI, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(); err != nil {
		return "", err
	}
	return m.ids[m.current].IMSI, nil
}

// ICCID implements switcher.Modem.
func (m *Modem) ICCID(context.Context) (modem.ICCID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(); err != nil {
		return "", err
	}
	return m.ids[m.current].ICCID, nil
}

// Registrations implements switcher.Modem.
func (m *Modem) Registrations(context.Context) ([]modem.Registration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(); err != nil {
		return nil, err
	}
	n := m.net()
	act := n.AcT
	ci := n.CellID
	r := modem.Registration{Domain: modem.DomainEPS, Status: n.Reg, AcT: &act, CellID: &ci}
	if n.RejectCause != nil {
		c, t := *n.RejectCause, 0
		r.RejectCause, r.RejectCauseType = &c, &t
	}
	return []modem.Registration{r}, nil
}

// Operator implements switcher.Modem.
func (m *Modem) Operator(context.Context) (modem.Operator, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(); err != nil {
		return modem.Operator{}, err
	}
	n := m.net()
	p, _ := modem.ParsePLMN(n.PLMN)
	act := n.AcT
	return modem.Operator{PLMN: p, AcT: &act}, nil
}

// Signal implements switcher.Modem.
func (m *Modem) Signal(context.Context) (modem.Signal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(); err != nil {
		return modem.Signal{}, err
	}
	n := m.net()
	rsrp, sinr := modem.DBm(n.RSRP), modem.DB(n.SINR)
	return modem.Signal{Tech: n.AcT.Tech(), RSRP: &rsrp, SINR: &sinr, Source: "fake"}, nil
}

// ServingCell implements switcher.Modem (not supported, like many modems).
func (m *Modem) ServingCell(context.Context) (modem.ServingCell, []modem.Neighbour, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(); err != nil {
		return modem.ServingCell{}, nil, err
	}
	return modem.ServingCell{}, nil, modem.ErrNotSupported
}

// Scan implements switcher.Modem.
func (m *Modem) Scan(context.Context) ([]modem.NetworkEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(); err != nil {
		return nil, err
	}
	if m.scan == nil {
		return nil, modem.ErrNotSupported
	}
	return append([]modem.NetworkEntry(nil), m.scan...), nil
}

// DefinePDP implements switcher.Modem.
func (m *Modem) DefinePDP(_ context.Context, p switcher.PDPSpec) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(); err != nil {
		return err
	}
	m.PDPDefs = append(m.PDPDefs, p)
	return nil
}

// ActivatePDP implements switcher.Modem.
func (m *Modem) ActivatePDP(context.Context, int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.check()
}

// SelectNetwork implements switcher.Modem; it only records the call.
func (m *Modem) SelectNetwork(_ context.Context, plmn modem.PLMN) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Steers = append(m.Steers, plmn)
	return m.check()
}

// DeactivatePDP implements switcher.Modem.
func (m *Modem) DeactivatePDP(context.Context, int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Deactivated++
	return m.check()
}

// PDPAddress implements switcher.Modem.
func (m *Modem) PDPAddress(_ context.Context, cid int) (modem.PDPAddress, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(); err != nil {
		return modem.PDPAddress{}, err
	}
	n := m.net()
	if !n.Reg.Registered() || n.NoPDP {
		return modem.PDPAddress{CID: cid}, nil
	}
	return modem.PDPAddress{CID: cid, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.2")}}, nil
}

// SetFunctionality implements switcher.Modem.
func (m *Modem) SetFunctionality(context.Context, int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(); err != nil {
		return err
	}
	m.CFUNs++
	return nil
}

// Resync implements switcher.Modem.
func (m *Modem) Resync(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Resyncs++
	return m.check()
}

// Reset implements switcher.Modem.
func (m *Modem) Reset(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Resets++
	return m.check()
}

// SelectProfile implements switcher.Modem: the profile whose selector
// matches becomes current.
func (m *Modem) SelectProfile(_ context.Context, sel switcher.Selector) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(); err != nil {
		return err
	}
	for _, p := range m.cfg.Profiles {
		hit := false
		switch sel.Method {
		case profiles.MethodApplet:
			hit = p.Index != nil && *p.Index == sel.Index
		case profiles.MethodSlot:
			hit = p.Slot != nil && *p.Slot == sel.Slot
		case profiles.MethodEUICC:
			hit = p.ICCID != "" && p.ICCID == sel.ICCID
		}
		if hit {
			m.Selects = append(m.Selects, p.Name)
			if err := m.selectErr[p.Name]; err != nil {
				return err
			}
			m.current = p.Name
			return nil
		}
	}
	return modem.ErrNotFound
}

// LockRAT implements switcher.Modem.
func (m *Modem) LockRAT(_ context.Context, t []modem.Tech) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.RATLocks = append(m.RATLocks, t)
	return m.check()
}

// RATLock implements switcher.Modem: the last lock written, or every
// technology when none was.
func (m *Modem) RATLock(context.Context) ([]modem.Tech, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(); err != nil {
		return nil, err
	}
	if m.ratOverride != nil {
		return append([]modem.Tech(nil), m.ratOverride...), nil
	}
	if len(m.RATLocks) == 0 {
		return []modem.Tech{modem.TechGSM, modem.TechUMTS, modem.TechLTE, modem.TechNR5G}, nil
	}
	return append([]modem.Tech(nil), m.RATLocks[len(m.RATLocks)-1]...), nil
}

// RevertRATLock makes the modem read back techs whatever was written (a
// firmware quietly restoring its defaults).
func (m *Modem) RevertRATLock(techs []modem.Tech) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ratOverride = techs
}

// Events implements switcher.Modem.
func (m *Modem) Events() <-chan switcher.ModemEvent { return m.events }

// Clock is a manual clock: time moves only on Advance.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a clock at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now implements switcher.Clock.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// After implements switcher.Clock.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	return ch
}

// Advance moves time forward and fires due timers.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
			continue
		}
		kept = append(kept, w)
	}
	c.waiters = kept
}

// Prober is a fake data-path prober: a profile's probe passes unless failed.
type Prober struct {
	mu   sync.Mutex
	fail map[string]bool
	N    int
}

// SetFail makes probes on profile fail (true) or pass.
func (p *Prober) SetFail(profile string, f bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail == nil {
		p.fail = map[string]bool{}
	}
	p.fail[profile] = f
}

// Probe implements switcher.Prober.
func (p *Prober) Probe(_ context.Context, profile string) (switcher.ProbeResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.N++
	if p.fail[profile] {
		return switcher.ProbeResult{OK: false, Detail: "http 503"}, nil
	}
	return switcher.ProbeResult{OK: true, Latency: 40 * time.Millisecond}, nil
}

// Journal records intents and outcomes in memory.
type Journal struct {
	mu       sync.Mutex
	Intents  []switcher.Intent
	Outcomes []switcher.Outcome
	Err      error
}

// Intent implements switcher.Journal.
func (j *Journal) Intent(_ context.Context, in switcher.Intent) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.Err != nil {
		return j.Err
	}
	j.Intents = append(j.Intents, in)
	return nil
}

// Outcome implements switcher.Journal.
func (j *Journal) Outcome(_ context.Context, out switcher.Outcome) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.Outcomes = append(j.Outcomes, out)
	return nil
}

// Threat is a scripted threat engine: every Observe returns Result with
// At set to the observation's time.
type Threat struct {
	mu     sync.Mutex
	Result threat.Result
	Seen   []threat.Observation
}

// Set replaces the scripted result.
func (t *Threat) Set(r threat.Result) { t.mu.Lock(); t.Result = r; t.mu.Unlock() }

// Observe implements switcher.ThreatEngine.
func (t *Threat) Observe(o threat.Observation) (threat.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Seen = append(t.Seen, o)
	r := t.Result
	r.At = o.At
	return r, nil
}

// Usage is a fake usage source: reports per profile.
type Usage struct {
	mu sync.Mutex
	R  map[string]profiles.Report
}

// Set sets profile's report.
func (u *Usage) Set(profile string, r profiles.Report) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.R == nil {
		u.R = map[string]profiles.Report{}
	}
	u.R[profile] = r
}

// Report implements switcher.Usage.
func (u *Usage) Report(p *profiles.Profile, _ time.Time) profiles.Report {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.R[p.Name]
}
