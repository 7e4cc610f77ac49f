package demo

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imsid/imsid/internal/api"
)

func apiEvent(t *testing.T, id uint64, wall time.Time, typ string, data any) api.Event {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return api.Event{ID: id, Time: wall, Type: typ, Data: raw}
}

// TestRecorder feeds a recorded stretch of the API (status polls and SSE
// events as the daemon sends them) and checks the timeline and the lines.
func TestRecorder(t *testing.T) {
	const speed = 600
	launched := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	origin := launched.Add(40 * time.Millisecond) // the simulator's clock starts a little later
	scen := func(off time.Duration) time.Time { return origin.Add(off) }
	wall := func(off time.Duration) time.Time { return origin.Add(off / speed) }
	str := api.Ptr[string]

	var out bytes.Buffer
	r := newRecorder(speed, launched, &out)
	status := api.Status{At: scen(30 * time.Second), State: "connected", ActiveProfile: str("cheap"), Link: api.Link{Up: true},
		Threat: api.Threat{Level: "none"}, Signal: api.Signal{RSRP: api.Ptr(-88.0)}}
	profiles := []api.ProfileView{{Name: "cheap", Score: api.Score{Signal: 90}}, {Name: "fallback", Score: api.Score{Signal: 40}}}
	r.sample(wall(time.Minute), status, profiles)

	// Every event is stamped with the scenario time it was published at,
	// as the daemon does, and received on the wall clock right after.
	type received struct {
		at time.Duration // into the day
		ev api.Event
	}
	ev := func(id uint64, at time.Duration, typ string, data any) received {
		return received{at, apiEvent(t, id, scen(at), typ, data)}
	}
	events := []received{
		ev(1, 2*time.Hour, api.EventState, api.StateChange{From: "connected", To: "registering", Event: "service_lost"}),
		ev(2, 2*time.Hour+time.Minute, api.EventDecision, api.Decision{Seq: 1, Time: scen(2*time.Hour + time.Minute), Kind: "switch",
			From: str("cheap"), To: str("fallback"), Trigger: str("hard"), Reasons: []api.Reason{{Code: "no_service", Message: "no service for 1m0s"}},
			Inputs: api.Inputs{State: "registering"}}),
		ev(3, 2*time.Hour+90*time.Second, api.EventDecision, api.Decision{Seq: 2, Time: scen(2*time.Hour + 90*time.Second), Kind: "stay"}),
		ev(4, 2*time.Hour+2*time.Minute, api.EventDecision, api.Decision{Seq: 3, Time: scen(2*time.Hour + 2*time.Minute), Kind: "verified",
			From: str("cheap"), To: str("fallback"), Reasons: []api.Reason{{Code: "active"}}, Inputs: api.Inputs{State: "verifying"}}),
		ev(5, 3*time.Hour+30*time.Minute, api.EventThreat, api.Threat{Level: "critical", Scores: []api.ThreatScore{
			{Scope: "device", Score: 3, Level: "critical"}, {Scope: "profile:fallback", Score: 3, Level: "critical"}, {Scope: "plmn:26202", Score: 1, Level: "low"}}}),
		ev(6, 5*time.Hour+32*time.Minute, api.EventDecision, api.Decision{Seq: 4, Time: scen(5*time.Hour + 32*time.Minute), Kind: "suspend",
			From: str("roaming"), Trigger: str("soft"), Reasons: []api.Reason{{Code: "better_profile"}, {Code: "switching_suspended"}}}),
		// The pin's Since and the event's Time are both on the scenario
		// clock: neither is a wall time (they once moved origin by hours).
		ev(7, 9*time.Hour, api.EventPin, api.Pin{Profile: "fallback", Since: scen(9 * time.Hour), Until: api.Ptr(scen(11 * time.Hour))}),
		ev(8, 11*time.Hour, api.EventPin, nil),
		{12 * time.Hour, api.Event{ID: 9, Time: scen(12 * time.Hour), Type: api.EventLink, Data: json.RawMessage(`{"up":true}`)}},
		ev(0, 12*time.Hour, api.EventGap, api.Gap{After: 1, Oldest: 1795319675659674}),
	}
	for _, e := range events {
		if err := r.event(wall(e.at), e.ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.event(time.Time{}, api.Event{ID: 10, Type: api.EventDecision, Data: json.RawMessage(`{"kind":`)}); err == nil {
		t.Error("a broken decision: no error")
	}
	if got := r.offWall(wall(13 * time.Hour)); got < 13*time.Hour-time.Second || got > 13*time.Hour+time.Second {
		t.Errorf("the demo's own clock reads %v at 13h of the day: the end of the day would come at the wrong time", got)
	}
	r.operator(wall(9*time.Hour-time.Second), "imsictl pin fallback --for 2h: accepted")

	tl := r.timeline("t", 14*time.Hour)
	const shift = 0
	want := []Event{
		{At: 2*time.Hour - shift, Kind: KindState, State: "registering", Profile: "cheap", From: "connected", To: "registering", Text: "connected -> registering (service_lost)"},
		{At: 2*time.Hour + time.Minute - shift, Kind: KindSwitch, State: "registering", Profile: "cheap", From: "cheap", To: "fallback", Trigger: "hard",
			Reasons: []string{"no_service"}, Text: "switch cheap -> fallback, hard: no_service: no service for 1m0s", Message: "no service for 1m0s"},
		{At: 2*time.Hour + 2*time.Minute - shift, Kind: KindVerified, State: "verifying", Profile: "fallback", From: "cheap", To: "fallback",
			Reasons: []string{"active"}, Text: "verified active"},
		{At: 3*time.Hour + 30*time.Minute - shift, Kind: KindAlert, State: "registering", Profile: "fallback", Level: "critical",
			Text: "critical on profile:fallback (score 3.0); device level critical"},
		{At: 5*time.Hour + 32*time.Minute - shift, Kind: KindSuspend, Profile: "fallback", From: "roaming", Trigger: "soft",
			Reasons: []string{"better_profile", "switching_suspended"}, Text: "suspend better_profile; switching_suspended", State: "registering"},
		{At: 9*time.Hour - time.Second, Kind: KindOperator, State: "registering", Profile: "fallback", Text: "imsictl pin fallback --for 2h: accepted"},
		{At: 9 * time.Hour, Kind: KindPin, State: "registering", Profile: "fallback", To: "fallback", Text: "pinned fallback for 2h"},
		{At: 11*time.Hour - shift, Kind: KindUnpin, State: "registering", Profile: "fallback", Text: "pin released"},
	}
	approx := cmp.Comparer(func(a, b time.Duration) bool { d := a - b; return d < 50*time.Millisecond && d > -50*time.Millisecond })
	if d := cmp.Diff(want, tl.Events, approx); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if len(tl.Samples) != 1 || tl.Samples[0].Active != "cheap" || tl.Samples[0].Signal["fallback"] != 40 || *tl.Samples[0].RSRP != -88 {
		t.Errorf("samples: %+v", tl.Samples)
	}
	if d := cmp.Diff([]string{"cheap", "fallback"}, tl.Profiles); d != "" {
		t.Errorf("profiles (-want +got):\n%s", d)
	}
	lines := out.String()
	// The first event already pins the clock down.
	for _, s := range []string{
		"09:00:00  registering  cheap          connected -> registering (service_lost)",
		"09:01:00  registering  cheap          switch cheap -> fallback, hard: no_service: no service for 1m0s",
		"ALERT critical on profile:fallback",
		"OPERATOR imsictl pin fallback --for 2h: accepted",
	} {
		if !strings.Contains(lines, s) {
			t.Errorf("progress lacks %q:\n%s", s, lines)
		}
	}
	if n := strings.Count(lines, "\n"); n != len(want) {
		t.Errorf("%d progress lines, want one per event (%d):\n%s", n, len(want), lines)
	}
}

func TestCalibrateKeepsTheSmallestBound(t *testing.T) {
	launched := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := newRecorder(1000, launched, nil)
	origin := launched.Add(30 * time.Millisecond)
	// Stamped 1 h in; seen 2 ms (2 s of scenario) late, then exactly.
	r.calibrate(origin.Add(time.Hour), origin.Add(time.Hour/1000+2*time.Millisecond))
	r.calibrate(origin.Add(2*time.Hour), origin.Add(2*time.Hour/1000))
	r.calibrate(origin.Add(3*time.Hour), origin.Add(3*time.Hour/1000+5*time.Millisecond))
	if d := r.origin.Sub(origin); d > time.Microsecond || d < -time.Microsecond {
		t.Errorf("origin off by %v", d)
	}
	if got := r.offWall(origin.Add(time.Second)); got != 1000*time.Second {
		t.Errorf("offWall(1 s) = %v, want 1000 s", got)
	}
	r.calibrate(time.Time{}, origin) // no stamp: ignored
	if d := r.origin.Sub(origin); d > time.Microsecond || d < -time.Microsecond {
		t.Errorf("a zero stamp moved origin by %v", d)
	}
}
