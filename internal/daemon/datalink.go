package daemon

import (
	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/datalink"
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

// registerLinkMetrics adds the datalink's series to the daemon's metrics,
// read at scrape time.
func registerLinkMetrics(m *api.Metrics, l *datalink.Manager) {
	if m == nil || l == nil {
		return
	}
	st := l.Status()
	m.Collect("imsid_datalink_addresses", "Addresses on the cellular interface (link.interface), by owner mode.", false,
		[]string{"interface", "owner"}, func() []api.Sample {
			return []api.Sample{{Labels: []string{st.Interface, st.Owner}, Value: float64(len(l.Status().Addresses))}}
		})
	m.Collect("imsid_hook_runs_total", "Hook and DHCP client runs.", true, nil,
		func() []api.Sample { return []api.Sample{{Value: float64(l.Status().HookRuns)}} })
	m.Collect("imsid_hook_failures_total", "Hook and DHCP client runs that failed or timed out.", true, nil,
		func() []api.Sample { return []api.Sample{{Value: float64(l.Status().HookFails)}} })
	m.Collect("imsid_datalink_bring_up_ok", "1 if the last bring-up after a switch or reset succeeded, 0 if it failed; absent before the first.", false, nil,
		func() []api.Sample {
			b := l.Status().LastBringUp
			switch {
			case b == nil:
				return nil
			case b.OK:
				return []api.Sample{{Value: 1}}
			}
			return []api.Sample{{Value: 0}}
		})
}
