package switcher

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
)

// DriverModem adapts the typed driver (*modem.Modem) to the Modem interface
// the switcher consumes: URC events mapped onto the switcher's vocabulary,
// profile selection by the configured method, RAT modes as technology sets.
// The daemon, the benchmarks and the scenario tests all drive the real
// driver through it, so they exercise the same mapping.
type DriverModem struct {
	d            *modem.Modem
	events       chan ModemEvent
	done         chan struct{}
	beforeSwitch func(ctx context.Context)
}

// NewDriverModem starts mapping d's events. beforeSwitch, if not nil, runs
// just before every profile selection (the daemon takes a usage reading
// there so the bytes so far land on the profile that used them).
func NewDriverModem(d *modem.Modem, beforeSwitch func(ctx context.Context)) *DriverModem {
	a := &DriverModem{d: d, beforeSwitch: beforeSwitch,
		events: make(chan ModemEvent, 64), done: make(chan struct{})}
	go a.pump()
	return a
}

// Driver returns the wrapped driver.
func (a *DriverModem) Driver() *modem.Modem { return a.d }

// Wait blocks until the event pump has ended, which it does once the driver
// is closed and its event channel drained.
func (a *DriverModem) Wait() { <-a.done }

func (a *DriverModem) pump() {
	defer close(a.done)
	for e := range a.d.Events() {
		ev := ModemEvent{At: e.Time}
		switch e.Kind {
		case modem.EventRegistration:
			ev.Kind, ev.Registration = ModemEventRegistration, e.Registration
		case modem.EventSIM:
			ev.Kind = ModemEventSIM
			if e.SIM != nil && *e.SIM == modem.SIMNotInserted {
				ev.Kind = ModemEventSIMRemoved
			}
		case modem.EventReset:
			ev.Kind = ModemEventReset
		case modem.EventPacket:
			ev.Kind = ModemEventPDNDeact
			if strings.Contains(e.Line, "DETACH") {
				ev.Kind = ModemEventNetworkDetach
			}
		case modem.EventSTK:
			ev.Kind = ModemEventRefresh
		default:
			continue
		}
		select {
		case a.events <- ev:
		default: // the switcher re-reads anyway; never block the driver
		}
	}
}

// SIMState implements Modem.
func (a *DriverModem) SIMState(ctx context.Context) (modem.SIMState, error) {
	return a.d.SIMState(ctx)
}

// IMSI implements Modem.
func (a *DriverModem) IMSI(ctx context.Context) (modem.IMSI, error) { return a.d.IMSI(ctx) }

// ICCID implements Modem.
func (a *DriverModem) ICCID(ctx context.Context) (modem.ICCID, error) { return a.d.ICCID(ctx) }

// Registrations implements Modem.
func (a *DriverModem) Registrations(ctx context.Context) ([]modem.Registration, error) {
	return a.d.Registrations(ctx)
}

// Operator implements Modem.
func (a *DriverModem) Operator(ctx context.Context) (modem.Operator, error) { return a.d.Operator(ctx) }

// Signal implements Modem.
func (a *DriverModem) Signal(ctx context.Context) (modem.Signal, error) { return a.d.Signal(ctx) }

// ServingCell implements Modem.
func (a *DriverModem) ServingCell(ctx context.Context) (modem.ServingCell, []modem.Neighbour, error) {
	return a.d.ServingCell(ctx)
}

// DataCounters implements CounterModem.
func (a *DriverModem) DataCounters(ctx context.Context) (modem.DataCounters, error) {
	return a.d.DataCounters(ctx)
}

// Scan implements Modem.
func (a *DriverModem) Scan(ctx context.Context) ([]modem.NetworkEntry, error) {
	return a.d.ScanNetworks(ctx)
}

// DefinePDP implements Modem.
func (a *DriverModem) DefinePDP(ctx context.Context, p PDPSpec) error {
	return a.d.DefinePDP(ctx, modem.PDPContext{CID: p.CID, Type: p.Type, APN: p.APN})
}

// ActivatePDP implements Modem.
func (a *DriverModem) ActivatePDP(ctx context.Context, cid int) error {
	return a.d.SetPDPActive(ctx, cid, true)
}

// SelectNetwork implements Modem.
func (a *DriverModem) SelectNetwork(ctx context.Context, plmn modem.PLMN) error {
	if plmn.IsZero() {
		return a.d.AutoSelectOperator(ctx)
	}
	return a.d.SelectOperator(ctx, plmn, nil)
}

// DeactivatePDP implements Modem.
func (a *DriverModem) DeactivatePDP(ctx context.Context, cid int) error {
	return a.d.SetPDPActive(ctx, cid, false)
}

// IMEI implements DeviceModem.
func (a *DriverModem) IMEI(ctx context.Context) (string, error) {
	id, err := a.d.Identity(ctx)
	return id.IMEI, err
}

// PDPAddress implements Modem.
func (a *DriverModem) PDPAddress(ctx context.Context, cid int) (modem.PDPAddress, error) {
	return a.d.PDPAddress(ctx, cid)
}

// SetFunctionality implements Modem.
func (a *DriverModem) SetFunctionality(ctx context.Context, fun int) error {
	return a.d.SetFunctionality(ctx, fun)
}

// Resync implements Modem. The driver resynchronises its channel itself
// after a timeout; a cheap query proves the channel answers again.
func (a *DriverModem) Resync(ctx context.Context) error {
	_, err := a.d.SIMState(ctx)
	return err
}

// Reset implements Modem.
func (a *DriverModem) Reset(ctx context.Context) error { return a.d.Reset(ctx) }

// SelectProfile implements Modem with the driver's switching primitive for
// the configured method.
func (a *DriverModem) SelectProfile(ctx context.Context, sel Selector) error {
	if a.beforeSwitch != nil {
		a.beforeSwitch(ctx)
	}
	switch sel.Method {
	case profiles.MethodApplet:
		_, err := a.d.SwitchAppletProfile(ctx, AppletTemplate(sel.Applet), sel.Index)
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

// AppletTemplate turns the config's applet section into the driver's
// template; what the config leaves empty comes from the driver's default.
func AppletTemplate(ap profiles.Applet) modem.AppletTemplate {
	t := modem.DefaultAppletTemplate()
	if len(ap.AID) > 0 {
		t.AID = strings.ToUpper(hex.EncodeToString(ap.AID))
	}
	if ap.ActivateAPDU != "" {
		// The driver fills {index} itself; {aid} and {aid_len}, which
		// the config accepts, are filled here.
		apdu := strings.NewReplacer("{aid}", t.AID, "{aid_len}", fmt.Sprintf("%02X", len(t.AID)/2)).Replace(ap.ActivateAPDU)
		t.APDUs = []modem.APDUTemplate{{APDU: apdu, Expect: ap.ExpectSW}}
	}
	return t
}

// LockRAT implements Modem: LTE only, or no 2G when UMTS is allowed.
func (a *DriverModem) LockRAT(ctx context.Context, techs []modem.Tech) error {
	mode := modem.RATLTEOnly
	for _, t := range techs {
		if t == modem.TechUMTS {
			mode = modem.RATNo2G
		}
	}
	return a.d.SetRATLock(ctx, mode)
}

// RATLock implements Modem.
func (a *DriverModem) RATLock(ctx context.Context) ([]modem.Tech, error) {
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

// Events implements Modem.
func (a *DriverModem) Events() <-chan ModemEvent { return a.events }

var _ Modem = (*DriverModem)(nil)
