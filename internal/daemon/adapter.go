package daemon

import (
	"context"
	"sync"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/switcher"
)

// driverModem is the switcher's adapter to the driver (switcher.DriverModem)
// plus a cache of the last answers the switcher read, so the API can show
// registration details and upstream events can carry the identity without
// extra AT traffic.
type driverModem struct {
	*switcher.DriverModem

	mu    sync.Mutex
	seen  observed
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
	a.note(err, nil)
	if err == nil && a.onCounters != nil {
		a.onCounters(c)
	}
	return c, err
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

// newDriverModem adapts d; beforeSwitch takes a usage reading so the bytes
// so far land on the profile that used them (profiles.Ledger.Observe's
// contract).
func newDriverModem(d *modem.Modem, id modem.Identity, beforeSwitch func(context.Context)) *driverModem {
	return &driverModem{DriverModem: switcher.NewDriverModem(d, beforeSwitch), ident: id}
}

// wait blocks until the event pump has ended (after the driver closed).
func (a *driverModem) wait() { a.Wait() }

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
	s, err := a.DriverModem.SIMState(ctx)
	a.note(err, func(o *observed) { o.sim, o.haveSIM = s, true })
	return s, err
}

func (a *driverModem) IMSI(ctx context.Context) (modem.IMSI, error) {
	v, err := a.DriverModem.IMSI(ctx)
	a.note(err, func(o *observed) { o.imsi = v })
	return v, err
}

func (a *driverModem) ICCID(ctx context.Context) (modem.ICCID, error) {
	v, err := a.DriverModem.ICCID(ctx)
	a.note(err, func(o *observed) { o.iccid = v })
	return v, err
}

func (a *driverModem) Registrations(ctx context.Context) ([]modem.Registration, error) {
	v, err := a.DriverModem.Registrations(ctx)
	a.note(err, func(o *observed) { o.regs = v })
	return v, err
}

func (a *driverModem) Operator(ctx context.Context) (modem.Operator, error) {
	v, err := a.DriverModem.Operator(ctx)
	a.note(err, func(o *observed) { o.op, o.haveOp = v, true })
	return v, err
}

func (a *driverModem) Signal(ctx context.Context) (modem.Signal, error) {
	v, err := a.DriverModem.Signal(ctx)
	a.note(err, func(o *observed) { o.signal, o.haveSig = v, true })
	return v, err
}

func (a *driverModem) ServingCell(ctx context.Context) (modem.ServingCell, []modem.Neighbour, error) {
	c, n, err := a.DriverModem.ServingCell(ctx)
	a.note(err, func(o *observed) { o.cell, o.haveCell = c, true })
	return c, n, err
}

func (a *driverModem) PDPAddress(ctx context.Context, cid int) (modem.PDPAddress, error) {
	v, err := a.DriverModem.PDPAddress(ctx, cid)
	a.note(err, func(o *observed) { o.addr = v })
	return v, err
}
