package demo

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	h = time.Hour
	m = time.Minute
)

func sample(at time.Duration, active, threat string) Sample {
	return Sample{At: at, Active: active, State: "connected", LinkUp: true, Threat: threat, Signal: map[string]float64{}}
}

func state(at time.Duration, to string) Event { return Event{At: at, Kind: KindState, To: to} }

// recordedDay is a store day as the runner records it, cut down to what
// the summary reads.
func recordedDay() Timeline {
	return Timeline{
		End:      14 * h,
		Profiles: []string{"cheap", "fallback", "roaming"},
		Tariffs: map[string]Tariff{
			"cheap":    {PerMB: 0.002, Currency: "EUR"},
			"fallback": {PerMB: 0.008, Currency: "EUR"},
			"roaming":  {PerMB: 0.014, Currency: "EUR"},
		},
		Usage: map[string]int64{"cheap": 20e6, "fallback": 10e6, "roaming": 5e6},
		Samples: []Sample{
			sample(0, "", "none"),
			sample(1*m, "cheap", "none"),
			sample(2*h+30*m, "fallback", "none"),
			sample(3*h+30*m, "fallback", "critical"),
			sample(3*h+31*m, "roaming", "medium"),
			sample(4*h, "roaming", "none"),
			sample(7*h, "roaming", "none"),
			sample(8*h, "cheap", "none"),
		},
		Events: []Event{
			state(0, "probing"),
			state(1*m, "connected"),
			state(2*h, "registering"), // the outage: 2 minutes down
			{At: 2*h + 1*m, Kind: KindSwitch, From: "cheap", To: "fallback", Trigger: "hard", Reasons: []string{"no_service"}},
			state(2*h+1*m, "switching"),
			{At: 2*h + 2*m, Kind: KindVerified, To: "fallback"},
			state(2*h+2*m, "connected"),
			{At: 3*h + 30*m, Kind: KindAlert, Level: "critical", Text: "critical on cell"},
			{At: 3*h + 30*m, Kind: KindSwitch, From: "fallback", To: "roaming", Trigger: "threat", Reasons: []string{"threat_critical"}},
			state(3*h+30*m, "switching"),
			{At: 3*h + 31*m, Kind: KindVerified, To: "roaming"},
			state(3*h+31*m, "connected"),
			{At: 5*h + 30*m, Kind: KindAlert, Level: "medium", Text: "jamming"},
			{At: 5*h + 32*m, Kind: KindSuspend, Trigger: "soft"},
			state(5*h+33*m, "degraded"), // still carrying traffic
			state(5*h+50*m, "connected"),
			{At: 7*h + 5*m, Kind: KindSwitch, From: "roaming", To: "cheap", Trigger: "soft", Reasons: []string{"better_profile"}},
			state(7*h+5*m, "switching"),
			{At: 7*h + 6*m, Kind: KindVerified, To: "cheap"},
			state(7*h+6*m, "connected"),
			{At: 9 * h, Kind: KindOperator, Text: "imsictl pin fallback --for 2h: accepted"},
		},
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   func() Timeline
		want Summary
	}{
		{
			name: "store day",
			in:   recordedDay,
			want: Summary{
				Day: 14 * h,
				Profiles: []ProfileSummary{
					// The samples, sharpened by the verifications: cheap from
					// 1m to 2h2m and from 7h6m; fallback to 3h31m; roaming.
					{Profile: "cheap", Active: 2*h + 1*m + 6*h + 54*m, UsedBytes: 20e6, Cost: 0.04, Currency: "EUR"},
					{Profile: "fallback", Active: 1*h + 29*m, UsedBytes: 10e6, Cost: 0.08, Currency: "EUR"},
					{Profile: "roaming", Active: 3*h + 35*m, UsedBytes: 5e6, Cost: 0.07, Currency: "EUR"},
				},
				Switches: []SwitchSummary{
					{At: 2*h + 1*m, Kind: KindSwitch, From: "cheap", To: "fallback", Trigger: "hard", Reasons: []string{"no_service"}},
					{At: 3*h + 30*m, Kind: KindSwitch, From: "fallback", To: "roaming", Trigger: "threat", Reasons: []string{"threat_critical"}},
					{At: 7*h + 5*m, Kind: KindSwitch, From: "roaming", To: "cheap", Trigger: "soft", Reasons: []string{"better_profile"}},
				},
				HeldBack: 1,
				// The 2m outage, then 1m for each later switch; degraded
				// still carries traffic.
				Downtime:  2*m + 1*m + 1*m,
				Outages:   3,
				Alerts:    []AlertSummary{{At: 3*h + 30*m, Level: "critical", Text: "critical on cell"}, {At: 5*h + 30*m, Level: "medium", Text: "jamming"}},
				Pins:      []string{"16:00:00 imsictl pin fallback --for 2h: accepted"},
				TotalCost: 0.19,
				Currency:  "EUR",
				MaxThreat: "critical",
			},
		},
		{
			name: "empty day",
			in:   func() Timeline { return Timeline{End: time.Hour} },
			want: Summary{Day: time.Hour, Switches: []SwitchSummary{}, Alerts: []AlertSummary{}, Pins: []string{}, MaxThreat: "none"},
		},
		{
			name: "never connected: no downtime counted, no tariffs: no cost",
			in: func() Timeline {
				return Timeline{End: time.Hour, Profiles: []string{"a"}, Usage: map[string]int64{"a": 1e6},
					Samples: []Sample{{At: 0, State: "registering"}}, Events: []Event{state(0, "registering"), state(30*m, "failed")}}
			},
			want: Summary{Day: time.Hour, Profiles: []ProfileSummary{{Profile: "a", UsedBytes: 1e6}},
				Switches: []SwitchSummary{}, Alerts: []AlertSummary{}, Pins: []string{}, MaxThreat: "none"},
		},
		{
			name: "down at the end of the day counts to the end; samples when no state events",
			in: func() Timeline {
				return Timeline{End: 2 * time.Hour, Profiles: []string{"a", "b"}, Samples: []Sample{
					{At: 0, Active: "a", LinkUp: true, Threat: "low"},
					{At: 30 * m, Active: "b", LinkUp: true, Threat: "high"},
					{At: 90 * m, Active: "b", LinkUp: false},
				}}
			},
			want: Summary{Day: 2 * time.Hour, Profiles: []ProfileSummary{{Profile: "a", Active: 30 * m}, {Profile: "b", Active: 90 * m}},
				Switches: []SwitchSummary{}, Alerts: []AlertSummary{}, Pins: []string{}, Downtime: 30 * m, Outages: 1, MaxThreat: "high"},
		},
		{
			name: "a profile the list does not name still gets its time; rollback counts as a switch",
			in: func() Timeline {
				return Timeline{End: time.Hour, Profiles: []string{"a"}, Samples: []Sample{{At: 0, Active: "a"}},
					Events: []Event{{At: 20 * m, Kind: KindRollback, From: "x", To: "x"}}}
			},
			want: Summary{Day: time.Hour, Profiles: []ProfileSummary{{Profile: "a", Active: 20 * m}, {Profile: "x", Active: 40 * m}},
				Switches: []SwitchSummary{{At: 20 * m, Kind: KindRollback, From: "x", To: "x"}}, Alerts: []AlertSummary{}, Pins: []string{}, MaxThreat: "none"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Summarize(tc.in())
			opt := cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })
			if d := cmp.Diff(tc.want, got, opt); d != "" {
				t.Errorf("Summarize (-want +got):\n%s", d)
			}
		})
	}
}

func TestSummaryTable(t *testing.T) {
	var b bytes.Buffer
	if err := Summarize(recordedDay()).WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Store day summary (07:00 to 21:00)",
		"cheap", "8h55m", "0.04 EUR", "0.19 EUR",
		"Switches (3)", "09:01  switch  cheap -> fallback", "hard    no_service",
		"(1 more held back",
		"Downtime    4m00s in 3 outage(s)",
		"Max threat  critical",
		"Alerts      2", "10:30  critical critical on cell",
		"Operator    16:00:00 imsictl pin fallback --for 2h: accepted",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestClockTime(t *testing.T) {
	for in, want := range map[time.Duration]string{0: "07:00:00", 2*h + 1*m + 5*time.Second: "09:01:05", 14 * h: "21:00:00", -time.Hour: "06:00:00", 18 * h: "01:00:00"} {
		if got := ClockTime(in); got != want {
			t.Errorf("ClockTime(%v) = %q, want %q", in, got, want)
		}
	}
}
