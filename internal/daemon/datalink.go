package daemon

import (
	"math"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/datalink"
	"github.com/prometheus/client_golang/prometheus"
)

// linkDTO adds the datalink's view to the status's link section: owner,
// interface and its addresses, what the daemon waits for, the last hook
// and bring-up. Without a PDP address of its own (owner external) the
// interface's address is the link's IP.
func linkDTO(out *api.Link, m *datalink.Manager) {
	if m == nil {
		return
	}
	ls := m.Status()
	out.Owner = ls.Owner
	out.Interface = api.NonEmpty(ls.Interface)
	out.Addresses = ls.Addresses
	out.ProbesBound = ls.Bound
	out.Waiting = api.NonEmpty(ls.Waiting)
	if out.IP == nil && len(ls.Addresses) > 0 {
		out.IP = api.Ptr(ls.Addresses[0])
	}
	if h := ls.LastHook; h != nil {
		out.LastHook = &api.HookRun{Hook: h.Hook, Event: h.Event, At: h.At, Result: h.Result, ExitCode: h.ExitCode, Output: h.Output}
	}
	if b := ls.LastBringUp; b != nil {
		out.LastBringUp = &api.BringUp{At: b.At, Trigger: b.Trigger, OK: b.OK, Detail: b.Detail, Attempt: b.Attempt}
	}
}

// registerLinkMetrics adds the datalink's series to the daemon's registry,
// read at scrape time.
func registerLinkMetrics(m *api.Metrics, l *datalink.Manager) {
	if m == nil || l == nil {
		return
	}
	st := l.Status()
	labels := prometheus.Labels{"owner": st.Owner, "interface": st.Interface}
	m.Registry().MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "imsid", Name: "datalink_addresses",
			Help: "Addresses on the cellular interface (link.interface), by owner mode.", ConstLabels: labels},
			func() float64 { return float64(len(l.Status().Addresses)) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "imsid", Name: "hook_runs_total",
			Help: "Hook and DHCP client runs."},
			func() float64 { return float64(l.Status().HookRuns) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "imsid", Name: "hook_failures_total",
			Help: "Hook and DHCP client runs that failed or timed out."},
			func() float64 { return float64(l.Status().HookFails) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "imsid", Name: "datalink_bring_up_ok",
			Help: "1 if the last bring-up after a switch or reset succeeded, 0 if it failed, NaN before the first."},
			func() float64 {
				b := l.Status().LastBringUp
				switch {
				case b == nil:
					return math.NaN()
				case b.OK:
					return 1
				}
				return 0
			}),
	)
}
