package simulator

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// RAT is a radio access technology of a cell.
type RAT string

// RATs the model knows.
const (
	RATGSM   RAT = "GSM"
	RATWCDMA RAT = "WCDMA"
	RATLTE   RAT = "LTE"
)

// act is the 27.007 <AcT> of a RAT.
func (r RAT) act() int {
	switch r {
	case RATGSM:
		return 0
	case RATWCDMA:
		return 2
	}
	return 7
}

type ratMask uint8

const (
	maskGSM ratMask = 1 << iota
	maskWCDMA
	maskLTE
	maskAll = maskGSM | maskWCDMA | maskLTE
)

func (r RAT) mask() ratMask {
	switch r {
	case RATGSM:
		return maskGSM
	case RATWCDMA:
		return maskWCDMA
	}
	return maskLTE
}

// Radio is one cell's radio conditions as the modem measures them.
type Radio struct {
	RSRP float64 // dBm (RSCP on WCDMA)
	RSRQ float64 // dB (Ec/Io on WCDMA)
	SINR float64 // dB
	RSSI float64 // dBm
}

// Coverage thresholds: below them the modem loses the cell.
const (
	minRSRP = -124.0
	minSINR = -10.0
	minRSSI = -110.0
)

func (r Radio) usable(rat RAT) bool {
	return r.audible(rat) && (rat == RATGSM || r.SINR >= minSINR)
}

// audible says the cell's power still reaches the modem. A wideband jammer
// leaves it so while SINR collapses: the modem cannot decode the cell
// (not usable) yet keeps measuring it, unlike a cell that is gone.
func (r Radio) audible(rat RAT) bool {
	if rat == RATGSM {
		return r.RSSI >= minRSSI
	}
	return r.RSRP >= minRSRP
}

// Registration stat values (27.007 +CREG).
const (
	regNotSearching = 0
	regHome         = 1
	regSearching    = 2
	regDenied       = 3
	regRoaming      = 5
)

type ramp struct {
	from, to Radio
	start    time.Time
	dur      time.Duration
}

type network struct {
	cfg      *NetworkConfig
	plmn     string
	cell     CellConfig
	base     Radio
	ramp     *ramp
	down     bool // carrier outage: no cells at all
	coreDown bool // registration works, data does not
	access   []AccessRule
	traffic  Traffic
}

func newNetwork(cfg *NetworkConfig) *network {
	n := &network{cfg: cfg, plmn: cfg.PLMN, down: cfg.Down, coreDown: cfg.Data == "down", traffic: cfg.Traffic}
	if len(cfg.Cells) > 0 {
		n.cell = cfg.Cells[0]
	}
	n.base = cfg.Signal.radio(Radio{RSRP: -90, RSRQ: -9, SINR: 14, RSSI: -62})
	n.access = append([]AccessRule(nil), cfg.Access...)
	return n
}

func (n *network) mcc() string { return n.plmn[:3] }
func (n *network) mnc() string { return n.plmn[3:] }
func (n *network) rat() RAT    { return RAT(strings.ToUpper(n.cell.RAT)) }

// radioAt is the network's serving-cell radio at now, before jamming.
func (n *network) radioAt(now time.Time) Radio {
	if n.ramp == nil {
		return n.base
	}
	r := n.ramp
	f := 1.0
	if r.dur > 0 {
		f = float64(now.Sub(r.start)) / float64(r.dur)
	}
	if f >= 1 {
		n.base, n.ramp = r.to, nil
		return n.base
	}
	if f < 0 {
		f = 0
	}
	lerp := func(a, b float64) float64 { return a + (b-a)*f }
	return Radio{lerp(r.from.RSRP, r.to.RSRP), lerp(r.from.RSRQ, r.to.RSRQ), lerp(r.from.SINR, r.to.SINR), lerp(r.from.RSSI, r.to.RSSI)}
}

type jamming struct {
	sinr, rsrq float64
}

