package switcher_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/switchertest"
)

func autonomous(s string) string { return replace(s, "method: applet", "method: autonomous") }

func TestAutonomousAdoption(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml", autonomous), "home")
	r.up()
	r.m.SwitchTo("roam") // the applet rotates on its own
	st := r.tick(30 * time.Second)
	if st.Active != "roam" {
		t.Fatalf("not adopted: %+v", st)
	}
	d, ok := r.lastOf(switcher.KindAdopt)
	if !ok || d.From != "home" || d.To != "roam" || d.Trigger != switcher.TriggerExternal || !d.Has(switcher.CodeExternalChange) {
		t.Fatalf("adopt decision %+v", d)
	}
	var ref *switcher.RefusedError
	if err := r.s.Force("home", "x"); !errors.As(err, &ref) || ref.Reason.Code != switcher.CodeAutonomous {
		t.Fatalf("force with an autonomous applet: %v", err)
	}
	// No service: we never select, we wait for the applet.
	r.m.SetNet("roam", func(n *switchertest.Net) { n.Reg = modem.RegSearching })
	r.run(30*time.Second, 5*time.Minute)
	if sel, _, _, _ := r.m.Counts(); len(sel) != 0 {
		t.Fatalf("selected with an autonomous applet: %v", sel)
	}
	if d, ok := r.lastOf(switcher.KindStay); !ok || !d.Has(switcher.CodeAutonomous) {
		t.Fatalf("want stay/method_autonomous, got %+v", d)
	}
}

func TestAppletHoldoffDelaysResets(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml", autonomous), "home")
	r.up()
	r.m.SetNet("home", func(n *switchertest.Net) { n.Reg = modem.RegSearching })
	r.tick(10 * time.Second) // service lost: the applet's rotation window opens (5 min)
	r.m.SetHung(true)
	r.run(10*time.Second, 4*time.Minute)
	st := r.s.Status()
	if st.State != switcher.StateRecovering {
		t.Fatalf("state %s", st.State)
	}
	if rc := st.Recovery; rc.CFUN != 0 || rc.Reset != 0 || rc.Resync != 1 {
		t.Fatalf("reset inside the applet window: %+v", rc)
	}
	r.run(10*time.Second, 2*time.Minute)
	if rc := r.s.Status().Recovery; rc.CFUN != 1 {
		t.Fatalf("no CFUN after the window: %+v", rc)
	}
}

