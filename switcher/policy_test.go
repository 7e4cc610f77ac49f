package switcher_test

import (
	"slices"
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/switchertest"
)

// scriptPolicy moves to "roam" at its third call and records what it saw.
type scriptPolicy struct {
	seen []switcher.PolicyInput
	to   string
}

func (*scriptPolicy) Name() string { return "script" }

func (p *scriptPolicy) Decide(in switcher.PolicyInput) switcher.PolicyChoice {
	p.seen = append(p.seen, in)
	if len(p.seen) == 3 {
		return switcher.PolicyChoice{To: p.to, Trigger: switcher.TriggerHard}
	}
	return switcher.PolicyChoice{}
}

// An injected policy decides; the engine switches and verifies as usual.
func TestPolicyChoosesEngineSwitches(t *testing.T) {
	p := &scriptPolicy{to: "roam"}
	r := newRig(t, loadCfg(t, "applet.yaml"), "home", switcher.WithPolicy(p))
	r.up()
	st := r.run(10*time.Second, 2*time.Minute)
	if st.Active != "roam" || st.State != switcher.StateConnected {
		t.Fatalf("got %s on %q:\n%+v", st.State, st.Active, r.decisions())
	}
	d, ok := r.lastOf(switcher.KindSwitch)
	if !ok || !d.Has(switcher.CodePolicyRule) || d.From != "home" || d.To != "roam" {
		t.Fatalf("switch %+v", d)
	}
	if _, ok := r.lastOf(switcher.KindVerified); !ok {
		t.Fatal("the switch was not verified")
	}
	in := p.seen[0]
	if !slices.Equal(in.Profiles, []string{"home", "roam", "last"}) || in.Active != "home" || !in.Registered || !in.DataUp {
		t.Fatalf("first input %+v", in)
	}
	if !slices.ContainsFunc(p.seen, func(in switcher.PolicyInput) bool { return in.Probed && in.ProbeOK }) {
		t.Fatal("the policy never saw a probe")
	}
}

// A policy that never switches is not overruled by imsid's hard triggers:
// the seam replaces the whole decision rule.
func TestPolicyReplacesTriggers(t *testing.T) {
	p := &scriptPolicy{to: ""}
	r := newRig(t, loadCfg(t, "applet.yaml"), "home", switcher.WithPolicy(p))
	r.up()
	r.m.SetNet("home", func(n *switchertest.Net) { n.Reg = modem.RegSearching })
	st := r.run(10*time.Second, 10*time.Minute)
	if st.Active != "home" {
		t.Fatalf("left home without the policy: %+v", r.decisions())
	}
	if _, ok := r.lastOf(switcher.KindSwitch); ok {
		t.Fatal("a switch the policy did not choose")
	}
	if len(p.seen) == 0 || p.seen[len(p.seen)-1].Registered {
		t.Fatal("the policy did not see the loss of registration")
	}
}

// Choosing the active or an unknown profile is staying.
func TestPolicyUnknownTargetStays(t *testing.T) {
	p := &scriptPolicy{to: "nowhere"}
	r := newRig(t, loadCfg(t, "applet.yaml"), "home", switcher.WithPolicy(p))
	r.up()
	if st := r.run(10*time.Second, time.Minute); st.Active != "home" {
		t.Fatalf("moved to %q", st.Active)
	}
}

// A reselection to another PLMN is a new registration: the context is
// defined and activated again even when no poll saw the gap and no PDN
// event arrived (a roaming profile moving between networks).
func TestPDPRetriedOnNewPLMN(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "last")
	r.up()
	if err := r.s.Pin("last", 0); err != nil { // no scoring away from it
		t.Fatal(err)
	}
	r.m.SetNet("last", func(n *switchertest.Net) { n.NoPDP = true })
	r.m.Emit(switcher.ModemEvent{Kind: switcher.ModemEventPDNDeact})
	r.run(time.Second, 5*time.Second)
	defs := len(r.m.PDPDefs)
	if defs == 0 {
		t.Fatal("no PDP definition after the deactivation")
	}
	r.run(time.Second, 5*time.Second)
	if len(r.m.PDPDefs) != defs {
		t.Fatalf("%d PDP definitions, want %d: one per registration", len(r.m.PDPDefs), defs)
	}
	r.m.SetNet("last", func(n *switchertest.Net) { n.PLMN = "311480" })
	st := r.tick(time.Second)
	if n := len(r.m.PDPDefs); n != defs+1 {
		t.Fatalf("%d PDP definitions after the reselection, want %d: %+v", n, defs+1, st)
	}
}
