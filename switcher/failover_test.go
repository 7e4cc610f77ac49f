package switcher_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/switchertest"
	"github.com/imsid/imsid/switcher/threat"
)

func hasCode(rs []switcher.Reason, c switcher.Code) bool {
	return slices.ContainsFunc(rs, func(r switcher.Reason) bool { return r.Code == c })
}

func scoreOf(s *switcher.Switcher, profile string) switcher.Score {
	for _, sc := range s.Scores() {
		if sc.Profile == profile {
			return sc
		}
	}
	return switcher.Score{}
}

// Traffic-aware probing: no probe is sent while the modem receives data;
// when a receiving link stops, a probe goes out at once and failed rounds
// repeat every probes.retry, so a dead core is left in seconds.
func TestTrafficAwareProbing(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml", func(s string) string {
		return replace(s, "signal_poll: 30s", "signal_poll: 10s")
	}), "home")
	r.m.Receive(1)
	r.up()
	base := r.probe.N
	for range 30 { // 5 min of traffic: five probe intervals
		r.m.Receive(17_000)
		r.tick(10 * time.Second)
	}
	// A tick a second after a poll (a URC woke it) is too soon to call the
	// link stopped.
	r.tick(time.Second)
	if n := r.probe.N - base; n != 0 {
		t.Fatalf("%d probes sent while data was arriving", n)
	}
	r.m.Receive(15_000)
	r.tick(9 * time.Second)
	if st := r.s.Status(); st.ProbesSaved < 4 || st.LastProbe == nil || !st.LastProbe.OK {
		t.Fatalf("saved %d, last %+v", st.ProbesSaved, st.LastProbe)
	}
	// A sliver of the usual bytes (the outage began between two polls) is
	// a stall too: a probe goes out at once, and passes here.
	r.m.Receive(500)
	r.tick(10 * time.Second)
	if n := r.probe.N - base; n != 1 {
		t.Fatalf("%d probes after the receive rate fell to 3 %%, want 1", n)
	}
	r.m.Receive(17_000)
	r.tick(10 * time.Second)
	// The core dies: no more bytes, probes fail.
	r.probe.SetFail("home", true)
	var left time.Duration
	for el := 10 * time.Second; el <= 2*time.Minute; el += 5 * time.Second {
		if st := r.tick(5 * time.Second); st.Active == "roam" || st.State == switcher.StateSwitching {
			left = el
			break
		}
	}
	d, ok := r.lastOf(switcher.KindSwitch)
	if left == 0 || !ok || !d.Has(switcher.CodeDataPathDead) {
		t.Fatalf("no switch on the dead core: %+v", r.s.Status())
	}
	// The stall is seen at the first poll without bytes; then three
	// rounds 5 s apart.
	if left > 25*time.Second {
		t.Fatalf("left the dead core after %s, want ≤ 25 s", left)
	}
}

// A modem without byte counters probes on the interval, as before.
func TestProbingWithoutCounters(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "home")
	r.up()
	base := r.probe.N
	r.run(30*time.Second, 5*time.Minute)
	if n := r.probe.N - base; n < 4 || n > 6 {
		t.Fatalf("%d probes in 5 min at a 60 s interval", n)
	}
}

