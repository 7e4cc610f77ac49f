package simulator

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/imsid/imsid/simulator/sim"
)

// InjectURC sends unsolicited lines to the client now (lost if no port is
// being served, as on a real modem).
func (m *Modem) InjectURC(lines ...string) {
	m.mu.Lock()
	defer m.unlock()
	for _, l := range lines {
		m.urc(strings.TrimRight(l, "\r\n"))
	}
}

// InjectURCInResponse queues lines to be sent inside the next response,
// between its information lines and its final result code, where real
// modems sometimes put them.
func (m *Modem) InjectURCInResponse(lines ...string) {
	m.mu.Lock()
	defer m.unlock()
	for _, l := range lines {
		m.splice = append(m.splice, strings.TrimRight(l, "\r\n"))
	}
}

// RunEvent applies a timeline event now (its At is ignored). The control
// socket uses it; the event is validated as a scenario's would be.
func (m *Modem) RunEvent(ev Event) error {
	m.mu.Lock()
	defer m.unlock()
	if m.closed {
		return ErrClosed
	}
	plmns := map[string]bool{}
	for _, n := range m.nets {
		plmns[n.plmn] = true
	}
	err := m.sc.checkEvent(&ev, "event", plmns, func(path, format string, args ...any) error {
		return fmt.Errorf("simulator: RunEvent: %s: %s", path, fmt.Sprintf(format, args...))
	})
	if err != nil {
		return err
	}
	return m.runEvent(ev)
}

// runEvent applies ev; mu held.
func (m *Modem) runEvent(ev Event) error {
	m.logger.Debug("event", "kind", ev.Kind, "network", ev.Network)
	var n *network
	if ev.Network != "" {
		var err error
		if n, err = m.findNetwork(ev.Network); err != nil {
			return err
		}
	}
	switch ev.Kind {
	case "signal":
		now := m.clk.Now()
		from := n.radioAt(now)
		to := ev.Signal.radio(from)
		if ev.Over > 0 {
			n.ramp = &ramp{from: from, to: to, start: now, dur: ev.Over}
			// Re-evaluate along the ramp so coverage is lost near where it
			// really crosses the threshold.
			const steps = 10
			for i := 1; i <= steps; i++ {
				m.after(ev.Over*time.Duration(i)/steps, m.evaluate)
			}
		} else {
			n.base, n.ramp = to, nil
		}
		m.evaluate()
	case "outage":
		n.down = true
		m.evaluate()
		if ev.Duration > 0 {
			m.after(ev.Duration, func() { n.down = false; m.evaluate() })
		}
	case "restore":
		n.down = false
		m.evaluate()
	case "core_outage":
		m.accrue()
		n.coreDown = true
		m.accrue()
		if ev.Duration > 0 {
			m.after(ev.Duration, func() { m.accrue(); n.coreDown = false; m.accrue() })
		}
	case "core_restore":
		m.accrue()
		n.coreDown = false
		m.accrue()
	case "reject":
		cause := ev.Cause
		if cause == 0 {
			cause = 11
		}
		n.access = append(n.access, AccessRule{IMSI: ev.IMSI, Result: "reject", Cause: cause})
		m.evaluate()
	case "accept":
		n.access = append(n.access, AccessRule{IMSI: ev.IMSI, Result: ev.Result})
		m.evaluate()
	case "cell":
		prev := n.cell
		n.cell = *ev.Cell
		if ev.Signal != nil {
			n.base, n.ramp = ev.Signal.radio(n.radioAt(m.clk.Now())), nil
		}
		m.evaluate()
		if ev.Duration > 0 {
			prevRadio := n.radioAt(m.clk.Now())
			if ev.Signal != nil {
				prevRadio = n.cfg.Signal.radio(prevRadio)
			}
			m.after(ev.Duration, func() {
				n.cell = prev
				if ev.Signal != nil {
					n.base, n.ramp = prevRadio, nil
				}
				m.evaluate()
			})
		}
	case "jamming":
		s := -15.0
		if ev.SINR != nil {
			s = *ev.SINR
		}
		m.jam = &jamming{sinr: s, rsrq: -19.5}
		m.evaluate()
		if ev.Duration > 0 {
			m.after(ev.Duration, func() { m.jam = nil; m.evaluate() })
		}
	case "jamming_end":
		m.jam = nil
		m.evaluate()
	case "traffic":
		m.accrue()
		n.traffic = *ev.Traffic
		m.accrue()
	case "sim_swap":
		return m.swapCard(ev.Slot-1, ev.SIM)
	case "slot":
		if ev.Slot-1 != m.slot {
			m.switchSlot(ev.Slot - 1)
		}
	case "switch_imsi":
		card := m.activeCard()
		if card == nil {
			return fmt.Errorf("simulator: switch_imsi: no card in the active slot")
		}
		if err := card.SetActive(ev.Index, true); err != nil {
			return fmt.Errorf("simulator: switch_imsi: %w", err)
		}
		m.checkRefresh()
	case "enable_profile":
		card := m.activeCard()
		if card == nil {
			return fmt.Errorf("simulator: enable_profile: no card in the active slot")
		}
		res, err := card.EnableProfile(ev.ICCID, true)
		if err != nil {
			return fmt.Errorf("simulator: enable_profile: %w", err)
		}
		if res != 0 {
			return fmt.Errorf("simulator: enable_profile: result %d", res)
		}
		m.checkRefresh()
	case "refresh":
		q := sim.RefreshUICCReset
		if ev.Refresh == "naa_init" {
			q = sim.RefreshNAAInit
		}
		m.runRefresh(q)
	case "fault":
		k, err := ParseFaultKind(ev.Fault.Kind)
		if err != nil {
			return err
		}
		return m.triggerFault(Fault{Kind: k, Count: ev.Fault.Count, Delay: ev.Fault.Delay, Seed: ev.Fault.Seed})
	case "reset":
		m.rebootLocked(false)
	case "urc":
		m.urc(ev.Lines...)
	default:
		return fmt.Errorf("simulator: %w event %q", ErrUnknown, ev.Kind)
	}
	return nil
}

