package simulator

import "github.com/imsid/imsid/simulator/sim"

// runChain sends steps one after another on the clock, then calls done.
// A reset or REFRESH in between (gen bump) abandons the rest.
func (m *Modem) runChain(steps []URCStep, done func()) {
	if len(steps) == 0 {
		if done != nil {
			done()
		}
		return
	}
	s := steps[0]
	fire := func() {
		m.urc(s.Line)
		m.runChain(steps[1:], done)
	}
	if s.Delay <= 0 {
		fire()
		return
	}
	m.afterGen(s.Delay, fire)
}

// rebootLocked is a modem reset: CFUN=1,1 or a spontaneous one. Volatile
// settings go, NVM ones stay; logical channels close; PDP is gone. On a USB
// modem the port disappears for timing.port_down. mu held.
func (m *Modem) rebootLocked(dropUSB bool) {
	m.gen++
	m.accrue()
	m.resetVolatile()
	m.stop(m.attachTimer)
	m.attachTimer = nil
	m.pdp = map[int]*pdpContext{}
	m.reg = regState{stat: regNotSearching}
	m.forbidden = map[string]bool{}
	m.copsMode, m.copsPLMN = 0, ""
	m.late = nil
	m.slot = m.nvm.slot
	m.cfun = 1
	if card := m.activeCard(); card != nil {
		card.PowerOff(m.clk.Now())
		card.Reset()
		m.sim = simBusy
	} else {
		m.sim = simAbsent
	}
	if dropUSB {
		m.dropPort(m.sc.Timing.PortDown)
	}
	m.runChain(m.d.BootURCs, func() { m.simInit(false) })
}

// simInit brings the active card up: after the busy window +CPIN: READY,
// the dialect's SIM-ready URCs, then registration. With notReady it first
// announces +CPIN: NOT READY (a UICC reset seen from outside). mu held.
func (m *Modem) simInit(notReady bool) {
	card := m.activeCard()
	if notReady {
		m.urc("+CPIN: NOT READY")
	}
	if card == nil {
		m.sim = simAbsent
		m.evaluate()
		return
	}
	m.sim = simBusy
	m.afterGen(m.refreshDelay(), func() {
		if m.activeCard() != card {
			return
		}
		m.sim = simReady
		m.simIMSI = card.IMSI()
		if m.cfun == 1 {
			// In CFUN=4 the applet's timer stays paused (BICS "active period").
			card.PowerOn(m.clk.Now())
		}
		m.urc("+CPIN: READY")
		m.onSIM(SIMReady)
		m.evaluate()
		m.runChain(m.d.SIMReadyURCs, nil)
	})
}

// checkRefresh runs a REFRESH the card asked for (after an applet switch,
// an eUICC enable, or autonomous rotation). mu held.
func (m *Modem) checkRefresh() {
	card := m.activeCard()
	if card == nil {
		return
	}
	r, ok := card.TakeRefresh()
	if !ok {
		return
	}
	m.logger.Debug("refresh", "qualifier", r.Qualifier, "reason", r.Reason)
	if m.sc.Quirks.IgnoreRefresh {
		// The card switched, the modem did not notice: CRSM shows the new
		// EF_IMSI, CIMI and registration keep the old one until a CFUN cycle.
		return
	}
	m.runRefresh(r.Qualifier)
}

// runRefresh is what a modem shows when the card REFRESHes: registration
// lost, PDP torn down, the SIM busy (CME 14) for timing.refresh_delay, then
// +CPIN: READY and the SIM-ready URCs, then registration with the new IMSI
// after the attach delay (or a reject). A UICC reset (04) also announces
// +CPIN: NOT READY and closes logical channels. mu held.
func (m *Modem) runRefresh(qualifier byte) {
	m.gen++
	card := m.activeCard()
	reset := qualifier == sim.RefreshUICCReset
	if reset && m.cfun != 0 {
		m.urc("+CPIN: NOT READY")
	}
	m.teardownPDP(false)
	m.stop(m.attachTimer)
	m.attachTimer = nil
	if card != nil {
		if reset {
			card.Reset()
		} else {
			card.NAAInit()
		}
	}
	if m.cfun == 0 {
		return
	}
	m.sim = simBusy
	if m.reg.stat != regNotSearching || m.reg.net != nil {
		m.setReg(regState{stat: regSearching})
	}
	m.simInit(false)
}

// switchSlot moves to the other physical slot (+QUIMSLOT, NVM).
func (m *Modem) switchSlot(slot int) {
	m.nvm.slot = slot
	m.slot = slot
	if card := m.activeCard(); card != nil {
		card.Reset()
	}
	m.runRefresh(sim.RefreshUICCReset)
}

// swapCard replaces the card in a slot (hot swap; cfg nil removes it).
func (m *Modem) swapCard(slot int, cfg *sim.CardConfig) error {
	var card *sim.Card
	if cfg != nil {
		c, err := sim.NewCard(*cfg)
		if err != nil {
			return err
		}
		card = c
	}
	m.cards[slot] = card
	if slot != m.slot {
		return nil
	}
	m.gen++
	m.teardownPDP(true)
	m.stop(m.attachTimer)
	m.attachTimer = nil
	m.onSIM(SIMRemoved)
	m.urc("+CPIN: NOT READY")
	m.sim = simAbsent
	m.evaluate()
	if card == nil {
		return nil
	}
	// The new card is detected a moment later.
	m.afterGen(m.refreshDelay(), func() {
		m.onSIM(SIMInserted)
		m.simInit(false)
	})
	return nil
}