// A cheaper profile left because its network was gone is looked for with
// scans after min_dwell, and returned to as soon as a scan sees it.
func TestFailBackScan(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml", func(s string) string {
		return replace(s, "no_service_trigger: 2m", "no_service_trigger: 20s")
	}), "home")
	r.up()
	r.tick(time.Minute)
	r.m.SetNet("home", func(n *switchertest.Net) { n.Reg = modem.RegSearching })
	roamOnly := []modem.NetworkEntry{{Stat: 2, PLMN: plmn("311480"), AcT: ptr(modem.ActEUTRAN)}}
	r.m.SetScan(roamOnly)
	r.run(5*time.Second, time.Minute)
	if st := r.run(5*time.Second, time.Minute); st.Active != "roam" || st.State != switcher.StateConnected {
		t.Fatalf("did not fail over: %s on %s", st.State, st.Active)
	}
	// Home stays gone for 30 min: scans do not see it, nothing moves.
	r.run(30*time.Second, 30*time.Minute)
	if st := r.s.Status(); st.Active != "roam" {
		t.Fatalf("left roam while home was gone: %+v", st.Active)
	}
	if sc := scoreOf(r.s, "home"); sc.Eligible || !hasCode(sc.Reasons, switcher.CodeNotInScan) {
		t.Fatalf("home after scans without it: %+v", sc)
	}
	// Home is back. The fail-back scan (at most fail_back.max later) sees it.
	r.m.SetNet("home", func(n *switchertest.Net) { n.Reg = modem.RegHome })
	r.m.SetScan(append(roamOnly, modem.NetworkEntry{Stat: 1, PLMN: plmn("310260"), AcT: ptr(modem.ActEUTRAN)}))
	back := time.Duration(0)
	for el := time.Duration(0); el <= 25*time.Minute; el += 30 * time.Second {
		if st := r.tick(30 * time.Second); st.Active == "home" {
			back = el
			break
		}
	}
	if back == 0 {
		t.Fatalf("never returned home: %+v", scoreOf(r.s, "home"))
	}
	d, _ := r.lastOf(switcher.KindSwitch)
	if d.Trigger != switcher.TriggerSoft || !d.Has(switcher.CodeBetterProfile) {
		t.Fatalf("return decision %+v", d)
	}
}

// "Forbidden" in a scan belongs to the identity that scanned (here roam's,
// which the home network rejects): it does not hide home's network.
func TestForbiddenInScanBarsOnlyTheActiveIdentity(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml", func(s string) string {
		return replace(s, "no_service_trigger: 2m", "no_service_trigger: 20s")
	}), "home")
	r.up()
	r.tick(time.Minute)
	r.m.SetNet("home", func(n *switchertest.Net) { n.Reg = modem.RegSearching })
	r.m.SetNet("roam", func(n *switchertest.Net) { n.PLMN = "311480" })
	if st := r.run(5*time.Second, 2*time.Minute); st.Active != "roam" {
		t.Fatalf("did not fail over: %s", st.Active)
	}
	r.m.SetNet("home", func(n *switchertest.Net) { n.Reg = modem.RegHome })
	r.m.SetScan([]modem.NetworkEntry{{Stat: 2, PLMN: plmn("311480")}, {Stat: 3, PLMN: plmn("310260")}})
	if st := r.run(30*time.Second, 15*time.Minute); st.Active != "home" {
		t.Fatalf("home's network, forbidden to roam, kept home away: %+v", scoreOf(r.s, "home"))
	}
}

// While the active profile is under threat, its serving network vouches
// for no candidate's signal.
func TestSuspectNetworkVouchesForNoCandidate(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "home")
	r.up()
	r.tick(30 * time.Second)
	if sc := scoreOf(r.s, "last"); !hasCode(sc.Reasons, switcher.CodeSignalShared) {
		t.Fatalf("setup: last should share home's network: %+v", sc.Reasons)
	}
	r.threat.Set(threat.Result{Profiles: []threat.Assessment{{Scope: "profile:home", Level: threat.SeverityMedium}}})
	r.tick(30 * time.Second)
	if sc := scoreOf(r.s, "last"); hasCode(sc.Reasons, switcher.CodeSignalShared) {
		t.Fatalf("the suspect network still vouches for last: %+v", sc.Reasons)
	}
}

