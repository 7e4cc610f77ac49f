// Package simlink plugs the modem simulator into the daemon's seams in one
// process: its accelerated clock as the switcher's clock, its ground truth
// as the data-path prober, and its AT side as the port the daemon opens.
// imsid --simulate, the soak, the fault matrix, the benchmarks and the
// daemon's tests all use it.
package simlink

import (
	"context"
	"io"
	"net"
	"sync"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/switcher"
)

// Clock gives the switcher the simulator's (possibly accelerated) clock.
type Clock struct{ C simulator.Clock }

// Now implements switcher.Clock.
func (c Clock) Now() time.Time { return c.C.Now() }

// After implements switcher.Clock.
func (c Clock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.C.AfterFunc(d, func() { ch <- c.C.Now() })
	return ch
}

// Prober answers data-path probes from the simulator's ground truth:
// the HTTP 204 probe's verdict without a network stack behind the port.
type Prober struct{ M *simulator.Modem }

// Probe implements switcher.Prober.
func (p Prober) Probe(context.Context, string) (switcher.ProbeResult, error) {
	if p.M.Snapshot().DataUp {
		return switcher.ProbeResult{OK: true, Latency: 40 * time.Millisecond}, nil
	}
	return switcher.ProbeResult{OK: false, Detail: "no traffic passes (simulated core)"}, nil
}

// PipeOpener opens the simulated modem as the daemon would open its serial
// port: each open waits for the port to be up and serves the simulator on
// the far end of a net.Pipe until the daemon closes its end, the modem
// drops the port, or stop is called. stop ends every connection, closes
// the simulator and waits for them.
func PipeOpener(m *simulator.Modem) (open modem.Opener, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	open = func(octx context.Context) (io.ReadWriteCloser, error) {
		if err := m.WaitPortUp(octx); err != nil {
			return nil, err
		}
		dev, host := net.Pipe()
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = m.Serve(ctx, host)
			host.Close()
		}()
		return dev, nil
	}
	return open, func() {
		cancel()
		m.Close()
		wg.Wait()
	}
}
