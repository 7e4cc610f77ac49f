package daemon

import (
	"context"
	"encoding/hex"
	"strings"
	"sync"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
)

// driverModem adapts *modem.Modem to switcher.Modem. It also keeps the last
// answers the switcher read, so the API can show registration details and
// upstream events can carry the identity without extra AT traffic.
type driverModem struct {
	d      *modem.Modem
	events chan switcher.ModemEvent
	done   chan struct{}
	// beforeSwitch takes a usage reading so the bytes so far land on the
	// profile that used them (profiles.Ledger.Observe's contract).
	beforeSwitch func(ctx context.Context)

	mu    sync.Mutex
	seen  observed
	ident modem.Identity
}

// observed is what the switcher last read through the adapter.
type observed struct {
	imsi     modem.IMSI
	iccid    modem.ICCID
	sim      modem.SIMState
	haveSIM  bool
	regs     []modem.Registration
	op       modem.Operator
	haveOp   bool
	signal   modem.Signal
	haveSig  bool
	cell     modem.ServingCell
	haveCell bool
	addr     modem.PDPAddress
	failing  bool // the last call failed with a timeout or a lost port
}

func newDriverModem(d *modem.Modem, id modem.Identity, beforeSwitch func(context.Context)) *driverModem {
	a := &driverModem{d: d, ident: id, beforeSwitch: beforeSwitch,
		events: make(chan switcher.ModemEvent, 64), done: make(chan struct{})}
	go a.pump()
	return a
}

// pump maps driver URC events onto the switcher's vocabulary. It ends when
// the driver closes its event channel (session over).
func (a *driverModem) pump() {
	defer close(a.done)
	for e := range a.d.Events() {
		ev := switcher.ModemEvent{At: e.Time}
		switch e.Kind {
		case modem.EventRegistration:
			ev.Kind, ev.Registration = switcher.ModemEventRegistration, e.Registration
		case modem.EventSIM:
			ev.Kind = switcher.ModemEventSIM
			if e.SIM != nil && *e.SIM == modem.SIMNotInserted {
				ev.Kind = switcher.ModemEventSIMRemoved
			}
		case modem.EventReset:
			ev.Kind = switcher.ModemEventReset
		case modem.EventPacket:
			ev.Kind = switcher.ModemEventPDNDeact
			if strings.Contains(e.Line, "DETACH") {
				ev.Kind = switcher.ModemEventNetworkDetach
			}
		case modem.EventSTK:
			ev.Kind = switcher.ModemEventRefresh
		default:
			continue
		}
		select {
		case a.events <- ev:
		default: // the switcher re-reads anyway; never block the driver
		}
	}
}

// wait blocks until the event pump has ended (after the driver closed).
func (a *driverModem) wait() { <-a.done }

func (a *driverModem) note(err error, f func(o *observed)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seen.failing = err != nil && (isTimeout(err) || isLost(err))
	if err == nil && f != nil {
		f(&a.seen)
	}
}

func (a *driverModem) snapshot() (observed, modem.Identity) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.seen
	o.regs = append([]modem.Registration(nil), o.regs...)
	return o, a.ident
}

func (a *driverModem) SIMState(ctx context.Context) (modem.SIMState, error) {
	s, err := a.d.SIMState(ctx)
	a.note(err, func(o *observed) { o.sim, o.haveSIM = s, true })
	return s, err
}

func (a *driverModem) IMSI(ctx context.Context) (modem.IMSI, error) {
	v, err := a.d.IMSI(ctx)
	a.note(err, func(o *observed) { o.imsi = v })
	return v, err
}

func (a *driverModem) ICCID(ctx context.Context) (modem.ICCID, error) {
	v, err := a.d.ICCID(ctx)
	a.note(err, func(o *observed) { o.iccid = v })
	return v, err
}

func (a *driverModem) Registrations(ctx context.Context) ([]modem.Registration, error) {
	v, err := a.d.Registrations(ctx)
	a.note(err, func(o *observed) { o.regs = v })
	return v, err
}

func (a *driverModem) Operator(ctx context.Context) (modem.Operator, error) {
	v, err := a.d.Operator(ctx)
	a.note(err, func(o *observed) { o.op, o.haveOp = v, true })
	return v, err
}

