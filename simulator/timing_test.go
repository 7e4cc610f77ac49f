package simulator

import (
	"strings"
	"testing"
	"time"
)

const drawnTiming = `dialect: quectel-eg25
seed: 7
sim:
  iccid: "89490200001234567890"
  imsis:
    - imsi: "262011234567890"
networks:
  - plmn: "26201"
    cells:
      - {rat: LTE, tac: "DE10", ci: "5A29C0B"}
timing:
  attach_delay: 5s
  attach_delay_max: 30s
  refresh_delay: 1s
  refresh_delay_max: 5s
  plmn_search: {probability: 1, min: 30s, max: 90s}
`

func drawnModem(t *testing.T, src string) *Modem {
	t.Helper()
	sc, err := ParseScenario("drawn.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(sc, WithClock(NewManualClock(testEpoch)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestDrawnTiming: attach and refresh delays drawn per attach from their
// ranges, reproducible from the seed; a full PLMN search only after the
// IMSI changed.
func TestDrawnTiming(t *testing.T) {
	draw := func() (att, ref []time.Duration) {
		m := drawnModem(t, drawnTiming)
		m.mu.Lock()
		defer m.mu.Unlock()
		m.simIMSI = "262011234567890"
		for range 50 {
			att = append(att, m.attachDelay())
			ref = append(ref, m.refreshDelay())
		}
		return att, ref
	}
	a1, r1 := draw()
	a2, r2 := draw()
	distinct := map[time.Duration]bool{}
	for i := range a1 {
		if a1[i] != a2[i] || r1[i] != r2[i] {
			t.Fatalf("draw %d differs between two modems of one seed: %v/%v %v/%v", i, a1[i], a2[i], r1[i], r2[i])
		}
		// The same IMSI every time: never a PLMN search.
		if a1[i] < 5*time.Second || a1[i] > 30*time.Second {
			t.Errorf("attach delay %v outside 5s..30s", a1[i])
		}
		if r1[i] < time.Second || r1[i] > 5*time.Second {
			t.Errorf("refresh delay %v outside 1s..5s", r1[i])
		}
		distinct[a1[i]] = true
	}
	if len(distinct) < 10 {
		t.Errorf("only %d distinct attach delays in 50 draws", len(distinct))
	}

	m := drawnModem(t, drawnTiming)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.simIMSI = "262011234567890"
	_ = m.attachDelay()
	m.simIMSI = "262019999999999"
	if d := m.attachDelay(); d < 35*time.Second || d > 120*time.Second {
		t.Errorf("attach after an IMSI change with plmn_search probability 1: %v, want 35s..120s", d)
	}
	if d := m.attachDelay(); d > 30*time.Second {
		t.Errorf("second attach on the same IMSI searched again: %v", d)
	}
}

// TestFixedTimingUnchanged: without the _max fields the delays are the
// fixed ones (existing scenarios keep their timing).
func TestFixedTimingUnchanged(t *testing.T) {
	src := strings.Replace(drawnTiming, "  attach_delay_max: 30s\n", "", 1)
	src = strings.Replace(src, "  refresh_delay_max: 5s\n", "", 1)
	src = strings.Replace(src, "  plmn_search: {probability: 1, min: 30s, max: 90s}\n", "", 1)
	m := drawnModem(t, src)
	m.mu.Lock()
	defer m.mu.Unlock()
	for range 5 {
		if d := m.attachDelay(); d != 5*time.Second {
			t.Fatalf("attach delay %v, want 5s", d)
		}
		if d := m.refreshDelay(); d != time.Second {
			t.Fatalf("refresh delay %v, want 1s", d)
		}
	}
}

func TestDrawnTimingErrors(t *testing.T) {
	for _, c := range []struct{ edit, want string }{
		{"attach_delay_max: 30s", "attach_delay_max: 3s"},
		{"refresh_delay_max: 5s", "refresh_delay_max: 500ms"},
		{"probability: 1,", "probability: 1.5,"},
		{"min: 30s, max: 90s", "min: 90s, max: 30s"},
	} {
		src := strings.Replace(drawnTiming, c.edit, c.want, 1)
		if _, err := ParseScenario("bad.yaml", []byte(src)); err == nil {
			t.Errorf("%s: accepted", c.want)
		}
	}
}
