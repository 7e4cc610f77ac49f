package netlab

import (
	"reflect"
	"testing"

	"github.com/imsid/imsid/simulator"
)

func TestWant(t *testing.T) {
	carriers := map[string]bool{"26201": true, "23415": true}
	for _, tc := range []struct {
		name     string
		s        simulator.State
		needCall bool
		want     LinkState
	}{
		{"registered home", simulator.State{CFUN: 1, RegStat: 1, PLMN: "26201"}, false, LinkState{Carrier: "26201", Up: true}},
		{"roaming", simulator.State{CFUN: 1, RegStat: 5, PLMN: "23415"}, false, LinkState{Carrier: "23415", Up: true}},
		{"searching", simulator.State{CFUN: 1, RegStat: 2, PLMN: "26201"}, false, LinkState{}},
		{"radio off", simulator.State{CFUN: 0, RegStat: 1, PLMN: "26201"}, false, LinkState{}},
		{"unknown carrier", simulator.State{CFUN: 1, RegStat: 1, PLMN: "310260"}, false, LinkState{}},
		{"core outage", simulator.State{CFUN: 1, RegStat: 1, PLMN: "26201", CoreDown: true}, false, LinkState{Carrier: "26201", Up: true, Drop: true}},
		{"ecm without call", simulator.State{CFUN: 1, RegStat: 1, PLMN: "26201"}, true, LinkState{Carrier: "26201"}},
		{"ecm with call", simulator.State{CFUN: 1, RegStat: 1, PLMN: "26201", DataCall: true}, true, LinkState{Carrier: "26201", Up: true}},
	} {
		if got := Want(tc.s, carriers, tc.needCall); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestPlan(t *testing.T) {
	a, b := "26201", "23415"
	for _, tc := range []struct {
		name      string
		cur, want LinkState
		acts      []Action
	}{
		{"first registration", LinkState{}, LinkState{Carrier: a, Up: true}, []Action{{OpMove, a, ""}, {OpUp, a, ""}}},
		{"steady", LinkState{Carrier: a, Up: true}, LinkState{Carrier: a, Up: true}, nil},
		{"outage", LinkState{Carrier: a, Up: true}, LinkState{}, []Action{{OpDown, a, ""}}},
		{"outage while dropping", LinkState{Carrier: a, Up: true, Drop: true}, LinkState{}, []Action{{OpUndrop, a, ""}, {OpDown, a, ""}}},
		{"restore", LinkState{Carrier: a}, LinkState{Carrier: a, Up: true}, []Action{{OpUp, a, ""}}},
		{"core outage", LinkState{Carrier: a, Up: true}, LinkState{Carrier: a, Up: true, Drop: true}, []Action{{OpDrop, a, ""}}},
		{"core restore", LinkState{Carrier: a, Up: true, Drop: true}, LinkState{Carrier: a, Up: true}, []Action{{OpUndrop, a, ""}}},
		{"switch", LinkState{Carrier: a, Up: true}, LinkState{Carrier: b, Up: true}, []Action{{OpMove, b, a}, {OpUp, b, ""}}},
		{"switch away from a core outage", LinkState{Carrier: a, Up: true, Drop: true}, LinkState{Carrier: b, Up: true},
			[]Action{{OpUndrop, a, ""}, {OpMove, b, a}, {OpUp, b, ""}}},
		{"switch before the data call", LinkState{Carrier: a, Up: true}, LinkState{Carrier: b}, []Action{{OpMove, b, a}}},
		{"nowhere yet", LinkState{}, LinkState{}, nil},
	} {
		got := Plan(tc.cur, tc.want)
		if !reflect.DeepEqual(got, tc.acts) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.acts)
		}
		// Applying the plan reaches what was wanted (an outage keeps the far end where it was).
		want := tc.want
		if want.Carrier == "" {
			want = LinkState{Carrier: tc.cur.Carrier}
		}
		if end := Apply(tc.cur, got); end != want {
			t.Errorf("%s: plan ends at %+v, want %+v", tc.name, end, want)
		}
	}
}
