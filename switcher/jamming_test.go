package switcher_test

import (
	"os"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/threat"
)

// jammingTimeline is the timeline of simulator/scenarios/jamming.yaml as
// written there (SINR −15 dB from 60 s after boot for 3 min, power steady),
// to splice into the scenario tests' base world: the literal pattern, not a
// softened one.
func jammingTimeline(t *testing.T) (string, time.Duration) {
	t.Helper()
	b, err := os.ReadFile("../simulator/scenarios/jamming.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var sc struct {
		Timeline []map[string]any `yaml:"timeline"`
	}
	if err := yaml.Unmarshal(b, &sc); err != nil {
		t.Fatalf("jamming.yaml: %v", err)
	}
	if len(sc.Timeline) != 1 || sc.Timeline[0]["event"] != "jamming" {
		t.Fatalf("jamming.yaml: want one jamming event, got %v", sc.Timeline)
	}
	at, err := time.ParseDuration(sc.Timeline[0]["at"].(string))
	if err != nil {
		t.Fatalf("jamming.yaml at: %v", err)
	}
	out, err := yaml.Marshal(sc.Timeline)
	if err != nil {
		t.Fatal(err)
	}
	return string(out), at
}

// threatWatch records what the real threat engine said about D8.
type threatWatch struct {
	d8At     time.Time
	alerted  bool
	d8Rule   string
	detector []threat.DetectorID
}

func (tw *threatWatch) option() switcher.Option {
	return switcher.WithOnThreat(func(r threat.Result) {
		for _, f := range r.Findings {
			tw.detector = append(tw.detector, f.Detector)
			if f.Detector == threat.D8 && tw.d8At.IsZero() {
				tw.d8At, tw.d8Rule = r.At, f.Rule
			}
		}
		for _, a := range r.Alerts {
			tw.alerted = tw.alerted || a.Finding.Detector == threat.D8
		}
	})
}

func realEngine(t *testing.T) switcher.Option {
	t.Helper()
	eng, err := threat.New(switcher.ThreatConfig(loadCfg(t, "sim.yaml")), nil)
	if err != nil {
		t.Fatal(err)
	}
	return switcher.WithThreat(eng)
}

// The literal jamming.yaml pattern: the modem drops registration at once,
// but, as in limited service, keeps reporting the camped cell's strong
// power with SINR/RSRQ collapsed. D8 must see that within the reference's
// 90 s, suspend switching and alert, and no profile switch may happen
// although the no-service trigger (1 min) runs out during the jamming.
func TestJammingLiteralPatternSuspends(t *testing.T) {
	timeline, onsetAt := jammingTimeline(t)
	var tw threatWatch
	withWorld(t, timeline, func(w *world) {
		start := time.Now()
		onset := start.Add(onsetAt)
		w.run(onsetAt - 5*time.Second)
		w.wantOn("home")
		// Two minutes into the three of jamming: well past the no-service
		// trigger.
		w.run(2*time.Minute + 5*time.Second)
		if tw.d8At.IsZero() || tw.d8At.Sub(onset) > 90*time.Second {
			w.t.Fatalf("D8 at %v, want within 90 s of the onset %v (findings %v):\n%s",
				tw.d8At, onset, tw.detector, dump(w.s.Decisions(0, 0)))
		}
		w.t.Logf("D8 (%s) %v after the onset", tw.d8Rule, tw.d8At.Sub(onset))
		if !tw.alerted {
			w.t.Error("no D8 alert upstream")
		}
		if st := w.s.Status(); st.Active != "home" || !st.Suspended {
			w.t.Fatalf("not suspended on home under jamming: %+v\n%s", st, dump(w.s.Decisions(0, 0)))
		}
		if d, ok := w.last(switcher.KindSuspend); !ok || !d.Has(switcher.CodeSuspended) {
			w.t.Fatalf("no suspend decision:\n%s", dump(w.s.Decisions(0, 0)))
		}
		if snap := w.sim.Snapshot(); snap.RegStat == 1 || snap.Signal.RSRP < -105 || snap.Signal.SINR > 0 {
			w.t.Fatalf("the simulator is not jammed in limited service: %+v", snap)
		}
		// The jamming ends at 4 min; the modem registers on home again by
		// itself, and nothing has switched. (Data coming back afterwards is
		// the switcher's recovery after any loss of service, not D8's
		// business, so it is not asserted here.)
		w.run(3 * time.Minute)
		if _, ok := w.last(switcher.KindSwitch); ok {
			w.t.Fatalf("a profile switch under jamming:\n%s", dump(w.s.Decisions(0, 0)))
		}
		if snap := w.sim.Snapshot(); snap.RegStat != 1 || snap.PLMN != "310260" {
			w.t.Fatalf("after the jamming the modem is not back on home: %+v", snap)
		}
		if st := w.s.Status(); st.Active != "home" {
			w.t.Fatalf("active %q after the jamming, want home", st.Active)
		}
	}, realEngine(t), tw.option())
}

