package soak

import (
	"context"
	"io"
	"net"
	"sync"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/simulator"
)

// pipeOpener opens the simulated modem as the daemon would open its serial
// port: each open waits for the port to be up and serves the simulator on
// the far end of a net.Pipe until the daemon closes its end, the modem
// drops the port, or stop is called. stop ends every connection, closes
// the simulator and waits for them.
func pipeOpener(m *simulator.Modem) (open modem.Opener, stop func()) {
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
