package switcher_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/switchertest"
	"github.com/imsid/imsid/switcher/threat"
)

// TestProperties drives the switcher with random observation sequences and
// checks the invariants after every tick: it never selects a profile that
// is quarantined or (automatically) outside its allowlist, never verifies
// a profile on a network outside its allowlist, never exceeds the switch
// cap, and a pin holds against everything but an operator and (when
// configured) a Critical threat. Seeds are fixed so a failure replays.
func TestProperties(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runProperty(t, uint64(seed)) })
	}
}

func runProperty(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	cfg := loadCfg(t, "applet.yaml")
	r := newRig(t, cfg, "home")
	names := []string{"home", "roam", "last"}
	plmns := []string{"310260", "311480", "26201"}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	capPol := cfg.Policy.SwitchCap
	var switches []time.Time
	hung := 0
	seen := 0

	for step := range 400 {
		before := r.s.Status()
		touched := false // an operator request this step may legitimately end the pin
		switch rng.IntN(12) {
		case 0, 1:
			p := pick(names)
			reg := []modem.RegStatus{modem.RegHome, modem.RegHome, modem.RegSearching, modem.RegDenied, modem.RegRoaming}[rng.IntN(5)]
			pl, rsrp := pick(plmns), -120+rng.Float64()*50
			r.m.SetNet(p, func(n *switchertest.Net) { n.Reg, n.PLMN, n.RSRP = reg, pl, rsrp })
		case 2:
			r.probe.SetFail(pick(names), rng.IntN(2) == 0)
		case 3:
			var res threat.Result
			switch rng.IntN(5) {
			case 1:
				res.Profiles = []threat.Assessment{{Scope: "profile:" + pick(names), Level: threat.SeverityCritical}}
			case 2:
				p, _ := modem.ParsePLMN(pick(plmns))
				res = threat.Result{Episode: threat.Episode{ID: step, Active: true}, Response: threat.Response{Level: threat.SeverityHigh,
					Actions: threat.ActLeaveNow, Quarantine: []threat.Quarantine{{Scope: threat.Scope{Kind: threat.ScopePLMN, PLMN: p}, TTL: 30 * time.Minute}}}}
			case 3:
				res = threat.Result{Episode: threat.Episode{ID: step, Active: true}, Response: threat.Response{Level: threat.SeverityHigh,
					Actions: threat.ActLeaveNow, Quarantine: []threat.Quarantine{{Scope: threat.Scope{Kind: threat.ScopeProfile, Profile: pick(names)}, TTL: 30 * time.Minute}}}}
			case 4:
				res = threat.Result{Episode: threat.Episode{ID: step, Active: true}, Response: threat.Response{Level: threat.SeverityHigh, Actions: threat.ActSuspendSwitching}}
			}
			r.threat.Set(res)
		case 4:
			_ = r.s.Force(pick(names), "property")
			touched = true
		case 5:
			_ = r.s.Pin(pick(names), time.Duration(rng.IntN(3))*30*time.Minute)
			touched = true
		case 6:
			_ = r.s.Unpin()
			touched = true
		case 7:
			p := pick(names)
			if rng.IntN(2) == 0 {
				r.usage.Set(p, profiles.Report{OverCap: true, Cap: 1})
			} else {
				r.usage.Set(p, profiles.Report{})
			}
		case 8:
			if rng.IntN(4) == 0 {
				r.m.SwitchTo(pick(names)) // someone else changes the IMSI
			}
		case 9:
			if rng.IntN(3) == 0 {
				hung = 1 + rng.IntN(4)
			}
		}
		r.m.SetHung(hung > 0)
		if hung > 0 {
			hung--
		}
		r.clk.Advance([]time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute}[rng.IntN(4)])
		_ = r.s.Tick(t.Context())
		if r.s.Status().State == switcher.StateModemLost {
			r.m.SetHung(false)
			r.s.Reopened(r.m)
		}

		ds := r.s.Decisions(uint64(seen), 0)
		for _, d := range ds {
			seen = int(d.Seq)
			if d.Kind == switcher.KindVerified && !d.Has(switcher.CodeRolledBack) {
				p := cfg.Profile(d.To)
				if p == nil || !p.AllowsPLMN(profiles.PLMN(d.Inputs.PLMN)) {
					t.Fatalf("step %d: verified %q on %q outside its allowlist", step, d.To, d.Inputs.PLMN)
				}
			}
			if d.Kind != switcher.KindSwitch {
				continue
			}
			// The cap holds automatic soft switches; failover and leaving a
			// threat are not capped, and operators have their own budget.
			if d.Trigger == switcher.TriggerSoft {
				switches = append(switches, d.Time)
			}
			n := 0
			for _, at := range switches {
				if d.Time.Sub(at) < capPol.Window.Std() {
					n++
				}
			}
			if n > capPol.Max {
				t.Fatalf("step %d: %d soft switches within %s (cap %d)", step, n, capPol.Window, capPol.Max)
			}
			lastResort := d.Has(switcher.CodeExhausted) && d.Inputs.State == switcher.StateFailed
			for _, sc := range d.Scores {
				if sc.Profile != d.To {
					continue
				}
				for _, why := range sc.Reasons {
					if why.Code == switcher.CodeQuarantined && !lastResort {
						t.Fatalf("step %d: selected quarantined %q: %+v", step, d.To, d)
					}
					if why.Code == switcher.CodeQuarantined && strings.Contains(why.Message, "(threat_") {
						t.Fatalf("step %d: selected %q under a threat quarantine: %+v", step, d.To, d)
					}
				}
				if d.Trigger != switcher.TriggerManual && !sc.Eligible && !lastResort {
					t.Fatalf("step %d: automatically selected ineligible %q: %+v", step, d.To, sc)
				}
			}
			// A pin holds against cost and signal; safety and liveness
			// (rules.go) come before it.
			if pin := before.Pin; pin != nil && !touched && before.Active == pin.Profile && d.From == pin.Profile &&
				(pin.Until.IsZero() || d.Time.Before(pin.Until)) && d.Trigger == switcher.TriggerSoft {
				t.Fatalf("step %d: left pinned %q: %+v", step, pin.Profile, d)
			}
		}
	}
	if len(switches) == 0 {
		t.Logf("seed %d: no switches", seed)
	}
}