func (a *driverModem) Signal(ctx context.Context) (modem.Signal, error) {
	v, err := a.d.Signal(ctx)
	a.note(err, func(o *observed) { o.signal, o.haveSig = v, true })
	return v, err
}

func (a *driverModem) ServingCell(ctx context.Context) (modem.ServingCell, []modem.Neighbour, error) {
	c, n, err := a.d.ServingCell(ctx)
	a.note(err, func(o *observed) { o.cell, o.haveCell = c, true })
	return c, n, err
}

func (a *driverModem) Scan(ctx context.Context) ([]modem.NetworkEntry, error) {
	return a.d.ScanNetworks(ctx)
}

func (a *driverModem) DefinePDP(ctx context.Context, p switcher.PDPSpec) error {
	return a.d.DefinePDP(ctx, modem.PDPContext{CID: p.CID, Type: p.Type, APN: p.APN})
}

func (a *driverModem) ActivatePDP(ctx context.Context, cid int) error {
	return a.d.SetPDPActive(ctx, cid, true)
}

func (a *driverModem) PDPAddress(ctx context.Context, cid int) (modem.PDPAddress, error) {
	v, err := a.d.PDPAddress(ctx, cid)
	a.note(err, func(o *observed) { o.addr = v })
	return v, err
}

func (a *driverModem) SetFunctionality(ctx context.Context, fun int) error {
	return a.d.SetFunctionality(ctx, fun)
}

// Resync: the driver resynchronises its channel on every command after a
// timeout; a cheap query is enough to prove the channel answers again.
func (a *driverModem) Resync(ctx context.Context) error {
	_, err := a.d.SIMState(ctx)
	return err
}

func (a *driverModem) Reset(ctx context.Context) error { return a.d.Reset(ctx) }

func (a *driverModem) SelectProfile(ctx context.Context, sel switcher.Selector) error {
	if a.beforeSwitch != nil {
		a.beforeSwitch(ctx)
	}
	switch sel.Method {
	case profiles.MethodApplet:
		_, err := a.d.SwitchAppletProfile(ctx, appletTemplate(sel.Applet), sel.Index)
		return err
	case profiles.MethodSlot:
		_, err := a.d.SwitchSlot(ctx, sel.Slot)
		return err
	case profiles.MethodEUICC:
		_, err := a.d.SwitchEUICCProfile(ctx, modem.ProfileRef{ICCID: modem.ICCID(sel.ICCID.Reveal())}, sel.Refresh)
		return err
	}
	return modem.ErrNotSupported
}

// appletTemplate turns the config's applet section into the driver's
// template; an empty activate APDU falls back to the driver's default.
func appletTemplate(ap profiles.Applet) modem.AppletTemplate {
	t := modem.DefaultAppletTemplate()
	if len(ap.AID) > 0 {
		t.AID = strings.ToUpper(hex.EncodeToString(ap.AID))
	}
	if ap.ActivateAPDU != "" {
		t.APDUs = []modem.APDUTemplate{{APDU: ap.ActivateAPDU, Expect: ap.ExpectSW}}
	}
	return t
}

func (a *driverModem) LockRAT(ctx context.Context, techs []modem.Tech) error {
	mode := modem.RATLTEOnly
	for _, t := range techs {
		if t == modem.TechUMTS {
			mode = modem.RATNo2G
		}
	}
	return a.d.SetRATLock(ctx, mode)
}

func (a *driverModem) RATLock(ctx context.Context) ([]modem.Tech, error) {
	mode, err := a.d.RATLock(ctx)
	if err != nil {
		return nil, err
	}
	switch mode {
	case modem.RATLTEOnly:
		return []modem.Tech{modem.TechLTE}, nil
	case modem.RATNo2G:
		return []modem.Tech{modem.TechUMTS, modem.TechLTE}, nil
	case modem.RATUMTSOnly:
		return []modem.Tech{modem.TechUMTS}, nil
	case modem.RATGSMOnly:
		return []modem.Tech{modem.TechGSM}, nil
	}
	return []modem.Tech{modem.TechGSM, modem.TechUMTS, modem.TechLTE}, nil
}

func (a *driverModem) Events() <-chan switcher.ModemEvent { return a.events }