func TestRecoveryLadder(t *testing.T) {
	t.Run("recovers mid-ladder without blaming the profile", func(t *testing.T) {
		r := newRig(t, loadCfg(t, "applet.yaml"), "home")
		r.up()
		r.m.SetHung(true)
		r.run(5*time.Second, 15*time.Second)
		if st := r.s.Status(); st.State != switcher.StateRecovering {
			t.Fatalf("state %s", st.State)
		}
		r.m.SetHung(false)
		st := r.run(5*time.Second, 20*time.Second)
		if st.State != switcher.StateConnected || st.Active != "home" || len(st.Quarantines) != 0 {
			t.Fatalf("after recovery: %+v", st)
		}
		if st.Recovery.Runs != 1 || st.Recovery.Recovered != 1 || st.Recovery.Requery != 1 {
			t.Fatalf("stats %+v", st.Recovery)
		}
		if _, ok := r.lastOf(switcher.KindSwitch); ok {
			t.Fatal("a hung modem was taken for a bad profile")
		}
	})
	t.Run("every rung, then the port is reopened", func(t *testing.T) {
		r := newRig(t, loadCfg(t, "applet.yaml"), "home")
		r.up()
		r.m.SetHung(true)
		r.run(5*time.Second, 2*time.Minute)
		st := r.s.Status()
		if st.State != switcher.StateModemLost || r.lost != 1 {
			t.Fatalf("state %s, lost callbacks %d", st.State, r.lost)
		}
		rc := st.Recovery
		if rc.Requery != 1 || rc.Resync != 1 || rc.CFUN != 1 || rc.Reset != 1 || rc.Reopen != 1 {
			t.Fatalf("ladder %+v", rc)
		}
		fresh := switchertest.NewModem(r.cfg, "home")
		r.s.Reopened(fresh)
		st = r.run(time.Second, 5*time.Second)
		if st.State != switcher.StateConnected {
			t.Fatalf("after reopen: %+v", st)
		}
	})
	t.Run("port lost", func(t *testing.T) {
		r := newRig(t, loadCfg(t, "applet.yaml"), "home")
		r.up()
		r.m.SetLost(true)
		if st := r.tick(time.Second); st.State != switcher.StateModemLost || r.lost != 1 {
			t.Fatalf("state %s", st.State)
		}
	})
	t.Run("hang during a switch is not a bad target", func(t *testing.T) {
		r := newRig(t, loadCfg(t, "applet.yaml"), "home")
		r.up()
		r.m.SetHung(true)
		r.s.Force("roam", "x")
		r.m.SetHung(false)
		r.m.FailSelect("roam", modem.ErrTimeout)
		r.tick(time.Second)
		if st := r.s.Status(); st.State != switcher.StateRecovering {
			t.Fatalf("state %s", st.State)
		}
		r.m.FailSelect("roam", nil)
		st := r.run(time.Second, 5*time.Second)
		if len(st.Quarantines) != 0 || st.State != switcher.StateConnected {
			t.Fatalf("after hang: %+v", st)
		}
	})
}

func TestReconcileUnfinishedSwitch(t *testing.T) {
	for _, tc := range []struct {
		sim    string
		wantOK bool
	}{{"roam", true}, {"home", false}} {
		t.Run("sim carries "+tc.sim, func(t *testing.T) {
			in := switcher.Intent{Seq: 7, At: t0.Add(-time.Minute), From: "home", To: "roam", Trigger: switcher.TriggerManual}
			r := newRig(t, loadCfg(t, "applet.yaml"), tc.sim,
				switcher.WithRestore(switcher.Snapshot{Active: "home", Pending: &in}))
			r.up()
			if len(r.jour.Outcomes) != 1 {
				t.Fatalf("outcomes %+v", r.jour.Outcomes)
			}
			out := r.jour.Outcomes[0]
			if out.Seq != 7 || out.OK != tc.wantOK || out.Active != tc.sim {
				t.Fatalf("outcome %+v", out)
			}
			if d, ok := r.lastOf(switcher.KindAdopt); !ok || !d.Has(switcher.CodeReconcile) {
				t.Fatalf("decision %+v", d)
			}
			if r.s.Export().Pending != nil {
				t.Fatal("pending intent kept after reconciling")
			}
		})
	}
}

func TestExportRestoreRoundTrip(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "home")
	r.up()
	r.m.SetNet("roam", func(n *switchertest.Net) { n.Reg = modem.RegDenied })
	r.s.Force("roam", "x")
	r.run(30*time.Second, 4*time.Minute)
	snap := r.s.Export()
	if len(snap.Quarantines) != 1 || len(snap.OperatorSwitches) != 1 || snap.Active != "home" || snap.Signal["home"].At.IsZero() {
		t.Fatalf("snapshot %+v", snap)
	}
	// The daemon stores it as JSON.
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	var back switcher.Snapshot
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	r2 := newRig(t, r.cfg, "home", switcher.WithRestore(back))
	r2.clk.Advance(r.clk.Now().Sub(t0))
	r2.up()
	var ref *switcher.RefusedError
	if err := r2.s.Force("roam", "x"); !errors.As(err, &ref) || ref.Reason.Code != switcher.CodeQuarantined {
		t.Fatalf("quarantine not restored: %v", err)
	}
}

