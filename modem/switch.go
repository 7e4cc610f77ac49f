package modem

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SIMIdentity is what identifies the subscription in use.
type SIMIdentity struct {
	IMSI  IMSI
	ICCID ICCID
}

// RefreshResult says what a SIM refresh changed. A changed IMSI on the same
// ICCID is a multi-IMSI switch; a changed ICCID is an eUICC profile or slot
// switch.
type RefreshResult struct {
	Before, After SIMIdentity
	IMSIChanged   bool
	ICCIDChanged  bool
	// Trigger is what showed the refresh: the URC line, or "poll".
	Trigger string
}

// ErrRefreshNotSeen is returned (wrapped with the context's error) when the
// context ends before any sign of a SIM refresh.
var ErrRefreshNotSeen = errors.New("modem: no SIM refresh seen")

// refreshPoll is how often the SIM is polled while waiting for a refresh
// that no URC announces (u-blox has none; Particle polls the same way).
const refreshPoll = 2 * time.Second

// SIMIdentity reads IMSI and ICCID, retrying while the SIM initialises
// (CME 14 busy, 10 not inserted and 13 failure are transient right after a
// refresh) with a delay growing by 100 ms a try, as Particle does.
func (m *Modem) SIMIdentity(ctx context.Context) (SIMIdentity, error) {
	var id SIMIdentity
	imsi, err := retrySIM(ctx, m, m.IMSI)
	if err != nil {
		return id, err
	}
	id.IMSI = imsi
	iccid, err := retrySIM(ctx, m, m.ICCID)
	if errors.Is(err, ErrNotSupported) || errors.Is(err, ErrError) {
		iccid, err = retrySIM(ctx, m, m.EFICCID)
	}
	if err != nil {
		return id, err
	}
	id.ICCID = iccid
	return id, nil
}

func simTransient(err error) bool {
	return errors.Is(err, ErrSIMBusy) || errors.Is(err, ErrSIMNotInserted) || errors.Is(err, ErrSIMFailure)
}

func retrySIM[T any](ctx context.Context, m *Modem, f func(context.Context) (T, error)) (T, error) {
	var v T
	var err error
	for i := 1; i <= 10; i++ {
		v, err = f(ctx)
		if err == nil || !simTransient(err) {
			return v, err
		}
		select {
		case <-m.cfg.clock.After(time.Duration(i) * 100 * time.Millisecond):
		case <-ctx.Done():
			return v, err
		}
	}
	return v, err
}

// simDownLine reports a URC that says the SIM went away or is re-initialising.
func simDownLine(e Event) bool {
	if e.Kind == EventReset {
		return true
	}
	l := strings.ToUpper(e.Line)
	return strings.HasPrefix(l, "+CPIN: NOT READY") || strings.HasPrefix(l, "+CPIN: NOT INSERTED") ||
		strings.HasPrefix(l, "+QUSIM: 0") || strings.HasPrefix(l, "+QSIMSTAT: 1,0") ||
		strings.HasPrefix(l, "+SIMCARD: NOT AVAILABLE")
}

// simUpLine reports a URC that says the SIM is ready again.
func simUpLine(e Event) bool {
	l := strings.ToUpper(e.Line)
	return strings.HasPrefix(l, "+CPIN: READY") || strings.HasPrefix(l, "+QUSIM: 1") ||
		strings.HasPrefix(l, "#QSS: 1") || strings.HasPrefix(l, "#QSS: 3") ||
		strings.HasPrefix(l, "^SIMST: 1") || strings.HasPrefix(l, "+UUSIMSTAT: 6")
}

// AwaitSIMRefresh waits for the SIM to re-initialise after a switch
// (REFRESH, UICC reset or slot change), then re-reads IMSI and ICCID and
// says what changed against before. It watches the event stream and polls
// +CPIN? as well, because not every modem announces a refresh. The
// refresh may have happened already: an identity different from before
// counts as seen.
func (m *Modem) AwaitSIMRefresh(ctx context.Context, before SIMIdentity) (RefreshResult, error) {
	w, stop := m.watch()
	defer stop()
	return m.awaitRefresh(ctx, w, before)
}

