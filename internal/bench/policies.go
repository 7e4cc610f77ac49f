package bench

import (
	"time"

	"github.com/imsid/imsid/switcher"
)

// The baselines' settings, from the field survey (reference
// field-survey.md, sections (a) C and (b)); Assumptions lists every one of
// them with its source, and the report prints that list.
const (
	// RutOS SIM switch: check interval 10 s (3–3600), 3 attempts (1–10) [R3].
	routerInterval = 10 * time.Second
	routerAttempts = 3
	// routerFastInterval is RutOS's shortest documented check interval [R3].
	routerFastInterval = 3 * time.Second
	// routerWeakRSRP is the "On weak signal" rule's threshold. RutOS has the
	// rule with a dBm threshold [R1][R3]; no default value is documented,
	// so −110 dBm (the edge of usable LTE) is an assumption.
	routerWeakRSRP = -110.0
	// RouterReturnAfter is the return-to-primary timer. RutOS has the rule
	// but its public documentation gives no value [R3, † in the survey];
	// 60 min is the shortest documented switch-back timer of the surveyed
	// routers (FortiExtender, ≥ 3600 s [R19]): an assumption.
	RouterReturnAfter = time.Hour
	// mwan3track: interval 10 s, timeout 4 s, count 1, down 5, up 5,
	// reliability 1 [R38][R39].
	mwan3Interval = 10 * time.Second
	mwan3Timeout  = 4 * time.Second
	mwan3Down     = 5
	// mwan3 tuned: the documented knobs set for speed (our choice, not a
	// vendor's): interval 5 s, failure_interval 2 s, timeout 1 s, down 3.
	mwan3TunedInterval = 5 * time.Second
	mwan3TunedFailure  = 2 * time.Second
	mwan3TunedTimeout  = time.Second
	mwan3TunedDown     = 3
	// The Eseye applet rotates after 3 min without registration and polls
	// EF_LOCI about every 3 min; the time grows with the IMSI count
	// (3–6 min) [R52][R53]. Twilio/KORE's timer is 3–20 min [R42].
	appletPoll = 3 * time.Minute
)

// Assumption is one modelling choice of the baselines or the world, with
// where it comes from.
type Assumption struct{ What, Source string }

