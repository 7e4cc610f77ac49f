package daemon

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/simlink"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/simulator"
)

// With link.owner external the daemon brings no PDP context up and needs
// no PDP address: it reaches connected when the probes bound to the
// cellular interface pass, and while they fail its status says what it
// waits for and why. The interface here is loopback (the only network
// target a unit test may use); the probes are the real ones, bound to it.
func TestExternalOwnerConnectsOnBoundProbes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon in real time")
	}
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if healthy.Load() {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	dir := t.TempDir()
	sc, err := simulator.LoadScenario("../../simulator/scenarios/basic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	clk := simulator.NewRealClock(40)
	sim, err := simulator.New(sc, simulator.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadTestConfig(t, dir)
	cfg.Link = profiles.Link{Owner: profiles.LinkOwnerExternal, Interface: "lo", BindProbes: true, Renew: profiles.RenewNone,
		HookTimeout: profiles.Duration(5 * time.Second)}
	cfg.Policy.Probes.HTTP = []string{srv.URL + "/generate_204"}
	cfg.Policy.Probes.ICMP = nil
	cfg.Policy.Probes.Timeout = profiles.Duration(2 * time.Second)
	h := &harness{t: t, sim: sim, pipes: &pipes{sim: sim}, notif: &recNotifier{}, logs: &syncBuffer{}, dir: dir, done: make(chan error, 1)}
	h.d, err = New(Options{
		Config: cfg, Open: h.pipes.open,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Clock:  simlink.Clock{C: clk}, Notifier: h.notif, // Prober: the real one, from the config
		PersistEvery: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.d.Run(ctx) }()
	t.Cleanup(func() {
		h.closeAll()
		if t.Failed() {
			t.Logf("logs:\n%s", h.logs.String())
		}
	})

	b := &backend{d: h.d}
	status := func() api.Status {
		st, err := b.Status(context.Background())
		if err != nil {
			return api.Status{}
		}
		return st
	}
	var why string
	h.waitFor("status to say what it waits for", 20*time.Second, func() bool {
		st := status()
		if st.Link.Waiting != nil {
			why = *st.Link.Waiting
		}
		return strings.Contains(why, "waiting for the data session owned by external on lo: probes fail:")
	})
	if !strings.Contains(why, "want 204") {
		t.Errorf("waiting does not say why: %q", why)
	}
	if !strings.Contains(h.logs.String(), "registered, waiting for the data session owned by external on lo") {
		t.Error("the wait is not in the log")
	}
	healthy.Store(true)
	h.waitFor("connected on bound probes", 30*time.Second, h.on(""))
	st := status()
	if st.Link.Owner != "external" || st.Link.Interface == nil || *st.Link.Interface != "lo" || !st.Link.ProbesBound || !st.Link.Up {
		t.Errorf("link %+v", st.Link)
	}
	if st.Link.Waiting != nil {
		t.Errorf("still waiting: %q", *st.Link.Waiting)
	}
	if pdp := sim.Snapshot().PDP; len(pdp) != 0 {
		t.Errorf("imsid activated a PDP context with an external owner: %v", pdp)
	}
}
