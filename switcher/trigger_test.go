package switcher_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/switchertest"
	"github.com/imsid/imsid/switcher/threat"
)

func plmn(s string) modem.PLMN {
	p, err := modem.ParsePLMN(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Hard triggers skip the dwell: every case starts one minute after a switch.
func TestHardTriggers(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(r *rig)
		code    switcher.Code
		trigger switcher.Trigger
		to      string
		within  time.Duration
	}{
		{"no service", func(r *rig) {
			r.m.SetNet("home", func(n *switchertest.Net) { n.Reg = modem.RegSearching })
		}, switcher.CodeNoService, switcher.TriggerHard, "roam", 3 * time.Minute},
		{"data path dead", func(r *rig) {
			r.probe.SetFail("home", true)
		}, switcher.CodeDataPathDead, switcher.TriggerHard, "roam", 4 * time.Minute},
		{"plmn not allowed", func(r *rig) {
			r.m.SetNet("home", func(n *switchertest.Net) { n.PLMN = "311480" })
		}, switcher.CodePLMNNotAllowed, switcher.TriggerHard, "roam", time.Minute},
		{"critical threat", func(r *rig) {
			r.threat.Set(threat.Result{Profiles: []threat.Assessment{{Scope: "profile:home", Level: threat.SeverityCritical}}})
		}, switcher.CodeThreatCritical, switcher.TriggerThreat, "roam", time.Minute},
		{"threat leave now", func(r *rig) {
			r.m.SetNet("roam", func(n *switchertest.Net) { n.PLMN = "311480" })
			r.threat.Set(threat.Result{Episode: threat.Episode{ID: 1, Active: true}, Response: threat.Response{
				Level: threat.SeverityHigh, Actions: threat.ActLeaveNow,
				Quarantine: []threat.Quarantine{{Scope: threat.Scope{Kind: threat.ScopePLMN, PLMN: plmn("310260")}, TTL: 30 * time.Minute}},
			}})
		}, switcher.CodeThreatLeave, switcher.TriggerThreat, "roam", time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, loadCfg(t, "applet.yaml"), "home",
				switcher.WithRestore(switcher.Snapshot{Active: "home", LastSwitch: t0, Switches: []time.Time{t0}}))
			r.up()
			r.tick(time.Minute)
			tc.setup(r)
			r.run(30*time.Second, tc.within)
			d, ok := r.lastOf(switcher.KindSwitch)
			if !ok {
				t.Fatalf("no switch; decisions %+v", r.decisions())
			}
			if !d.Has(tc.code) || d.Trigger != tc.trigger || d.From != "home" || d.To != tc.to {
				t.Fatalf("switch %+v", d)
			}
			if len(d.WhyNot) != 2 {
				t.Errorf("why-not for the other profiles: %+v", d.WhyNot)
			}
			st := r.run(30*time.Second, time.Minute)
			if st.State != switcher.StateConnected || st.Active != tc.to {
				t.Fatalf("after switch: %s on %q", st.State, st.Active)
			}
			if v, ok := r.lastOf(switcher.KindVerified); !ok || v.To != tc.to {
				t.Fatalf("not verified: %+v", v)
			}
		})
	}
}

