package conformance

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/simulator"
)

// rig is the simulator on one end of a net.Pipe and the driver on the other.
// Build it inside a synctest bubble: the simulator's real clock then runs on
// the bubble's fake time, so latencies, attach delays and driver timeouts
// cost no wall time.
type rig struct {
	t      *testing.T
	sim    *simulator.Modem
	drv    *modem.Modem
	ctx    context.Context
	served chan error
	cancel context.CancelFunc
	trace  *bytes.Buffer
	// identity is what Identity must return, "manufacturer|model|revision|imei".
	identity string
}

func scenarioPath(name string) string {
	if strings.Contains(name, "/") {
		return filepath.Join("..", "..", name)
	}
	return filepath.Join("..", "..", "simulator", "scenarios", name)
}

func loadScenario(t *testing.T, name string) *simulator.Scenario {
	t.Helper()
	sc, err := simulator.LoadScenario(scenarioPath(name))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func parseScenario(t *testing.T, name, yaml string) *simulator.Scenario {
	t.Helper()
	sc, err := simulator.ParseScenario(name, []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// newRig starts the simulator and the driver. Call it inside synctest.Test.
func newRig(t *testing.T, sc *simulator.Scenario, opts ...modem.Option) *rig {
	t.Helper()
	sm, err := simulator.New(sc, simulator.WithClock(simulator.NewRealClock(1)))
	if err != nil {
		t.Fatal(err)
	}
	client, server := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{t: t, sim: sm, ctx: ctx, served: make(chan error, 1), cancel: cancel, trace: &bytes.Buffer{}}
	go func() {
		err := sm.Serve(ctx, server)
		server.Close() // as the pty layer closes the master
		r.served <- err
	}()
	opts = append([]modem.Option{modem.WithTrace(r.trace)}, opts...)
	drv, err := modem.New(ctx, client, opts...)
	if err != nil {
		cancel()
		client.Close()
		<-r.served
		sm.Close()
		t.Fatalf("modem.New: %v\nwire:\n%s", err, r.wire())
	}
	r.drv = drv
	for _, d := range simDialects {
		if d.name == sc.Dialect {
			r.identity = d.manufacturer + "|" + d.model + "|" + d.revision + "|" + testIMEI
		}
	}
	t.Cleanup(r.close)
	return r
}

func (r *rig) close() {
	r.drv.Close()
	r.cancel()
	<-r.served
	r.sim.Close()
}

// wire is the simulator's log as text, for failure messages.
func (r *rig) wire() string {
	var b strings.Builder
	for _, e := range r.sim.Log() {
		dir := "<"
		if e.Dir == simulator.In {
			dir = ">"
		}
		b.WriteString(dir + " " + strings.TrimRight(strings.ReplaceAll(string(e.Data), "\r\n", "⏎"), "\r") + "\n")
	}
	return b.String()
}

// cctx bounds one driver call in scenario time.
func (r *rig) cctx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.ctx, d)
}

// wait sleeps in the bubble: scenario time passes, no wall time does.
func wait(d time.Duration) { time.Sleep(d) }

// res carries a driver call's two results so that one line can check them:
// get(r.drv.IMSI(ctx)).must(t, "IMSI").
type res[T any] struct {
	v   T
	err error
}

func get[T any](v T, err error) res[T] { return res[T]{v, err} }

func (x res[T]) must(t *testing.T, what string) T {
	t.Helper()
	if x.err != nil {
		t.Fatalf("%s: %v", what, x.err)
	}
	return x.v
}
