package daemon

import (
	"runtime"
	"slices"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/switcher"
)

// Quarantine kinds, always exported (0 when none), so a dashboard sees
// every series from the start.
var quarantineKinds = []string{"cell", "plmn", "profile"}

// registerFleetMetrics adds what a fleet dashboard needs, computed from the
// switcher's published view, the driver and the usage ledger at every
// scrape (docs/api.md, GET /metrics). Labels are bounded: profile names are
// config keys; no IMSI, ICCID, PLMN or cell is a label. A value the daemon
// does not know is an absent series.
func registerFleetMetrics(d *Daemon, m *api.Metrics) {
	b := &backend{d: d}
	one := func(v bool) []api.Sample {
		if v {
			return []api.Sample{{Value: 1}}
		}
		return []api.Sample{{Value: 0}}
	}
	version := d.o.Version
	if version == "" {
		version = "unknown"
	}
	m.Collect("imsid_build_info", "Always 1; the labels say which build runs.", false, []string{"goversion", "version"},
		func() []api.Sample { return []api.Sample{{Labels: []string{runtime.Version(), version}, Value: 1}} })
	m.Collect("imsid_active_profile_info", "Always 1, for the profile that carries the traffic (absent while none does).", false, []string{"profile"},
		func() []api.Sample {
			if _, st := b.view(); st.Active != "" {
				return []api.Sample{{Labels: []string{st.Active}, Value: 1}}
			}
			return nil
		})
	m.Collect("imsid_link_up", "1 while the data path is up (PDP context active in a connected state), else 0.", false, nil,
		func() []api.Sample {
			_, st := b.view()
			return one(st.PDPUp && linkUp(st.State))
		})
	m.Collect("imsid_modem_up", "1 while the modem answers AT commands (the driver's responsiveness; 0 from the first timed-out command, while recovering, or with the port lost).", false, nil,
		func() []api.Sample { return one(d.modemUp()) })
	m.Collect("imsid_switching_suspended", "1 while automatic switching is suspended (jamming), else 0.", false, nil,
		func() []api.Sample {
			_, st := b.view()
			return one(st.Suspended)
		})
	m.Collect("imsid_pin_active", "1 while an operator pin holds a profile, else 0.", false, nil,
		func() []api.Sample {
			_, st := b.view()
			return one(st.Pin != nil)
		})
	m.Collect("imsid_quarantines", "Quarantines in force, by kind (profile, plmn, cell).", false, []string{"kind"},
		func() []api.Sample {
			_, st := b.view()
			n := map[string]int{}
			for _, q := range quarantinesDTO(st.Quarantines) {
				n[q.Kind]++
			}
			out := make([]api.Sample, 0, len(quarantineKinds))
			for _, k := range quarantineKinds {
				out = append(out, api.Sample{Labels: []string{k}, Value: float64(n[k])})
			}
			return out
		})
	m.Collect("imsid_switch_budget_remaining", "Switches left in the switch cap's window: automatic (soft) switches, and the operator's own budget of the same size.", false, []string{"budget"},
		func() []api.Sample {
			_, st := b.view()
			limit := d.cfg.Load().Policy.SwitchCap.Max
			return []api.Sample{
				{Labels: []string{"automatic"}, Value: float64(max(limit-st.Switches, 0))},
				{Labels: []string{"operator"}, Value: float64(max(limit-st.OperatorSwitches, 0))},
			}
		})
	m.Collect("imsid_profile_usage_bytes", "Data used by each profile in its current billing period (bytes).", false, []string{"profile"},
		func() []api.Sample {
			var out []api.Sample
			d.eachReport(func(name string, r reportView) {
				out = append(out, api.Sample{Labels: []string{name}, Value: float64(r.used)})
			})
			return out
		})
	m.Collect("imsid_profile_cap_bytes", "Each capped profile's data cap in its billing period (bytes); absent for a profile without a cap.", false, []string{"profile"},
		func() []api.Sample {
			var out []api.Sample
			d.eachReport(func(name string, r reportView) {
				if r.cap > 0 {
					out = append(out, api.Sample{Labels: []string{name}, Value: float64(r.cap)})
				}
			})
			return out
		})
	m.Collect("imsid_profile_spend", "What each profile's current billing period has cost so far (fee, per-MB and roaming), in the tariff's currency; absent for a profile without a tariff.", false, []string{"currency", "profile"},
		func() []api.Sample {
			var out []api.Sample
			d.eachReport(func(name string, r reportView) {
				if r.currency != "" {
					out = append(out, api.Sample{Labels: []string{r.currency, name}, Value: float64(r.spendMicros) / 1e6})
				}
			})
			return out
		})
}

// reportView is the part of a profile's ledger report the metrics export.
type reportView struct {
	used, cap   uint64
	spendMicros int64
	currency    string
}

// eachReport calls f for every configured profile, in config order, with
// its standing in the current billing period.
func (d *Daemon) eachReport(f func(name string, r reportView)) {
	cfg := d.cfg.Load()
	now := d.o.Clock.Now()
	for i := range cfg.Profiles {
		p := &cfg.Profiles[i]
		r := d.ledger.Report(p, now)
		f(p.Name, reportView{used: r.Total(), cap: uint64(r.Cap), spendMicros: r.Cost.Micros, currency: r.Cost.Currency})
	}
}

// modemUp: a modem session exists, its driver has answered since its last
// timeout, and the switcher is not recovering it.
func (d *Daemon) modemUp() bool {
	a, sw := d.cur.Load(), d.sw.Load()
	if a == nil || sw == nil {
		return false
	}
	v := sw.View()
	if slices.Contains([]switcher.State{switcher.StateRecovering, switcher.StateModemLost}, v.State) || !v.Modem.Responding && !v.Modem.Read.IsZero() {
		return false
	}
	return a.Driver().Responsive()
}