func TestSoftTriggers(t *testing.T) {
	t.Run("cap reached", func(t *testing.T) {
		r := newRig(t, loadCfg(t, "applet.yaml"), "home")
		r.up()
		r.usage.Set("home", profiles.Report{OverCap: true, Cap: 500_000_000})
		r.tick(time.Minute)
		if d, ok := r.lastOf(switcher.KindSwitch); !ok || !d.Has(switcher.CodeCapReached) || d.Trigger != switcher.TriggerSoft {
			t.Fatalf("want soft cap switch, got %+v", r.decisions())
		}
	})
	t.Run("dwell holds a soft trigger", func(t *testing.T) {
		r := newRig(t, loadCfg(t, "applet.yaml"), "home",
			switcher.WithRestore(switcher.Snapshot{Active: "home", LastSwitch: t0}))
		r.up()
		r.usage.Set("home", profiles.Report{OverCap: true, Cap: 500_000_000})
		r.tick(time.Minute)
		d, _ := r.s.Decisions(0, 0), 0
		last := d[len(d)-1]
		if last.Kind != switcher.KindStay || !last.Has(switcher.CodeDwell) {
			t.Fatalf("want stay/min_dwell, got %+v", last)
		}
		if _, ok := r.lastOf(switcher.KindSwitch); ok {
			t.Fatal("switched inside the dwell")
		}
		r.run(time.Minute, 10*time.Minute)
		if sw, ok := r.lastOf(switcher.KindSwitch); !ok || sw.To != "roam" {
			t.Fatalf("no switch after the dwell: %+v", r.decisions())
		}
	})
	t.Run("better signal elsewhere", func(t *testing.T) {
		r := newRig(t, loadCfg(t, "applet.yaml"), "roam")
		r.up()
		r.run(30*time.Second, 2*time.Minute) // roam history: good signal
		if err := r.s.Force("home", "test"); err != nil {
			t.Fatal(err)
		}
		r.run(30*time.Second, time.Minute)
		if st := r.s.Status(); st.Active != "home" || st.State != switcher.StateConnected {
			t.Fatalf("force: %+v", st)
		}
		r.m.SetNet("home", func(n *switchertest.Net) { n.RSRP, n.SINR = -113, -2 })
		r.run(30*time.Second, 12*time.Minute)
		d, ok := r.lastOf(switcher.KindSwitch)
		if !ok || d.To != "roam" || !d.Has(switcher.CodeBetterProfile) {
			t.Fatalf("want a better-signal switch to roam, got %+v", d)
		}
	})
	t.Run("within the margin nothing happens", func(t *testing.T) {
		r := newRig(t, loadCfg(t, "applet.yaml"), "home")
		r.up()
		r.m.SetNet("home", func(n *switchertest.Net) { n.RSRP = -101 })
		r.run(30*time.Second, 30*time.Minute)
		if d, ok := r.lastOf(switcher.KindSwitch); ok {
			t.Fatalf("switched: %+v", d)
		}
	})
	t.Run("cheaper profile back in coverage", func(t *testing.T) {
		r := newRig(t, loadCfg(t, "applet.yaml"), "home")
		r.up()
		r.m.SetNet("home", func(n *switchertest.Net) { n.Reg = modem.RegSearching })
		r.run(30*time.Second, 4*time.Minute)
		if st := r.s.Status(); st.Active != "roam" {
			t.Fatalf("no failover: %+v", st)
		}
		r.m.SetNet("home", func(n *switchertest.Net) { n.Reg = modem.RegHome })
		r.run(time.Minute, 20*time.Minute)
		if st := r.s.Status(); st.Active != "roam" {
			t.Fatalf("returned too early (departure penalty): %+v", r.decisions())
		}
		r.run(time.Minute, 60*time.Minute)
		d, ok := r.lastOf(switcher.KindSwitch)
		if !ok || d.To != "home" || !d.Has(switcher.CodeBetterProfile) {
			t.Fatalf("want a return to the cheaper home, got %+v", d)
		}
		if st := r.run(30*time.Second, time.Minute); st.Active != "home" || st.State != switcher.StateConnected {
			t.Fatalf("not back on home: %+v", st)
		}
	})
}