// Assumptions is the table "assumption → source" of docs/benchmarks.md.
var Assumptions = []Assumption{
	{"RutOS SIM switch: a check (registered, data session, ping) every 10 s; 3 failed checks in a row switch to the next SIM", "field survey (b), Teltonika RutOS: check interval 10 s (3–3600), 3 attempts (1–10) [R3]"},
	{"RutOS at its fastest documented setting: a check every 3 s, still 3 attempts (1 attempt would switch on a single lost ping); ping timeout 2 s (it must fit in the 3 s interval; RutOS documents none)", "field survey (b) [R3] for 3 s; the 2 s timeout is an **assumption**"},
	{"RutOS \"On weak signal\": 3 checks in a row below −110 dBm RSRP switch to the next SIM (the router reads the serving cell's RSRP as its modem reports it)", "the rule and its dBm threshold exist [R1][R3]; the −110 dBm value is an **assumption** (no default is documented)"},
	{"RutOS returns to the primary SIM after 60 min on a secondary, blindly (no check of the primary first)", "**assumption**: the rule exists in RutOS (survey †), its timer is undocumented; 60 min is FortiExtender's minimum switch-back timer [R19]"},
	{"Router and mwan3 have no cost or threat awareness and allow every RAT (network mode \"auto\")", "field survey (a) C–D: no surveyed router has threat triggers"},
	{"mwan3 drives the choice of SIM profile: 5 failed checks in a row (interval 10 s, ping timeout 4 s) move to the next profile; no fail-back, since one radio cannot track a profile it is not on", "**assumption**: mwan3 re-routes between interfaces, it does not switch SIMs [R38]; its defaults interval 10 s, timeout 4 s, down 5, up 5 [R38][R39]"},
	{"mwan3 tuned: interval 5 s, failure_interval 2 s, timeout 1 s, down 3", "documented knobs [R38] set by us for speed (an **assumption** of what a careful integrator picks)"},
	{"Applet 3 min: rotates to the next IMSI after 3 min without registration, noticed at its EF_LOCI poll every 3 min (so 3–6 min after the loss)", "Eseye AnyNet [R52][R53]"},
	{"Applet 6 min: rotation timer 6 min, EF_LOCI poll every 3 min", "Eseye: \"the time grows with the number of IMSIs\" (3–6 min) [R52][R53]"},
	{"Applet 20 min: rotation timer 20 min, EF_LOCI poll every 3 min", "Twilio/KORE Super SIM 3–20 min [R42]; the 3 min poll is Eseye's, an **assumption** for Twilio"},
	{"Applet: a registration regained between two polls stops the timer at once (the applet is credited with seeing it)", "**assumption**, in the applet's favour"},
	{"Applet: the device does nothing but adopt the IMSI the SIM carries; a registered SIM whose core passes no data never rotates", "the applet only sees registration (EF_LOCI) [R53]"},
	{"A failed probe (ping or HTTP) costs its whole timeout: 2 s for ours, 5 s for the router at defaults, 4 s for mwan3", "imsid default `probes.timeout` 2 s; mwan3 timeout 4 s [R38]; the issue's measurement of 4–5 s timeouts"},
	{"Attach after a SIM change or coverage return: drawn per attach, uniformly 5–30 s", "field survey (b): FortiExtender SIM activation ~10 s [R24], MikroTik modem restart ~30 s [R27], Registration after an IMSI switch \"40 s or 15 min\" [R73]"},
	{"SIM refresh (busy window after REFRESH): drawn per refresh, 1–5 s", "**assumption** within the range the issue gives (1–5 s)"},
	{"A full PLMN search after 10 % of IMSI changes, adding 30–90 s to that attach", "field survey (c) 10: carrier firmware reloads on SIM change [I16]; the 10 % and 30–90 s are an **assumption**"},
	{"PDP activation 1 s; AT latency 20 ms per command", "world.yaml timing, unchanged from the earlier benchmark"},
	{"The `-i11` scenarios replace the drawn timing with a fixed one: SIM refresh 2 s, attach 5 s, PDP 1 s, no PLMN search (the oracle pays 8 s per switch there)", "issue 11's own model of the modem (\"SIM refresh 2 s, attach 5 s, PDP 1 s\"), against which its failover targets were set; faster than most of the field survey's figures (b), so these rows judge imsid's own time, not a realistic modem"},
	{"The world's delays are the same for every policy of one seed: the k-th attach (refresh) of a run draws the same delay whatever the policy", "the simulator's timing stream is seeded by the run's seed"},
}

// checkOK is one health check as a router's SIM-switch or mwan3track sees
// it: registered, a data session with an address, and the ping (our data
// probe) passing. Neither looks at cost or threats.
func checkOK(in switcher.PolicyInput) bool {
	return in.Registered && in.DataUp && (!in.Probed || in.ProbeOK) && in.ProbeFails == 0
}

// next is the profile after active in priority order, wrapping around, as a
// dual-SIM router alternates between its SIMs.
func next(in switcher.PolicyInput) string {
	for i, p := range in.Profiles {
		if p == in.Active {
			return in.Profiles[(i+1)%len(in.Profiles)]
		}
	}
	if len(in.Profiles) > 0 {
		return in.Profiles[0]
	}
	return ""
}

// SignalFunc reads the serving cell's RSRP as the modem reports it; ok is
// false without a reading. The harness reads it from the simulator (the
// policy seam carries imsid's scores, not dBm).
type SignalFunc func() (rsrp float64, ok bool)

// Router is Teltonika RutOS's SIM switch: a check every Interval (the
// engine's poll, set by the harness), a switch to the other SIM after
// Attempts consecutive failed checks ("On no network", "On data connection
// fail") or Attempts consecutive readings below WeakRSRP ("On weak
// signal"), no cost or threat awareness, and the return-to-primary rule
// after ReturnAfter on a secondary SIM.
type Router struct {
	Label       string
	Interval    time.Duration
	Attempts    int
	WeakRSRP    float64 // 0: the weak-signal rule is off
	ReturnAfter time.Duration
	Signal      SignalFunc

	last    time.Time // the last counted check
	fails   int
	weak    int
	since   time.Time // on the current profile since
	current string
}

// NewRouterDefaults is RutOS at its defaults with the weak-signal rule.
func NewRouterDefaults(sig SignalFunc) *Router {
	return &Router{Label: "router-defaults", Interval: routerInterval, Attempts: routerAttempts,
		WeakRSRP: routerWeakRSRP, ReturnAfter: RouterReturnAfter, Signal: sig}
}

