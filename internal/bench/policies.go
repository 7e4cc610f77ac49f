package bench

import (
	"time"

	"github.com/imsid/imsid/switcher"
)

// The baselines' defaults, from the field survey (reference field-survey.md,
// sections (a) C and (b)).
const (
	// RutOS SIM switch: check interval 10 s, 3 attempts [R3].
	routerInterval = 10 * time.Second
	routerAttempts = 3
	// RouterReturnAfter is the return-to-primary timer. RutOS has the rule
	// but its public documentation gives no value [R3, † in the survey];
	// 60 min is the shortest documented switch-back timer of the surveyed
	// routers (FortiExtender, ≥ 3600 s [R19]).
	RouterReturnAfter = time.Hour
	// mwan3track: interval 10 s, down 5, up 5, reliability 1 [R38].
	mwan3Interval = 10 * time.Second
	mwan3Down     = 5
	// The Eseye applet rotates after 3 min without registration [R52][R53].
	appletRotateAfter = 3 * time.Minute
)

// checkOK is one health check as a router's SIM-switch or mwan3track sees
// it: registered, a data session with an address, and the ping (our data
// probe) passing. Neither looks at signal, cost or threats.
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

// RouterDefaults is Teltonika RutOS's SIM switch as shipped: a check every
// 10 s (the engine's poll, set by the harness), a switch to the other SIM
// after 3 consecutive failed checks ("On no network", "On data connection
// fail"), no cost or threat awareness, and the return-to-primary rule after
// RouterReturnAfter on a secondary SIM.
type RouterDefaults struct {
	last    time.Time // the last counted check
	fails   int
	since   time.Time // on the current non-primary profile since
	current string
}

// Name implements switcher.Policy.
func (*RouterDefaults) Name() string { return "router-defaults" }

// Decide implements switcher.Policy.
func (r *RouterDefaults) Decide(in switcher.PolicyInput) switcher.PolicyChoice {
	if in.Active != r.current {
		r.current, r.since, r.fails = in.Active, in.Now, 0
	}
	// The engine also ticks on modem events; the router checks on its timer.
	if !r.last.IsZero() && in.Now.Sub(r.last) < routerInterval {
		return switcher.PolicyChoice{}
	}
	r.last = in.Now
	if checkOK(in) {
		r.fails = 0
	} else {
		r.fails++
	}
	if r.fails >= routerAttempts {
		r.fails = 0
		return switcher.PolicyChoice{To: next(in), Trigger: switcher.TriggerHard}
	}
	if len(in.Profiles) > 0 && in.Active != in.Profiles[0] && in.Now.Sub(r.since) >= RouterReturnAfter {
		r.since = in.Now // one attempt per timer period
		return switcher.PolicyChoice{To: in.Profiles[0], Trigger: switcher.TriggerSoft}
	}
	return switcher.PolicyChoice{}
}

// MWAN3Defaults is OpenWrt mwan3 with its tracking defaults (interval 10 s,
// down 5, up 5, reliability 1, one track IP) driving the SIM choice of a
// single modem: the active profile is declared offline after 5 failed
// checks in a row and the next one takes over. mwan3 returns to a
// higher-metric interface once that one has been tracked up 5 times, but a
// single radio cannot track a profile it is not on, so there is no
// fail-back: up=5 only decides when a profile counts as online again, which
// changes nothing for a single modem.
type MWAN3Defaults struct {
	last    time.Time
	fails   int
	current string
}

// Name implements switcher.Policy.
func (*MWAN3Defaults) Name() string { return "mwan3-defaults" }

// Decide implements switcher.Policy.
func (m *MWAN3Defaults) Decide(in switcher.PolicyInput) switcher.PolicyChoice {
	if in.Active != m.current {
		m.current, m.fails = in.Active, 0
	}
	if !m.last.IsZero() && in.Now.Sub(m.last) < mwan3Interval {
		return switcher.PolicyChoice{}
	}
	m.last = in.Now
	if checkOK(in) {
		m.fails = 0
		return switcher.PolicyChoice{}
	}
	m.fails++
	if m.fails >= mwan3Down {
		m.fails = 0
		return switcher.PolicyChoice{To: next(in), Trigger: switcher.TriggerHard}
	}
	return switcher.PolicyChoice{}
}

// AppletAutonomous is a manager that leaves the choice to the SIM applet:
// it never switches. The harness enables the simulated applet's own
// rotation (after appletRotateAfter without registration) and configures
// sim.method autonomous, so the engine adopts the applet's changes.
type AppletAutonomous struct{}

// Name implements switcher.Policy.
func (AppletAutonomous) Name() string { return "applet-autonomous" }

// Decide implements switcher.Policy.
func (AppletAutonomous) Decide(switcher.PolicyInput) switcher.PolicyChoice {
	return switcher.PolicyChoice{}
}