func TestSwitchCap(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "home")
	r.up()
	for i, to := range []string{"roam", "last", "home"} {
		if err := r.s.Force(to, "cap test"); err != nil {
			t.Fatalf("force %d: %v", i, err)
		}
		r.run(30*time.Second, time.Minute)
	}
	err := r.s.Force("roam", "one too many")
	var ref *switcher.RefusedError
	if !errors.As(err, &ref) || ref.Reason.Code != switcher.CodeSwitchCap || !errors.Is(err, switcher.ErrRefused) {
		t.Fatalf("want a cap refusal, got %v", err)
	}
	if want := t0.Add(time.Second).Add(time.Hour); !ref.RetryAt.After(t0.Add(time.Hour)) || ref.RetryAt.After(want.Add(time.Minute)) {
		t.Fatalf("RetryAt %s, want about %s", ref.RetryAt, want)
	}
	// Operator switches have their own budget: a failover is not held by
	// them (it was: 52 min offline after an operator switch storm).
	r.m.SetNet("home", func(n *switchertest.Net) { n.Reg = modem.RegSearching })
	r.run(30*time.Second, 5*time.Minute)
	if st := r.s.Status(); st.Active == "home" {
		t.Fatalf("failover held by the operator's switches: %+v\n%v", st, r.decisions())
	}
	if d, ok := r.lastOf(switcher.KindSwitch); !ok || d.Trigger != switcher.TriggerHard || !d.Has(switcher.CodeNoService) {
		t.Fatalf("want a hard switch, got %+v", d)
	}
}

func TestRollbackAndQuarantineDoubling(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "home")
	r.up()
	r.m.SetNet("roam", func(n *switchertest.Net) { n.Reg = modem.RegDenied })
	var ttls []time.Duration
	for i := range 3 {
		if err := r.s.Force("roam", "try roam"); err != nil {
			t.Fatalf("force %d: %v", i, err)
		}
		st := r.run(30*time.Second, 4*time.Minute)
		if st.Active != "home" || st.State != switcher.StateConnected {
			t.Fatalf("round %d: not rolled back: %+v", i, st)
		}
		rb, ok := r.lastOf(switcher.KindRollback)
		if !ok || rb.From != "roam" || rb.To != "home" || !rb.Has(switcher.CodeQuarantined) {
			t.Fatalf("round %d: rollback decision %+v", i, rb)
		}
		var q *switcher.QuarantineEntry
		for _, e := range st.Quarantines {
			if e.Key == "profile:roam" {
				q = &e
			}
		}
		if q == nil {
			t.Fatalf("round %d: roam not quarantined: %+v", i, st.Quarantines)
		}
		ttls = append(ttls, q.Until.Sub(q.Since))
		// Refused while quarantined, with the time it ends.
		err := r.s.Force("roam", "again")
		var ref *switcher.RefusedError
		if !errors.As(err, &ref) || ref.Reason.Code != switcher.CodeQuarantined || !ref.RetryAt.Equal(q.Until) {
			t.Fatalf("round %d: want quarantine refusal until %s, got %v", i, q.Until, err)
		}
		r.clk.Advance(q.Until.Sub(r.clk.Now()) + time.Second)
	}
	want := []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour}
	for i := range want {
		if ttls[i] != want[i] {
			t.Fatalf("TTLs %v, want %v", ttls, want)
		}
	}
	if n := len(r.jour.Outcomes); n != 3 || r.jour.Outcomes[0].OK || r.jour.Outcomes[0].Active != "home" {
		t.Fatalf("journal outcomes %+v", r.jour.Outcomes)
	}
	if len(r.jour.Intents) != 3 || r.jour.Intents[0].To != "roam" {
		t.Fatalf("journal intents %+v", r.jour.Intents)
	}
}