func TestDecisionLogBounded(t *testing.T) {
	l := switcher.NewDecisionLog(3)
	for range 5 {
		l.Add(switcher.Decision{Kind: switcher.KindStay})
	}
	got := l.Since(0, 0)
	if len(got) != 3 || got[0].Seq != 3 || got[2].Seq != 5 {
		t.Fatalf("%+v", got)
	}
	if p := l.Since(3, 1); len(p) != 1 || p[0].Seq != 4 {
		t.Fatalf("paging %+v", p)
	}
}

func TestHangDuringVerifyReconciles(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "home")
	r.up()
	r.m.SetNet("roam", func(n *switchertest.Net) { n.Reg = modem.RegSearching })
	if err := r.s.Force("roam", "x"); err != nil {
		t.Fatal(err)
	}
	r.tick(5 * time.Second) // switched, verifying
	r.m.SetHung(true)
	r.run(5*time.Second, 15*time.Second)
	if st := r.s.Status(); st.State != switcher.StateRecovering {
		t.Fatalf("state %s", st.State)
	}
	r.m.SetHung(false)
	r.m.SetNet("roam", func(n *switchertest.Net) { n.Reg = modem.RegRoaming })
	st := r.run(5*time.Second, 30*time.Second)
	if st.Active != "roam" || len(st.Quarantines) != 0 {
		t.Fatalf("after recovery: %+v", st)
	}
	if len(r.jour.Outcomes) != 1 || !r.jour.Outcomes[0].OK || r.jour.Outcomes[0].Active != "roam" {
		t.Fatalf("journal not reconciled: %+v", r.jour.Outcomes)
	}
}

// An identity imsid adopted (the carrier's OTA put it in) gets
// verify_deadline to attach, the window imsid's own switch gives its
// target: searching meanwhile is the attach, not a loss of service. Past
// it, no service is no service, and the profile is left.
func TestAdoptedIdentityGetsTheVerifyWindowToAttach(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "home")
	r.up()
	r.m.SetNet("roam", func(n *switchertest.Net) { n.Reg = modem.RegSearching })
	r.m.SwitchTo("roam") // the carrier's OTA
	if st := r.tick(5 * time.Second); st.Active != "roam" {
		t.Fatalf("not adopted: %+v", st)
	}
	adopted := r.clk.Now()
	window := r.cfg.Policy.VerifyDeadline.Std()
	left := func() (switcher.Decision, bool) {
		for _, d := range r.decisions() {
			if d.Kind == switcher.KindSwitch && d.From == "roam" {
				return d, true
			}
		}
		return switcher.Decision{}, false
	}
	for r.clk.Now().Sub(adopted) < window-5*time.Second {
		r.tick(5 * time.Second)
		if d, ok := left(); ok {
			t.Fatalf("left roam %v after it was put in, while it attached: %+v", d.Time.Sub(adopted), d)
		}
	}
	r.run(5*time.Second, 30*time.Second)
	d, ok := left()
	if !ok || !d.Has(switcher.CodeNoService) {
		t.Fatalf("still on roam %v after it was put in with no service: %+v\n%+v", r.clk.Now().Sub(adopted), r.s.Status(), r.decisions())
	}
}

// The identity found at a fresh start is not a new arrival: a restart
// during an outage judges no service by no_service_trigger, without the
// attach window an identity someone else put in gets.
func TestFreshStartGetsNoAttachWindow(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "home")
	r.m.SetNet("home", func(n *switchertest.Net) { n.Reg = modem.RegSearching })
	trigger := r.cfg.Policy.NoServiceTrigger.Std()
	r.run(5*time.Second, trigger+15*time.Second)
	for _, d := range r.decisions() {
		if d.Kind == switcher.KindSwitch && d.Has(switcher.CodeNoService) {
			return
		}
	}
	t.Fatalf("no failover %v after a start with no service (no_service_trigger %v):\n%+v", trigger+15*time.Second, trigger, r.decisions())
}