// NewRouterFast is RutOS at its fastest documented check interval.
func NewRouterFast(sig SignalFunc) *Router {
	r := NewRouterDefaults(sig)
	r.Label, r.Interval = "router-fast", routerFastInterval
	return r
}

// Name implements switcher.Policy.
func (r *Router) Name() string { return r.Label }

// Decide implements switcher.Policy.
func (r *Router) Decide(in switcher.PolicyInput) switcher.PolicyChoice {
	if in.Active != r.current {
		r.current, r.since, r.fails, r.weak = in.Active, in.Now, 0, 0
	}
	// The engine also ticks on modem events; the router checks on its timer.
	if !r.last.IsZero() && in.Now.Sub(r.last) < r.Interval {
		return switcher.PolicyChoice{}
	}
	r.last = in.Now
	if checkOK(in) {
		r.fails = 0
	} else {
		r.fails++
	}
	if r.WeakRSRP != 0 && r.Signal != nil {
		if rsrp, ok := r.Signal(); ok && in.Registered && rsrp < r.WeakRSRP {
			r.weak++
		} else {
			r.weak = 0
		}
	}
	if r.fails >= r.Attempts || (r.WeakRSRP != 0 && r.weak >= r.Attempts) {
		r.fails, r.weak = 0, 0
		return switcher.PolicyChoice{To: next(in), Trigger: switcher.TriggerHard}
	}
	if r.ReturnAfter > 0 && len(in.Profiles) > 0 && in.Active != in.Profiles[0] && in.Now.Sub(r.since) >= r.ReturnAfter {
		r.since = in.Now // one attempt per timer period
		return switcher.PolicyChoice{To: in.Profiles[0], Trigger: switcher.TriggerSoft}
	}
	return switcher.PolicyChoice{}
}

// MWAN3 is OpenWrt mwan3 tracking (one track IP, count 1, reliability 1)
// driving the SIM choice of a single modem: the active profile is declared
// offline after Down failed checks in a row and the next one takes over.
// Checks run every Interval, every FailureInterval once one has failed.
// mwan3 returns to a higher-metric interface once that one has been
// tracked up again, but a single radio cannot track a profile it is not
// on, so there is no fail-back.
type MWAN3 struct {
	Label                     string
	Interval, FailureInterval time.Duration
	Down                      int

	last    time.Time
	fails   int
	current string
}

// NewMWAN3Defaults is mwan3 at its tracking defaults.
func NewMWAN3Defaults() *MWAN3 {
	return &MWAN3{Label: "mwan3-defaults", Interval: mwan3Interval, FailureInterval: mwan3Interval, Down: mwan3Down}
}

// NewMWAN3Tuned is mwan3 with its documented knobs set for speed.
func NewMWAN3Tuned() *MWAN3 {
	return &MWAN3{Label: "mwan3-tuned", Interval: mwan3TunedInterval, FailureInterval: mwan3TunedFailure, Down: mwan3TunedDown}
}

// Name implements switcher.Policy.
func (m *MWAN3) Name() string { return m.Label }

// Decide implements switcher.Policy.
func (m *MWAN3) Decide(in switcher.PolicyInput) switcher.PolicyChoice {
	if in.Active != m.current {
		m.current, m.fails = in.Active, 0
	}
	every := m.Interval
	if m.fails > 0 && m.FailureInterval > 0 {
		every = m.FailureInterval
	}
	if !m.last.IsZero() && in.Now.Sub(m.last) < every {
		return switcher.PolicyChoice{}
	}
	m.last = in.Now
	if checkOK(in) {
		m.fails = 0
		return switcher.PolicyChoice{}
	}
	m.fails++
	if m.fails >= m.Down {
		m.fails = 0
		return switcher.PolicyChoice{To: next(in), Trigger: switcher.TriggerHard}
	}
	return switcher.PolicyChoice{}
}

// AppletAutonomous is a manager that leaves the choice to the SIM applet:
// it never switches. The harness enables the simulated applet's own
// rotation and configures sim.method autonomous, so the engine adopts the
// applet's changes.
type AppletAutonomous struct{ Label string }

// Name implements switcher.Policy.
func (a AppletAutonomous) Name() string {
	if a.Label == "" {
		return "applet-autonomous"
	}
	return a.Label
}

// Decide implements switcher.Policy.
func (AppletAutonomous) Decide(switcher.PolicyInput) switcher.PolicyChoice {
	return switcher.PolicyChoice{}
}
