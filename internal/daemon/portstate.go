package daemon

import (
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/switcher"
)

// Reopen backoff: the first retry after connectBackoffMin, doubling to
// connectBackoffMax, with jitter on the upper half so a fleet's gateways
// do not retry in step.
const (
	connectBackoffMin = 500 * time.Millisecond
	connectBackoffMax = 30 * time.Second
)

// portState is what status says while there is no modem session: the last
// failure to open the port or start the AT session, when, and when the
// daemon tries again. Safe for concurrent use.
type portState struct {
	mu       sync.Mutex
	err      error
	at, next time.Time
	attempts int
	warned   bool
}

// failed records a failed attempt; it reports whether this is the first of
// an outage (the one worth a WARN line).
func (p *portState) failed(err error, at, next time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err, p.at, p.next = err, at, next
	p.attempts++
	first := !p.warned
	p.warned = true
	return first
}

// opened ends an outage and returns how many attempts failed in it.
func (p *portState) opened() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.attempts
	p.err, p.at, p.next, p.attempts, p.warned = nil, time.Time{}, time.Time{}, 0, false
	return n
}

// portFailure is the last failure to open the port.
type portFailure struct {
	err      error
	at, next time.Time
	attempts int
}

// snapshot is the last failure; ok is false when the port is open or
// never failed.
func (p *portState) snapshot() (portFailure, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return portFailure{p.err, p.at, p.next, p.attempts}, p.err != nil
}

// connect opens the port and starts an AT session, retrying with backoff
// until it works or ctx ends. A failure is logged at WARN once per outage,
// naming the device, then at DEBUG: a gateway left without its modem for a
// day must not fill the journal. Status shows the last error and the next
// retry meanwhile (portState).
func (d *Daemon) connect(ctx context.Context, open modem.Opener, mopts []modem.Option) (*modem.Modem, error) {
	device := d.cfg.Load().Modem.Device
	delay := connectBackoffMin
	for {
		m, err := d.connectOnce(ctx, open, mopts)
		if err == nil {
			if n := d.port.opened(); n > 0 {
				d.log.Info("modem port open again", "device", device, "failed_attempts", n)
			}
			return m, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		wait := delay/2 + time.Duration(rand.Float64()*float64(delay/2))
		// The daemon's clock, as everything status shows (under --simulate
		// the scenario's): the failure's time and next_retry read on it, and
		// the wait runs on it.
		now := d.o.Clock.Now()
		if d.sw.Load() == nil {
			// No session, no switcher to report its state: the metrics
			// say what status says (backend.view).
			d.metrics.SetState(string(switcher.StateModemLost))
		}
		if d.port.failed(err, now, now.Add(wait)) {
			d.log.Warn("modem not available; retrying with backoff (further failures are logged at debug level)",
				"device", device, "err", err, "retry_in", wait.Round(time.Millisecond))
			d.notify("STATUS=modem not available on " + device + ": " + err.Error())
		} else {
			d.log.Debug("modem still not available", "device", device, "err", err, "retry_in", wait.Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-d.o.Clock.After(wait):
		}
		delay = min(delay*2, connectBackoffMax)
	}
}

// connectGuard bounds one session start. It catches a start that wedges
// (seen when the modem restarts in the middle of the driver's start-up
// commands), so the daemon starts over instead of waiting for ever.
const connectGuard = 20 * time.Second

func (d *Daemon) connectOnce(ctx context.Context, open modem.Opener, mopts []modem.Option) (*modem.Modem, error) {
	cctx, cancel := context.WithTimeout(ctx, connectGuard)
	defer cancel()
	var port io.ReadWriteCloser
	port, err := open(cctx)
	if err != nil {
		return nil, &PortError{Op: "open", Device: d.cfg.Load().Modem.Device, Err: err}
	}
	m, err := modem.New(cctx, port, mopts...)
	if err != nil {
		// New closed the port (it owns it).
		return nil, &PortError{Op: "start the AT session on", Device: d.cfg.Load().Modem.Device, Err: err}
	}
	return m, nil
}

// PortError is a failure to open the modem's port or to start its AT
// session.
type PortError struct {
	Op     string
	Device string
	Err    error
}

func (e *PortError) Error() string { return e.Op + " " + e.Device + ": " + e.Err.Error() }
func (e *PortError) Unwrap() error { return e.Err }