func (m *Modem) radio(n *network) Radio {
	r := n.radioAt(m.clk.Now())
	if m.jam != nil {
		r.SINR = math.Min(r.SINR, m.jam.sinr)
		r.RSRQ = math.Min(r.RSRQ, m.jam.rsrq)
	}
	return r
}

// accessFor is what the network answers an attach by imsi with.
func (n *network) accessFor(imsi string) (stat, cause int) {
	for i := len(n.access) - 1; i >= 0; i-- {
		a := n.access[i]
		if !a.matches(imsi) {
			continue
		}
		switch a.Result {
		case "home":
			return regHome, 0
		case "roaming":
			return regRoaming, 0
		}
		c := a.Cause
		if c == 0 {
			c = 11
		}
		return regDenied, c
	}
	if strings.HasPrefix(imsi, n.plmn) {
		return regHome, 0
	}
	return regDenied, 11
}

func (a AccessRule) matches(imsi string) bool {
	switch {
	case a.IMSI == "" || a.IMSI == "*":
		return true
	case strings.HasSuffix(a.IMSI, "*"):
		return strings.HasPrefix(imsi, strings.TrimSuffix(a.IMSI, "*"))
	}
	return a.IMSI == imsi
}

type regState struct {
	stat  int
	net   *network
	cause int
}

func (r regState) registered() bool { return r.stat == regHome || r.stat == regRoaming }

type selection struct {
	stat  int
	net   *network
	cause int
}

func (s selection) regState() regState { return regState(s) }

// candidates are the networks the modem can hear, strongest first.
func (m *Modem) candidates() []*network {
	var out []*network
	for _, n := range m.nets {
		if n.down || n.cell.RAT == "" || n.rat().mask()&m.nvm.ratMask == 0 {
			continue
		}
		if !m.radio(n).usable(n.rat()) {
			continue
		}
		if m.copsMode == 1 && n.plmn != m.copsPLMN {
			continue
		}
		out = append(out, n)
	}
	sort.SliceStable(out, func(i, j int) bool { return m.strength(out[i]) > m.strength(out[j]) })
	if m.copsMode == 4 && m.copsPLMN != "" {
		sort.SliceStable(out, func(i, j int) bool { return out[i].plmn == m.copsPLMN && out[j].plmn != m.copsPLMN })
	}
	return out
}

// strength ranks cells across RATs on one scale (dBm of the received
// reference signal, GSM RSSI mapped onto it).
func (m *Modem) strength(n *network) float64 {
	r := m.radio(n)
	if n.rat() == RATGSM {
		return r.RSSI - 20
	}
	return r.RSRP
}

// selectNetwork is where the modem would end up now: registered on the best
// network that accepts the IMSI, denied on the strongest one if none does,
// or searching.
func (m *Modem) selectNetwork() selection {
	if m.cfun != 1 || m.copsMode == 2 {
		return selection{stat: regNotSearching}
	}
	cands := m.candidates()
	card := m.activeCard()
	if m.sim != simReady || card == nil || m.simIMSI == "" {
		if len(cands) == 0 {
			return selection{stat: regSearching}
		}
		// Limited service: camped, not registered.
		return selection{stat: regSearching, net: cands[0]}
	}
	imsi := m.simIMSI
	var best *network
	bestStat := 0
	for _, n := range cands {
		st, _ := n.accessFor(imsi)
		if st == regDenied {
			continue
		}
		// The home network wins over roaming ones, as HPLMN selection does.
		if best == nil || (st == regHome && bestStat != regHome) {
			best, bestStat = n, st
		}
	}
	if best != nil {
		return selection{stat: bestStat, net: best}
	}
	if len(cands) == 0 {
		return selection{stat: regSearching}
	}
	_, cause := cands[0].accessFor(imsi)
	return selection{stat: regDenied, net: cands[0], cause: cause}
}

