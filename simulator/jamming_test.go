package simulator

import (
	"os"
	"strings"
	"testing"
	"time"
)

// Under jamming the modem keeps measuring the cell it was on, not the
// strongest one it hears: the threat engine compares each cell with its own
// history, so jumping to another network's cell would hide the collapse.
// Power leaving that cell (outage, fade) ends the report; the modem does
// not pick up another jammed cell it never decoded.
func TestJammingKeepsCampedCell(t *testing.T) {
	b, err := os.ReadFile("scenarios/jamming.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The vodafone UK IMSI: home on 23415 (-95 dBm) although 26201 is
	// stronger (-88 dBm).
	text := strings.Replace(string(b), "active_imsi: 0", "active_imsi: 1", 1)
	sc, err := ParseScenario("jamming-roam", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(sc, WithClock(NewManualClock(testEpoch)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if st := m.Snapshot(); st.RegStat != regHome || st.PLMN != "23415" {
		t.Fatalf("before: %+v", st)
	}
	m.Advance(61 * time.Second)
	st := m.Snapshot()
	if st.RegStat != regSearching {
		t.Fatalf("jammed: stat %d, want searching", st.RegStat)
	}
	want := Radio{RSRP: -95, RSRQ: -19.5, SINR: -15, RSSI: -66}
	if st.Signal != want {
		t.Fatalf("jammed: signal %+v, want the camped 23415 cell %+v", st.Signal, want)
	}
	// The camped cell going off the air ends the report, although 26201's
	// (jammed) power is still heard.
	if err := m.RunEvent(Event{Kind: "outage", Network: "23415"}); err != nil {
		t.Fatal(err)
	}
	if st := m.Snapshot(); st.Signal != (Radio{}) {
		t.Fatalf("camped cell gone: signal %+v, want none", st.Signal)
	}
	// The jamming ends (3 min after its start): 26201 is decodable again
	// and measured (it denies this IMSI; that is not the point here).
	m.Advance(3*time.Minute + 10*time.Second)
	if st := m.Snapshot(); st.RegStat == regSearching || st.Signal.SINR != 15 {
		t.Fatalf("after the jamming: %+v", st)
	}
}
