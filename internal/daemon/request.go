package daemon

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/imsid/imsid/internal/store"
	"github.com/imsid/imsid/switcher"
)

// manualRequest is an operator's switch request as journalled between the
// API's 202 and the switcher acting on it.
type manualRequest struct {
	Profile string    `json:"profile"`
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

// maxRequestAge bounds how old a journalled request may be and still be
// applied after a restart: an operator's "switch now" from long ago is
// not what they want now.
const maxRequestAge = time.Hour

// journalRequest makes an accepted request durable before it is queued.
func (d *Daemon) journalRequest(profile, reason string) {
	raw, err := json.Marshal(manualRequest{Profile: profile, Reason: reason, At: d.o.Clock.Now()})
	if err == nil {
		err = d.st.SetManualRequest(raw)
	}
	d.journalled.Store(err == nil)
	if err != nil {
		d.log.Warn("operator switch request not journalled; a restart before it is applied loses it", "profile", profile, "err", err)
	}
}

// forgetRequest drops the journalled request: the switcher decided on it.
func (d *Daemon) forgetRequest() {
	if !d.journalled.Swap(false) {
		return
	}
	if err := d.st.ClearManualRequest(); err != nil && !errors.Is(err, store.ErrClosed) {
		d.log.Warn("clear the journalled operator request", "err", err)
	}
}

// journalledRequest reads a request left by the previous run, if it is
// recent enough to apply.
func (d *Daemon) journalledRequest() *manualRequest {
	raw, err := d.st.ManualRequest()
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			d.log.Warn("journalled operator request unreadable", "err", err)
		}
		return nil
	}
	d.journalled.Store(true)
	var rq manualRequest
	if err := json.Unmarshal(raw, &rq); err != nil || rq.Profile == "" {
		d.log.Warn("journalled operator request unreadable; dropped", "err", err)
		d.forgetRequest()
		return nil
	}
	if age := d.o.Clock.Now().Sub(rq.At); age > maxRequestAge || age < -maxRequestAge {
		d.log.Info("journalled operator switch request too old to apply; dropped", "profile", rq.Profile, "at", rq.At)
		d.forgetRequest()
		return nil
	}
	return &rq
}

// requeueRequest gives the switcher the request the previous run accepted
// but did not act on, once it has settled (connected, degraded or held):
// while it is starting it refuses every request as busy.
func (d *Daemon) requeueRequest(sw *switcher.Switcher) {
	switch sw.State() {
	case switcher.StateConnected, switcher.StateDegraded, switcher.StateHeld:
	default:
		return
	}
	rq := d.requeue.Swap(nil)
	if rq == nil {
		return
	}
	err := sw.Force(rq.Profile, rq.Reason)
	var re *switcher.RefusedError
	switch {
	case err == nil:
		d.log.Info("operator switch request accepted before the restart queued again", "profile", rq.Profile, "reason", rq.Reason, "accepted_at", rq.At)
	case errors.Is(err, switcher.ErrClosed), errors.As(err, &re) && re.Reason.Code == switcher.CodeBusy:
		// Busy: the next tick tries again. Closed: shutting down;
		// the journal keeps it for the next start.
		d.requeue.CompareAndSwap(nil, rq)
	default:
		d.log.Warn("operator switch request accepted before the restart is refused now", "profile", rq.Profile, "err", err)
		d.forgetRequest()
	}
}