// evaluate moves registration toward selectNetwork: losing a registration
// at once, gaining one after the attach delay. Call it after anything that
// may change the outcome. mu held.
func (m *Modem) evaluate() {
	want := m.selectNetwork()
	cur := m.reg
	if want.stat == regNotSearching {
		m.stop(m.attachTimer)
		m.attachTimer = nil
		if cur.registered() {
			m.teardownPDP(true)
		}
		m.setReg(regState{stat: regNotSearching})
		return
	}
	if cur.registered() && want.net == cur.net && want.stat == cur.stat {
		m.emitRegURCs() // the cell may have changed
		m.observe()
		return
	}
	if cur.stat == regDenied && want.stat == regDenied && want.net == cur.net && want.cause == cur.cause {
		m.emitRegURCs()
		m.observe()
		return
	}
	if cur.registered() {
		m.teardownPDP(true)
	}
	if cur.stat != regSearching || cur.net != nil {
		m.setReg(regState{stat: regSearching})
	}
	m.observe()
	if want.net == nil || m.attachTimer != nil {
		return
	}
	m.attachTimer = m.afterGen(m.attachDelay(), func() {
		m.attachTimer = nil
		sel := m.selectNetwork()
		if sel.net == nil || sel.stat == regSearching {
			m.setReg(regState{stat: regSearching})
			return
		}
		if sel.stat == regDenied {
			if sel.cause == 11 {
				m.forbidden[sel.net.plmn] = true
			}
			m.lastCause = fmt.Sprintf("EMM cause %d", sel.cause)
		}
		m.setReg(sel.regState())
	})
}

// setReg changes the registration state and sends the URCs for it.
func (m *Modem) setReg(r regState) {
	m.accrue()
	m.reg = r
	if r.net != nil {
		m.camped = r.net
	}
	m.emitRegURCs()
	m.observe()
	m.observeRegistration()
}

// observeRegistration feeds the applet's rotation timer and re-arms it.
func (m *Modem) observeRegistration() {
	card := m.activeCard()
	if card == nil || m.sim != simReady {
		return
	}
	card.ObserveRegistration(m.clk.Now(), m.reg.registered())
	m.armRotation()
}

func (m *Modem) armRotation() {
	m.stop(m.rotTimer)
	m.rotTimer = nil
	card := m.activeCard()
	if card == nil {
		return
	}
	dl, ok := card.NextDeadline()
	if !ok {
		return
	}
	d := dl.Sub(m.clk.Now())
	m.rotTimer = m.after(max(d, 0), func() {
		m.rotTimer = nil
		if m.activeCard() != card {
			return
		}
		card.Tick(m.clk.Now())
		m.checkRefresh()
		m.armRotation()
	})
}

// Registration domains.
const (
	domCREG = iota
	domCGREG
	domCEREG
)

var domPrefix = [3]string{"+CREG: ", "+CGREG: ", "+CEREG: "}

// regFields renders <stat>[,<lac>,<ci>,<AcT>[,...]] for one domain at n.
func (m *Modem) regFields(dom, n int) string {
	r := m.reg
	stat := r.stat
	var rat RAT
	if r.net != nil {
		rat = r.net.rat()
	}
	if dom == domCEREG && r.net != nil && rat != RATLTE {
		// On 2G/3G the EPS domain is not registered.
		stat = regNotSearching
	}
	s := fmt.Sprint(stat)
	if n >= 2 && r.net != nil && (stat != regNotSearching && stat != regSearching) {
		c := r.net.cell
		ci := fmt.Sprintf("%07X", c.CI)
		if rat == RATGSM {
			ci = fmt.Sprintf("%04X", c.CI)
		}
		s += fmt.Sprintf(`,"%04X","%s",%d`, c.TAC, ci, rat.act())
		if dom == domCGREG && rat != RATLTE {
			s += `,"00"`
		}
		if n >= 3 && stat == regDenied {
			s += fmt.Sprintf(",0,%d", r.cause)
		}
	}
	return s
}

func (m *Modem) emitRegURCs() {
	if m.cfun == 0 {
		m.snapRegURCs()
		return
	}
	for dom := range 3 {
		n := m.regN[dom]
		if n == 0 {
			continue
		}
		line := domPrefix[dom] + m.regFields(dom, n)
		if line != m.lastRegURC[dom] {
			m.lastRegURC[dom] = line
			m.urc(line)
		}
	}
}