func TestPins(t *testing.T) {
	t.Run("pin moves and holds", func(t *testing.T) {
		r := newRig(t, loadCfg(t, "applet.yaml"), "home")
		r.up()
		if err := r.s.Pin("roam", time.Hour); err != nil {
			t.Fatal(err)
		}
		st := r.run(30*time.Second, 2*time.Minute)
		if st.Active != "roam" || st.State != switcher.StateHeld || st.Pin == nil {
			t.Fatalf("pin: %+v", st)
		}
		// A pin holds against cost and signal...
		r.m.SetNet("home", func(n *switchertest.Net) { n.RSRP = -70 })
		r.run(30*time.Second, 20*time.Minute)
		if st := r.s.Status(); st.Active != "roam" || st.Pin == nil {
			t.Fatalf("pin did not hold against score: %+v", st)
		}
		// ...but not against liveness: a dead data path moves, and the
		// decision says the pin yielded.
		r.probe.SetFail("roam", true)
		r.run(30*time.Second, 10*time.Minute)
		if st := r.s.Status(); st.Active == "roam" || st.Pin != nil {
			t.Fatalf("pinned profile kept with a dead data path: %+v", st)
		}
		yielded := false
		for _, d := range r.decisions() {
			yielded = yielded || (d.Has(switcher.CodePinned) && d.Has(switcher.CodeDataPathDead))
		}
		if !yielded {
			t.Fatalf("no decision says the pin yielded: %+v", r.decisions())
		}
	})
	t.Run("pin lapses", func(t *testing.T) {
		r := newRig(t, loadCfg(t, "applet.yaml"), "home")
		r.up()
		if err := r.s.Pin("roam", time.Hour); err != nil {
			t.Fatal(err)
		}
		r.run(time.Minute, 2*time.Hour)
		if st := r.s.Status(); st.Pin != nil || st.State == switcher.StateHeld {
			t.Fatalf("pin did not lapse: %+v", st)
		}
	})
	for _, override := range []bool{true, false} {
		t.Run("critical override="+map[bool]string{true: "on", false: "off"}[override], func(t *testing.T) {
			edit := func(s string) string { return s }
			if !override {
				edit = func(s string) string {
					return replace(s, "critical_overrides_pin: true", "critical_overrides_pin: false")
				}
			}
			r := newRig(t, loadCfg(t, "applet.yaml", edit), "home")
			r.up()
			if err := r.s.Pin("home", 0); err != nil {
				t.Fatal(err)
			}
			r.tick(time.Second)
			if st := r.s.Status(); st.State != switcher.StateHeld {
				t.Fatalf("not held: %+v", st)
			}
			r.threat.Set(threat.Result{Profiles: []threat.Assessment{{Scope: "profile:home", Level: threat.SeverityCritical}}})
			st := r.run(30*time.Second, 2*time.Minute)
			if override && st.Active == "home" {
				t.Fatalf("critical did not override the pin: %+v", r.decisions())
			}
			if !override && st.Active != "home" {
				t.Fatalf("pin broken without override: %+v", st)
			}
		})
	}
	t.Run("unknown profile", func(t *testing.T) {
		r := newRig(t, loadCfg(t, "applet.yaml"), "home")
		r.up()
		var ref *switcher.RefusedError
		if err := r.s.Pin("nope", time.Hour); !errors.As(err, &ref) || ref.Reason.Code != switcher.CodeUnknownProfile {
			t.Fatalf("got %v", err)
		}
		if err := r.s.Force("nope", ""); !errors.As(err, &ref) || ref.Reason.Code != switcher.CodeUnknownProfile {
			t.Fatalf("got %v", err)
		}
	})
}

func TestJammingSuspendsSwitching(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "home")
	r.up()
	jam := threat.Response{Level: threat.SeverityHigh, Actions: threat.ActSuspendSwitching | threat.ActAlert}
	r.threat.Set(threat.Result{Episode: threat.Episode{ID: 1, Active: true}, Response: jam,
		Findings: []threat.Finding{{Detector: threat.D8, Rule: "D8b", Severity: threat.SeverityHigh, Response: jam}}})
	r.m.SetNet("home", func(n *switchertest.Net) { n.Reg = modem.RegSearching })
	r.run(30*time.Second, 10*time.Minute)
	if sel, _, _, _ := r.m.Counts(); len(sel) != 0 {
		t.Fatalf("switched under jamming: %v", sel)
	}
	d, ok := r.lastOf(switcher.KindSuspend)
	if !ok || !d.Has(switcher.CodeSuspended) || !d.Has(switcher.CodeNoService) {
		t.Fatalf("want suspend decision, got %+v", r.decisions())
	}
	var ref *switcher.RefusedError
	if err := r.s.Force("roam", "x"); !errors.As(err, &ref) || ref.Reason.Code != switcher.CodeSuspended {
		t.Fatalf("force under jamming: %v", err)
	}
	// Jamming over: the hard trigger acts.
	r.threat.Set(threat.Result{})
	r.run(30*time.Second, 2*time.Minute)
	if st := r.s.Status(); st.Active != "roam" {
		t.Fatalf("no switch after jamming: %+v", st)
	}
}