// Signal smoothing depends on time, not on the number of polls.
func TestSmoothingIndependentOfPollRate(t *testing.T) {
	final := func(poll time.Duration) float64 {
		r := newRig(t, loadCfg(t, "applet.yaml"), "home")
		r.up()
		r.run(poll, 10*time.Minute)
		r.m.SetNet("home", func(n *switchertest.Net) { n.RSRP = -110 })
		st := r.run(poll, 90*time.Second)
		if st.RSRP == nil {
			t.Fatal("no RSRP")
		}
		return *st.RSRP
	}
	fast, slow := final(5*time.Second), final(30*time.Second)
	want := -90 - 20*(1-math.Exp(-90.0/84))
	for _, got := range []float64{fast, slow} {
		if math.Abs(got-want) > 1.5 {
			t.Fatalf("smoothed RSRP 90 s after a 20 dB step: 5 s polls %.1f, 30 s polls %.1f, want ≈ %.1f", fast, slow, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// A fall of the active profile's own score must last softHold (60 s)
// before it makes a soft trigger: a collapse (here of RSRP and SINR) is
// given time for D8 to confirm interference and suspend switching.
func TestSoftTriggerFromOwnFallWaits(t *testing.T) {
	good := switcher.SignalTrack{RSRP: -85, SINR: 15, HaveRSRP: true, HaveSINR: true, At: t0}
	r := newRig(t, loadCfg(t, "applet.yaml"), "home", switcher.WithRestore(switcher.Snapshot{
		Active: "home", Signal: map[string]switcher.SignalTrack{"roam": good}}))
	r.up()
	r.run(10*time.Second, 15*time.Minute) // past the dwell
	r.m.SetNet("home", func(n *switchertest.Net) { n.RSRP, n.SINR = -130, -15 })
	var at time.Duration
	for el := 10 * time.Second; el <= 5*time.Minute; el += 10 * time.Second {
		if st := r.tick(10 * time.Second); st.State == switcher.StateSwitching || st.Active == "roam" {
			at = el
			break
		}
	}
	if at == 0 {
		t.Fatal("never left the collapsed home")
	}
	// Smoothing alone lets the score cross the margin after about 40 s;
	// the hold adds its minute on top of the first fall.
	if at < 80*time.Second {
		t.Fatalf("soft switch %s after the collapse: the 60 s hold did not apply", at)
	}
}

// A profile left because its network refused the identity itself (cause 7,
// EPS services not allowed) is not "gone": a scan seeing the network proves
// nothing and does not bring the device back early to be refused again.
func TestRejectedProfileIsNotLuredBackByAScan(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml", func(s string) string {
		return replace(s, "no_service_trigger: 2m", "no_service_trigger: 20s")
	}), "home")
	r.up()
	r.tick(time.Minute)
	cause := 7
	r.m.SetNet("home", func(n *switchertest.Net) { n.Reg, n.RejectCause = modem.RegDenied, &cause })
	r.m.SetNet("roam", func(n *switchertest.Net) { n.PLMN = "311480" })
	if st := r.run(5*time.Second, 2*time.Minute); st.Active != "roam" {
		t.Fatalf("did not leave the refused home: %s", st.Active)
	}
	r.m.SetScan([]modem.NetworkEntry{{Stat: 2, PLMN: plmn("311480")}, {Stat: 1, PLMN: plmn("310260")}})
	r.run(30*time.Second, 30*time.Minute)
	sel, _, _, _ := r.m.Counts()
	if len(sel) != 1 {
		t.Fatalf("selections %v: lured back to the refused profile by a scan", sel)
	}
}

// A profile left on a Critical threat is not returned to for score or
// cost within the hour (its network may still hold the attacker), and is
// afterwards.
func TestThreatDepartureHoldsSoftReturn(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "home")
	r.m.SetNet("roam", func(n *switchertest.Net) { n.PLMN = "311480" })
	r.up()
	r.tick(time.Minute)
	r.threat.Set(threat.Result{Profiles: []threat.Assessment{{Scope: "profile:home", Level: threat.SeverityCritical}}})
	if st := r.run(10*time.Second, time.Minute); st.Active != "roam" {
		t.Fatalf("did not leave the threatened home: %s", st.Active)
	}
	left := r.clk.Now()
	r.threat.Set(threat.Result{})
	var back time.Duration
	for el := time.Duration(0); el < 2*time.Hour; el += 30 * time.Second {
		if st := r.tick(30 * time.Second); st.Active == "home" {
			back = r.clk.Now().Sub(left)
			break
		}
	}
	if back == 0 {
		t.Fatal("never went back home after the hour")
	}
	if back < 55*time.Minute {
		t.Fatalf("back on the threatened home %s after leaving it", back)
	}
}
