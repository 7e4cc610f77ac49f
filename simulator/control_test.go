package simulator

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestControlAPIErrors(t *testing.T) {
	m, err := New(loadScenario(t, "basic.yaml"), WithClock(NewManualClock(testEpoch)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.TriggerFault(Fault{Kind: FaultKind(99)}); !errors.Is(err, ErrUnknown) {
		t.Errorf("bad fault kind: %v", err)
	}
	if err := m.TriggerFault(Fault{Kind: FaultGarbage, Count: -1}); err == nil {
		t.Error("negative count accepted")
	}
	if err := m.RunEvent(Event{Kind: "earthquake"}); err == nil || !strings.Contains(err.Error(), "event.event") {
		t.Errorf("bad event kind: %v", err)
	}
	if err := m.RunEvent(Event{Kind: "outage", Network: "99999"}); err == nil || !strings.Contains(err.Error(), "event.network") {
		t.Errorf("bad network: %v", err)
	}
	if _, err := ParseEvent("socket", []byte("{event: outage, netwrk: x}")); err == nil || !strings.Contains(err.Error(), "socket:1: event.netwrk: unknown key") {
		t.Errorf("ParseEvent: %v", err)
	}
	ev, err := ParseEvent("socket", []byte(`{event: outage, network: "26201", duration: 1m}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RunEvent(ev); err != nil {
		t.Fatal(err)
	}
	if st := m.Snapshot(); st.RegStat != regSearching {
		t.Errorf("after outage: stat %d", st.RegStat)
	}
	m.Advance(10 * time.Second)
	if st := m.Snapshot(); st.RegStat != regDenied || st.RejectCause != 11 || st.PLMN != "23415" {
		t.Errorf("after attach delay: %+v", st)
	}
	m.Advance(time.Minute)
	if st := m.Snapshot(); st.RegStat != regHome || st.PLMN != "26201" {
		t.Errorf("after the outage: %+v", st)
	}
	m.Close()
	if err := m.RunEvent(ev); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestUnknownDialect(t *testing.T) {
	sc := loadScenario(t, "basic.yaml")
	sc.Dialect = "nokia"
	if _, err := New(sc); !errors.Is(err, ErrUnknown) {
		t.Errorf("New: %v", err)
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}

func TestGoBuiltScenario(t *testing.T) {
	sc := &Scenario{Networks: []NetworkConfig{{PLMN: "00101", Cells: []CellConfig{{RAT: "lte", CI: 1}}}}}
	m, err := New(sc, WithClock(NewManualClock(testEpoch)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if sc.Timing.AttachDelay != 5*time.Second || sc.Dialect != "quectel-eg25" {
		t.Errorf("defaults not filled: %+v", sc.Timing)
	}
	if st := m.Snapshot(); st.SIM != "absent" || st.RegStat != regSearching {
		t.Errorf("no SIM: %+v", st)
	}
	bad := &Scenario{Networks: []NetworkConfig{{PLMN: "1"}}}
	if _, err := New(bad); err == nil || !strings.Contains(err.Error(), "networks[0].plmn") {
		t.Errorf("bad Go scenario: %v", err)
	}
}

// Snapshot says when the SIM, registration, its status and data flow last changed, to
// the instant of the change and not to the read's: benchmarks split a
// failover into the modem's phases with it.
func TestSnapshotStampsTransitions(t *testing.T) {
	m, err := New(loadScenario(t, "basic.yaml"), WithClock(NewManualClock(testEpoch)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Advance(30 * time.Second)
	before := m.Snapshot()
	if before.RegStat != regHome {
		t.Fatalf("not registered after 30 s: %+v", before)
	}
	outageAt := before.Time
	ev, err := ParseEvent("test", []byte(`{event: outage, network: "26201", duration: 1m}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RunEvent(ev); err != nil {
		t.Fatal(err)
	}
	// Within the outage the modem searched, then was rejected elsewhere:
	// the status stamp is the reject's instant, the registration's the
	// outage's.
	m.Advance(30 * time.Second)
	mid := m.Snapshot()
	if mid.RegStat != regDenied || !mid.StatSince.After(outageAt) || !mid.StatSince.Before(mid.Time) || !mid.RegSince.Equal(outageAt) {
		t.Errorf("mid-outage: stat %d since %v, not registered since %v; want a reject stamped after the outage at %v, unregistered since it",
			mid.RegStat, mid.StatSince, mid.RegSince, outageAt)
	}
	m.Advance(150 * time.Second)
	st := m.Snapshot()
	if st.RegStat != regHome {
		t.Fatalf("not back after the outage: %+v", st)
	}
	if !st.StatSince.Equal(st.RegSince) {
		t.Errorf("StatSince %v, RegSince %v: registering is one change of both", st.StatSince, st.RegSince)
	}
	back := outageAt.Add(time.Minute)
	if !st.RegSince.After(back) || !st.RegSince.Before(st.Time) {
		t.Errorf("RegSince %v: want the re-attach after the outage's end %v, before the read %v", st.RegSince, back, st.Time)
	}
	if !st.SIMSince.Equal(before.SIMSince) || st.SIMSince.After(testEpoch.Add(30*time.Second)) {
		t.Errorf("SIMSince %v moved (was %v): the outage did not touch the SIM", st.SIMSince, before.SIMSince)
	}
	if st.DataUp || !st.DataSince.Equal(outageAt) && before.DataUp {
		t.Errorf("data up %v since %v, want down since the outage at %v (no context was re-activated)", st.DataUp, st.DataSince, outageAt)
	}
}