func TestThreatQuarantineAndRATLock(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "home")
	r.up()
	r.threat.Set(threat.Result{Episode: threat.Episode{ID: 3, Active: true}, Response: threat.Response{
		Level: threat.SeverityHigh, Actions: threat.ActForbid2G | threat.ActDeprioritise,
		Quarantine: []threat.Quarantine{{Scope: threat.Scope{Kind: threat.ScopeProfile, Profile: "last"}, TTL: 30 * time.Minute}},
	}})
	st := r.run(30*time.Second, 2*time.Minute)
	if len(r.m.RATLocks) != 1 {
		t.Fatalf("RAT lock applied %d times, want once per episode", len(r.m.RATLocks))
	}
	for _, tech := range r.m.RATLocks[0] {
		if tech.Is2G() {
			t.Fatalf("RAT lock allows 2G: %v", r.m.RATLocks[0])
		}
	}
	found := false
	for _, q := range st.Quarantines {
		found = found || q.Key == "profile:last"
	}
	if !found {
		t.Fatalf("threat quarantine not applied: %+v", st.Quarantines)
	}
	for _, sc := range st.Scores {
		if sc.Profile == "last" && sc.Eligible {
			t.Fatalf("quarantined profile eligible: %+v", sc)
		}
	}
	// Our own switch is reported to the engine so it can suppress D3/D9/D10d.
	if err := r.s.Force("roam", "x"); err != nil {
		t.Fatal(err)
	}
	r.run(30*time.Second, 2*time.Minute)
	var started, finished bool
	for _, o := range r.threat.Seen {
		for _, e := range o.Events {
			started = started || e.Kind == threat.EventOwnSwitchStarted
			finished = finished || e.Kind == threat.EventOwnSwitchFinished
		}
	}
	if !started || !finished {
		t.Fatalf("own switch events: started=%v finished=%v", started, finished)
	}
}

func TestRATLockReadback(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "home")
	r.up()
	r.threat.Set(threat.Result{Episode: threat.Episode{ID: 1, Active: true},
		Response: threat.Response{Level: threat.SeverityHigh, Actions: threat.ActForbid2G}})
	r.tick(30 * time.Second)
	if len(r.m.RATLocks) != 1 {
		t.Fatalf("locks %v", r.m.RATLocks)
	}
	// The firmware quietly restores its defaults; the engine asks for a check.
	r.m.RevertRATLock([]modem.Tech{modem.TechGSM, modem.TechUMTS, modem.TechLTE})
	r.threat.Set(threat.Result{Episode: threat.Episode{ID: 2, Active: true},
		Response: threat.Response{Level: threat.SeverityHigh, Actions: threat.ActCheckRATLock}})
	r.run(30*time.Second, time.Minute)
	var rb *threat.RATLockReadback
	for _, o := range r.threat.Seen {
		if o.RATLock != nil {
			rb = o.RATLock
		}
	}
	if rb == nil || !slices.Contains(rb.Got, modem.TechGSM) || slices.Contains(rb.Want, modem.TechGSM) {
		t.Fatalf("read-back not reported to D1b: %+v", rb)
	}
	// D1b's answer: rewrite.
	r.threat.Set(threat.Result{Episode: threat.Episode{ID: 3, Active: true},
		Response: threat.Response{Level: threat.SeverityHigh, Actions: threat.ActRewriteRATLock}})
	r.tick(30 * time.Second)
	if len(r.m.RATLocks) != 2 {
		t.Fatalf("lock not rewritten: %v", r.m.RATLocks)
	}
}