func (m *Modem) awaitRefresh(ctx context.Context, w <-chan Event, before SIMIdentity) (RefreshResult, error) {
	res := RefreshResult{Before: before}
	seen := ""
	check := func() (bool, error) {
		id, err := m.SIMIdentity(ctx)
		if err != nil {
			if simTransient(err) {
				if seen == "" {
					seen = "poll"
				}
				return false, nil
			}
			return false, err
		}
		res.After = id
		res.IMSIChanged = id.IMSI != before.IMSI
		res.ICCIDChanged = id.ICCID != before.ICCID
		if res.IMSIChanged || res.ICCIDChanged {
			if seen == "" {
				seen = "poll"
			}
		}
		res.Trigger = seen
		return seen != "", nil
	}
	for {
		select {
		case e := <-w:
			switch {
			case simDownLine(e):
				seen = e.Line
				continue
			case simUpLine(e):
				seen = e.Line
			default:
				continue
			}
		case <-m.cfg.clock.After(refreshPoll):
			st, err := m.SIMState(ctx)
			switch {
			case err == nil && st == SIMReady:
			case err == nil, simTransient(err), errors.Is(err, ErrNotAllowed):
				// Not ready yet (or CPIN refused while initialising).
				if seen == "" {
					seen = "poll"
				}
				continue
			case errors.Is(err, ErrNotSupported):
				// No +CPIN? on this dialect: the identity check decides.
			case ctx.Err() != nil:
				return res, fmt.Errorf("%w: %w", ErrRefreshNotSeen, ctx.Err())
			default:
				return res, err
			}
		case <-m.done:
			return res, m.Err()
		case <-ctx.Done():
			return res, fmt.Errorf("%w: %w", ErrRefreshNotSeen, ctx.Err())
		}
		done, err := check()
		if err != nil {
			if ctx.Err() != nil {
				return res, fmt.Errorf("%w: %w", ErrRefreshNotSeen, ctx.Err())
			}
			return res, err
		}
		if done {
			return res, nil
		}
	}
}

// beforeSwitch records the identity before a switch; a SIM that cannot be
// read (slot empty) is an empty identity, not a failure.
func (m *Modem) beforeSwitch(ctx context.Context) SIMIdentity {
	id, err := m.SIMIdentity(ctx)
	if err != nil {
		m.cfg.logger.Debug("modem: identity before switch unreadable", "err", err)
	}
	return id
}

// SwitchAppletProfile selects profile index through the applet, then waits
// for the refresh and reports what changed.
func (m *Modem) SwitchAppletProfile(ctx context.Context, tmpl AppletTemplate, index int) (RefreshResult, error) {
	before := m.beforeSwitch(ctx)
	w, stop := m.watch()
	defer stop()
	if err := m.SelectAppletProfile(ctx, tmpl, index); err != nil {
		return RefreshResult{Before: before}, err
	}
	return m.awaitRefresh(ctx, w, before)
}

// SwitchEUICCProfile enables a profile on the eUICC, then waits for the
// refresh and reports what changed. Without refresh the eUICC does not
// reset itself, so the UICC is reset with a CFUN 0/1 cycle (openpilot's
// approach on modems that ignore the refresh).
func (m *Modem) SwitchEUICCProfile(ctx context.Context, ref ProfileRef, refresh bool) (RefreshResult, error) {
	before := m.beforeSwitch(ctx)
	w, stop := m.watch()
	defer stop()
	if err := m.EnableProfile(ctx, ref, refresh); err != nil {
		return RefreshResult{Before: before}, err
	}
	if !refresh {
		if err := m.SetFunctionality(ctx, 0); err != nil {
			return RefreshResult{Before: before}, err
		}
		if err := m.SetFunctionality(ctx, 1); err != nil {
			return RefreshResult{Before: before}, err
		}
	}
	return m.awaitRefresh(ctx, w, before)
}

// SwitchSlot moves to another physical SIM slot, then waits for the new
// SIM and reports what changed.
func (m *Modem) SwitchSlot(ctx context.Context, slot int) (RefreshResult, error) {
	before := m.beforeSwitch(ctx)
	w, stop := m.watch()
	defer stop()
	if err := m.SetSIMSlot(ctx, slot); err != nil {
		return RefreshResult{Before: before}, err
	}
	return m.awaitRefresh(ctx, w, before)
}
