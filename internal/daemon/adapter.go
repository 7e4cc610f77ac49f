package daemon

import (
	"context"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/switcher"
)

// driverModem is the switcher's adapter to the driver (switcher.DriverModem)
// for one modem session. It keeps no copy of the modem's answers: what the
// switcher read is in the view each tick publishes (switcher.View), which
// the API, upstream events and metrics all read.
type driverModem struct {
	*switcher.DriverModem

	// ident is the modem's identity, read once by the daemon when the
	// session came up.
	ident modem.Identity
	// onCounters charges a counter reading the switcher took (traffic-aware
	// probes read them every poll) to the usage ledger.
	onCounters func(modem.DataCounters)
}

// DataCounters passes the switcher's reading on to the usage ledger too:
// usage is then sampled at every poll that reads the counters, not only
// every few minutes, so a cap is caught within a poll.
func (a *driverModem) DataCounters(ctx context.Context) (modem.DataCounters, error) {
	c, err := a.DriverModem.DataCounters(ctx)
	if err == nil && a.onCounters != nil {
		a.onCounters(c)
	}
	return c, err
}

// newDriverModem adapts d; beforeSwitch takes a usage reading so the bytes
// so far land on the profile that used them (profiles.Ledger.Observe's
// contract).
func newDriverModem(d *modem.Modem, id modem.Identity, beforeSwitch func(context.Context)) *driverModem {
	return &driverModem{DriverModem: switcher.NewDriverModem(d, beforeSwitch), ident: id}
}

// wait blocks until the event pump has ended (after the driver closed).
func (a *driverModem) wait() { a.Wait() }