// snapRegURCs records the current state as already reported.
func (m *Modem) snapRegURCs() {
	for dom := range 3 {
		if m.regN[dom] > 0 {
			m.lastRegURC[dom] = domPrefix[dom] + m.regFields(dom, m.regN[dom])
		}
	}
}

// campedNetwork is the network whose cell the modem measures: the serving
// one, or the strongest it can hear while not registered.
//
// When no cell is usable (jamming drives SINR under the floor) the modem
// stays on the cell it was measuring as long as that cell's power is still
// heard, as real firmware does in limited service; a cell that went silent
// (carrier outage, fade under the power floor) is no longer reported.
func (m *Modem) campedNetwork() *network {
	if m.cfun != 1 {
		return nil
	}
	if m.reg.net != nil {
		m.camped = m.reg.net
		return m.reg.net
	}
	if c := m.candidates(); len(c) > 0 {
		m.camped = c[0]
		return c[0]
	}
	if n := m.camped; n != nil && m.heard(n) {
		return n
	}
	m.camped = nil
	return nil
}

// heard says n's serving cell is on air and its power above the floor,
// usable or not.
func (m *Modem) heard(n *network) bool {
	if n.down || n.cell.RAT == "" || n.rat().mask()&m.nvm.ratMask == 0 {
		return false
	}
	return m.radio(n).audible(n.rat())
}

func (m *Modem) findNetwork(plmn string) (*network, error) {
	for _, n := range m.nets {
		if n.plmn == plmn {
			return n, nil
		}
	}
	return nil, fmt.Errorf("%w network %q", ErrUnknown, plmn)
}

// pdpDef is a +CGDCONT definition (NVM).
type pdpDef struct {
	cid      int
	typ, apn string
}

type pdpContext struct {
	cid  int
	addr string
}

type usage struct {
	tx, rx   float64
	last     time.Time
	flowing  bool
	rateTx   float64
	rateRx   float64
	sessions int
}

// accrue brings the usage counters up to now at the rate that held since
// the last change; call it before anything that changes the rate.
func (m *Modem) accrue() {
	now := m.clk.Now()
	el := now.Sub(m.usage.last).Seconds()
	if m.usage.flowing && el > 0 {
		m.usage.tx += m.usage.rateTx * el
		m.usage.rx += m.usage.rateRx * el
	}
	m.usage.last = now
	n := m.reg.net
	m.usage.flowing = m.dataFlows()
	if m.usage.flowing {
		m.usage.rateTx, m.usage.rateRx = n.traffic.TxBps, n.traffic.RxBps
	}
}

// dataFlows: a context is active on a registration whose core passes
// traffic.
func (m *Modem) dataFlows() bool {
	n := m.reg.net
	return len(m.pdp) > 0 && m.reg.registered() && n != nil && !n.coreDown
}

// teardownPDP deactivates every context; nw says whether the network or
// the modem ended them (the +CGEV wording differs).
func (m *Modem) teardownPDP(nw bool) {
	if len(m.pdp) == 0 {
		return
	}
	m.accrue()
	cids := make([]int, 0, len(m.pdp))
	for cid := range m.pdp {
		cids = append(cids, cid)
	}
	sort.Ints(cids)
	m.pdp = map[int]*pdpContext{}
	m.accrue()
	if m.cgerep == 0 {
		return
	}
	for _, cid := range cids {
		if nw {
			m.urc(fmt.Sprintf("+CGEV: NW PDN DEACT %d", cid))
		} else {
			m.urc(fmt.Sprintf("+CGEV: ME PDN DEACT %d", cid))
		}
	}
	if nw {
		m.urc("+CGEV: NW DETACH")
	} else {
		m.urc("+CGEV: ME DETACH")
	}
}

func (m *Modem) newAddress() string {
	m.ipSeq++
	idx := 0
	for i, n := range m.nets {
		if n == m.reg.net {
			idx = i
		}
	}
	return fmt.Sprintf("10.%d.%d.%d", 64+idx, (m.ipSeq/250)%250, 2+m.ipSeq%250)
}