// State is a snapshot of the modem for test assertions. IMSI and ICCID are
// in clear: tests compare them; never log a State.
type State struct {
	Time        time.Time
	CFUN        int
	Slot        int    // 1 or 2
	SIM         string // "absent", "off", "busy", "ready"
	IMSI        string // active IMSI as the card shows it; "" without a ready SIM
	ModemIMSI   string // what +CIMI answers: read at the last SIM initialisation
	ICCID       string
	RegStat     int    // 27.007 stat: 0,1,2,3,5
	RejectCause int    // with RegStat 3
	PLMN        string // serving (or denied-on) network
	RAT         RAT
	TAC, CI     uint64
	Signal      Radio // of the camped cell
	PDP         map[int]string
	DataUp      bool // PDP active and the serving core passes traffic
	// DataCall: the dialect's data-call command (+QNETDEVCTL, $QCRMCALL,
	// #ECM) bound a context to the host interface since the last reset.
	DataCall bool
	// CoreDown: the registered network is in a core outage (registration
	// works, no data passes).
	CoreDown bool
	TxBytes  int64
	RxBytes  int64
	Serving  bool // a port connection is being served
	PortDown time.Duration
	// SIMSince, RegSince and DataSince: when SIM, registration (RegStat
	// 1 or 5 or not) and DataUp last took their current values, to the
	// instant of the change.
	SIMSince, RegSince, DataSince time.Time
	// StatSince: when RegStat took its current value (a reject's instant,
	// say), to the instant of the change.
	StatSince time.Time
}

var simStateNames = map[simState]string{simAbsent: "absent", simOff: "off", simBusy: "busy", simReady: "ready"}

// Snapshot returns the modem's state now.
func (m *Modem) Snapshot() State {
	m.mu.Lock()
	defer m.unlock()
	m.accrue()
	s := State{
		Time:        m.clk.Now(),
		CFUN:        m.cfun,
		Slot:        m.slot + 1,
		SIM:         simStateNames[m.sim],
		RegStat:     m.reg.stat,
		RejectCause: m.reg.cause,
		PDP:         map[int]string{},
		TxBytes:     int64(m.usage.tx),
		RxBytes:     int64(m.usage.rx),
		Serving:     m.conn != nil,
		PortDown:    m.portDown,
		DataUp:      m.usage.flowing,
		DataCall:    m.vol[volDataCall] != "",
	}
	m.stamp()
	s.SIMSince, s.RegSince, s.DataSince, s.StatSince = m.since.simAt, m.since.regAt, m.since.dataAt, m.since.statAt
	if card := m.activeCard(); card != nil && m.sim == simReady {
		s.IMSI, s.ICCID, s.ModemIMSI = card.IMSI(), card.ICCID(), m.simIMSI
	}
	if n := m.reg.net; n != nil {
		s.PLMN, s.RAT, s.TAC, s.CI = n.plmn, n.rat(), uint64(n.cell.TAC), uint64(n.cell.CI)
		s.CoreDown = n.coreDown
	}
	if n := m.campedNetwork(); n != nil {
		s.Signal = m.radio(n)
	}
	cids := make([]int, 0, len(m.pdp))
	for cid := range m.pdp {
		cids = append(cids, cid)
	}
	sort.Ints(cids)
	for _, cid := range cids {
		s.PDP[cid] = m.pdp[cid].addr
	}
	return s
}

// Card returns the card in slot (1 or 2) for tests that drive it directly;
// call it only while no command is running (the card is not locked).
func (m *Modem) Card(slot int) *sim.Card {
	m.mu.Lock()
	defer m.unlock()
	if slot < 1 || slot > 2 {
		return nil
	}
	return m.cards[slot-1]
}

// Identity returns what the modem answers to +CGMI, +CGMM, +CGMR (without
// the dialect's "+CGMR: " prefix) and +CGSN: the scenario's identity
// overrides over the dialect's defaults, so that a caller (modemsim
// --print-expected) need not know those defaults.
func (m *Modem) Identity() Identity {
	m.mu.Lock()
	defer m.unlock()
	return Identity{Manufacturer: m.manufacturer(), Model: m.model(), Revision: m.revision(), IMEI: m.imei()}
}
