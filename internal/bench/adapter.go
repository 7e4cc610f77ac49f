package bench

import (
	"context"
	"encoding/hex"
	"strings"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/switcher"
)

// driverModem adapts the real driver to switcher.Modem for every policy
// alike. The daemon's adapter is unexported (internal/daemon); this one
// mirrors the switcher scenario tests' and leaves out only what the
// benchmark never exercises (eUICC/slot edge cases are still mapped).
type driverModem struct {
	d      *modem.Modem
	events chan switcher.ModemEvent
	done   chan struct{}
}

func newDriverModem(d *modem.Modem) *driverModem {
	a := &driverModem{d: d, events: make(chan switcher.ModemEvent, 64), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for e := range d.Events() {
			var k switcher.ModemEventKind
			switch e.Kind {
			case modem.EventRegistration:
				k = switcher.ModemEventRegistration
			case modem.EventSIM:
				k = switcher.ModemEventSIM
			case modem.EventReset:
				k = switcher.ModemEventReset
			case modem.EventPacket:
				k = switcher.ModemEventPDNDeact
			case modem.EventSTK:
				k = switcher.ModemEventRefresh
			default:
				continue
			}
			select {
			case a.events <- switcher.ModemEvent{At: e.Time, Kind: k}:
			default: // the switcher re-reads anyway; never block the driver
			}
		}
	}()
	return a
}

func (a *driverModem) SIMState(ctx context.Context) (modem.SIMState, error) { return a.d.SIMState(ctx) }
func (a *driverModem) IMSI(ctx context.Context) (modem.IMSI, error)         { return a.d.IMSI(ctx) }
func (a *driverModem) ICCID(ctx context.Context) (modem.ICCID, error)       { return a.d.ICCID(ctx) }
func (a *driverModem) Registrations(ctx context.Context) ([]modem.Registration, error) {
	return a.d.Registrations(ctx)
}
func (a *driverModem) Operator(ctx context.Context) (modem.Operator, error) { return a.d.Operator(ctx) }
func (a *driverModem) Signal(ctx context.Context) (modem.Signal, error)     { return a.d.Signal(ctx) }
func (a *driverModem) ServingCell(ctx context.Context) (modem.ServingCell, []modem.Neighbour, error) {
	return a.d.ServingCell(ctx)
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
	return a.d.PDPAddress(ctx, cid)
}
func (a *driverModem) SetFunctionality(ctx context.Context, fun int) error {
	return a.d.SetFunctionality(ctx, fun)
}
func (a *driverModem) Resync(ctx context.Context) error {
	_, err := a.d.SIMState(ctx)
	return err
}
func (a *driverModem) Reset(ctx context.Context) error { return a.d.Reset(ctx) }
func (a *driverModem) SelectProfile(ctx context.Context, sel switcher.Selector) error {
	switch sel.Method {
	case profiles.MethodApplet:
		tmpl := modem.AppletTemplate{AID: strings.ToUpper(hex.EncodeToString(sel.Applet.AID)),
			APDUs: []modem.APDUTemplate{{APDU: sel.Applet.ActivateAPDU, Expect: sel.Applet.ExpectSW}}}
		_, err := a.d.SwitchAppletProfile(ctx, tmpl, sel.Index)
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

// simProber asks the simulator whether traffic would pass: the data probe
// without a network stack, the same for every policy.
type simProber struct{ sim *simulator.Modem }

func (p simProber) Probe(context.Context, string) (switcher.ProbeResult, error) {
	if p.sim.Snapshot().DataUp {
		return switcher.ProbeResult{OK: true}, nil
	}
	return switcher.ProbeResult{OK: false, Detail: "no traffic"}, nil
}