// Control: a carrier outage at the same moment takes the power with the
// quality. D8 must stay silent (no signal is no evidence) and the switcher
// must fail over as it would without a threat engine.
func TestJammingControlCarrierOutageFailsOver(t *testing.T) {
	_, onsetAt := jammingTimeline(t)
	var tw threatWatch
	withWorld(t, `
  - {at: `+onsetAt.String()+`, event: outage, network: "310260", duration: 3m}
`, func(w *world) {
		w.run(onsetAt - 5*time.Second)
		w.wantOn("home")
		w.run(2*time.Minute + 5*time.Second)
		if !tw.d8At.IsZero() {
			w.t.Fatalf("D8 fired on a carrier outage at %v:\n%s", tw.d8At, dump(w.s.Decisions(0, 0)))
		}
		if st := w.s.Status(); st.Suspended {
			w.t.Fatalf("switching suspended on a carrier outage: %+v", st)
		}
		w.wantOn("roam")
		d, ok := w.last(switcher.KindSwitch)
		if !ok || !d.Has(switcher.CodeNoService) || d.Trigger != switcher.TriggerHard {
			w.t.Fatalf("switch %+v\n%s", d, dump(w.s.Decisions(0, 0)))
		}
	}, realEngine(t), tw.option())
}

// A jammer that leaves the cell's power and collapses SINR for a few
// minutes, with the modem still registered (D8b). The polls before the
// finding measured the jammer, not the network: once the jammer is gone
// the active profile's signal score is what it was before, not dragged
// down for minutes by the smoothing (make demo switched away for signal
// right after its jamming hour and came back ten minutes later).
func TestJammingLeavesNoScarOnTheSignal(t *testing.T) {
	// Home at SINR 4 dB (on the slope of the score, not saturated), then
	// a jammer that leaves it registered.
	const timeline = "- {at: 10s, event: signal, network: \"310260\", signal: {rsrp: -95, sinr: 4}, over: 1s}\n" +
		"- {at: 10m, event: jamming, sinr: -7, duration: 5m}\n"
	withWorld(t, timeline, func(w *world) {
		w.run(10*time.Minute - 5*time.Second)
		w.wantOn("home")
		before := scoreOf(w.s, "home").Signal
		w.run(5*time.Minute + 5*time.Second) // through the jamming
		if st := w.s.Status(); !st.Suspended {
			w.t.Fatalf("no suspension under jamming: %+v\n%s", st, dump(w.s.Decisions(0, 0)))
		}
		w.run(jamHoldForTest + 20*time.Second) // the suspension lapses
		after := scoreOf(w.s, "home").Signal
		w.t.Logf("home's signal score %.1f before the jamming, %.1f after", before, after)
		if after < before-1 {
			w.t.Errorf("home's signal score %.1f after the jamming, %.1f before: the jammed polls are still in it", after, before)
		}
		if _, ok := w.last(switcher.KindSwitch); ok {
			w.t.Errorf("a switch around the jamming:\n%s", dump(w.s.Decisions(0, 0)))
		}
	}, realEngine(t))
}

const jamHoldForTest = 2 * time.Minute // switcher's jamHold
