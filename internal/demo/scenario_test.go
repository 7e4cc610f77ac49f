package demo

import (
	"testing"
	"time"

	"github.com/imsid/imsid/simulator"
)

const storeDay = "../../simulator/scenarios/store-day.yaml"

// TestStoreDayScenario walks the store day on a manual clock and checks that
// the world does what the demo's story says, before any daemon is involved:
// the cheap network vanishes at 09:00 and is back at 14:00, the fallback
// network shows a GSM cell from 10:30 to 11:30, SINR collapses from 12:30 to
// 12:50, and the roaming IMSI registers as roaming.
func TestStoreDayScenario(t *testing.T) {
	sc, err := simulator.LoadScenario(storeDay)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 20, 7, 0, 0, 0, time.UTC)
	clk := simulator.NewManualClock(start)
	m, err := simulator.New(sc, simulator.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	at := time.Duration(0)
	advanceTo := func(d time.Duration) simulator.State {
		t.Helper()
		if d < at {
			t.Fatalf("advanceTo(%v) after %v", d, at)
		}
		// Small steps so attach delays and ramps run as they would.
		for at < d {
			step := min(10*time.Second, d-at)
			m.Advance(step)
			at += step
		}
		return m.Snapshot()
	}
	selectIMSI := func(i int) {
		t.Helper()
		if err := m.RunEvent(simulator.Event{Kind: "switch_imsi", Index: i}); err != nil {
			t.Fatal(err)
		}
	}
	registered := func(s simulator.State) bool { return s.RegStat == 1 || s.RegStat == 5 }

	// 07:30: the morning on the cheap home profile.
	s := advanceTo(30 * time.Minute)
	if !registered(s) || s.PLMN != "26201" || s.RAT != simulator.RATLTE || s.RegStat != 1 {
		t.Fatalf("07:30: want home on 26201 LTE, got stat %d on %q %s", s.RegStat, s.PLMN, s.RAT)
	}
	// 09:05: the cheap carrier is gone.
	s = advanceTo(2*time.Hour + 5*time.Minute)
	if registered(s) && s.PLMN == "26201" {
		t.Fatalf("09:05: still registered on 26201 during its outage")
	}
	// The failover target works: IMSI 1 at home on 26202, LTE.
	selectIMSI(1)
	s = advanceTo(2*time.Hour + 10*time.Minute)
	if s.RegStat != 1 || s.PLMN != "26202" || s.RAT != simulator.RATLTE {
		t.Fatalf("09:10: want IMSI 1 home on 26202 LTE, got stat %d on %q %s", s.RegStat, s.PLMN, s.RAT)
	}
	// 10:35: the catcher: 26202 now serves a strong, unknown GSM cell.
	s = advanceTo(3*time.Hour + 35*time.Minute)
	if s.PLMN != "26202" || s.RAT != simulator.RATGSM || s.CI != 0x0F1E || s.Signal.RSSI < -60 {
		t.Fatalf("10:35: want the catcher's GSM cell 0F1E on 26202, got %q %s ci %X rssi %v", s.PLMN, s.RAT, s.CI, s.Signal.RSSI)
	}
	// The escape route: IMSI 2 roams on 26203, LTE.
	selectIMSI(2)
	s = advanceTo(3*time.Hour + 45*time.Minute)
	if s.RegStat != 5 || s.PLMN != "26203" || s.RAT != simulator.RATLTE {
		t.Fatalf("10:45: want IMSI 2 roaming on 26203 LTE, got stat %d on %q %s", s.RegStat, s.PLMN, s.RAT)
	}
	// 11:35: the catcher is gone; 26202 is LTE again (checked through IMSI 1 later).
	// 12:35: jamming: SINR collapses, received power stays.
	s = advanceTo(5*time.Hour + 35*time.Minute)
	// SINR collapses, received power does not, and the cell is kept.
	if s.Signal.SINR > -5 || s.Signal.RSRP < -100 || s.RegStat != 5 {
		t.Fatalf("12:35: want roaming with SINR collapsed and RSRP steady, got stat %d SINR %v RSRP %v", s.RegStat, s.Signal.SINR, s.Signal.RSRP)
	}
	// 13:05: jamming over, roaming again.
	s = advanceTo(6*time.Hour + 5*time.Minute)
	if s.RegStat != 5 || s.PLMN != "26203" || s.Signal.SINR < 0 {
		t.Fatalf("13:05: want roaming on 26203 with SINR back, got stat %d on %q SINR %v", s.RegStat, s.PLMN, s.Signal.SINR)
	}
	// 14:10: the cheap carrier is back and takes IMSI 0 at home.
	s = advanceTo(7*time.Hour + 5*time.Minute)
	selectIMSI(0)
	s = advanceTo(7*time.Hour + 10*time.Minute)
	if s.RegStat != 1 || s.PLMN != "26201" || s.RAT != simulator.RATLTE {
		t.Fatalf("14:10: want IMSI 0 home on 26201 LTE, got stat %d on %q %s", s.RegStat, s.PLMN, s.RAT)
	}
	// 16:05: the fallback the operator pins is healthy LTE again.
	s = advanceTo(9*time.Hour + 5*time.Minute)
	selectIMSI(1)
	s = advanceTo(9*time.Hour + 10*time.Minute)
	if s.RegStat != 1 || s.PLMN != "26202" || s.RAT != simulator.RATLTE || s.CI != 0x3089F02 {
		t.Fatalf("16:10: want IMSI 1 home on 26202's LTE cell, got stat %d on %q %s ci %X", s.RegStat, s.PLMN, s.RAT, s.CI)
	}
	// Closing time: nothing left on the timeline breaks the evening.
	s = advanceTo(DayLength)
	if !registered(s) {
		t.Fatalf("21:00: not registered (stat %d)", s.RegStat)
	}
}

// TestStoreDayEpisodes keeps the picture's labels in step with the file.
func TestStoreDayEpisodes(t *testing.T) {
	sc, err := simulator.LoadScenario(storeDay)
	if err != nil {
		t.Fatal(err)
	}
	type span struct {
		kind, network string
		from, to      time.Duration
	}
	var got []span
	for _, ev := range sc.Timeline {
		got = append(got, span{ev.Kind, ev.Network, ev.At, ev.At + ev.Duration})
	}
	has := func(s span) bool {
		for _, g := range got {
			if g == s {
				return true
			}
		}
		return false
	}
	want := []span{
		{"outage", "26201", StoreDayEpisodes[0].From, StoreDayEpisodes[0].To},
		{"cell", "26202", StoreDayEpisodes[1].From, StoreDayEpisodes[1].To},
		{"jamming", "", StoreDayEpisodes[2].From, StoreDayEpisodes[2].To},
	}
	for _, w := range want {
		if !has(w) {
			t.Errorf("store-day.yaml has no %s on %q from %v to %v (StoreDayEpisodes says so); timeline: %+v", w.kind, w.network, w.from, w.to, got)
		}
	}
}
