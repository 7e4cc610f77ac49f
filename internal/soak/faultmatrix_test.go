package soak

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/daemon"
	"github.com/imsid/imsid/internal/store"
	"github.com/imsid/imsid/internal/upstream"
	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/simulator"
)

// Every kind the simulator knows is in the matrix and has a stated bound:
// a new kind cannot be skipped silently.
func TestFaultKindsHaveBounds(t *testing.T) {
	kinds := FaultKinds()
	if len(kinds) < 8 {
		t.Fatalf("FaultKinds() = %v: the simulator has at least 8", kinds)
	}
	for _, k := range kinds {
		if b, ok := Bounds[k.String()]; !ok || b.Wall <= 0 || b.Scenario <= 0 || b.Why == "" {
			t.Errorf("fault kind %s has no stated bound in soak.Bounds", k)
		}
	}
	if err := CheckMatrix([]FaultResult{{Kind: "new_kind", Recovered: true}}); err == nil || !strings.Contains(err.Error(), "no stated recovery bound") {
		t.Errorf("a kind without a bound: %v", err)
	}
	b := Bound{Wall: 3 * time.Second, Scenario: 30 * time.Second}
	if b.At(10) != 6*time.Second || b.At(1) != 33*time.Second {
		t.Errorf("At(10) = %s, At(1) = %s: want 6s and 33s", b.At(10), b.At(1))
	}
	slow := FaultResult{Kind: "reset", Speed: 10, Recovered: true, Recovery: 20 * time.Second}
	if err := CheckMatrix([]FaultResult{slow}); err == nil || !strings.Contains(err.Error(), "beyond the bound") {
		t.Errorf("a recovery beyond the bound: %v", err)
	}
}

func TestMeasureRecovery(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	p := func(ms int, ok bool) poll { return poll{wall: at(ms), scen: at(10 * ms), healthy: ok} }
	c := func(ms int, ok bool) cmdDone { return cmdDone{wall: at(ms), ok: ok} }
	for _, tc := range []struct {
		name      string
		polls     []poll
		cmds      []cmdDone
		noticed   bool
		recovered bool
		recovery  time.Duration
	}{
		{"unnoticed", []poll{p(50, true), p(100, true)}, []cmdDone{c(20, true)}, false, true, 0},
		// Healthy at 3.05 s, but the command that proves it came at 3.1 s.
		{"command timeout", []poll{p(50, true), p(3050, true), p(3100, true), p(3150, true)},
			[]cmdDone{c(3000, false), c(3100, true)}, true, true, 3100 * time.Millisecond},
		{"status left healthy", []poll{p(50, false), p(100, false), p(150, true)},
			[]cmdDone{c(120, true)}, true, true, 150 * time.Millisecond},
		// Healthy only because nothing has been asked since the fault.
		{"unproven", []poll{p(50, true), p(100, true)}, nil, false, false, 0},
		{"never back", []poll{p(50, false), p(100, true), p(150, false)}, []cmdDone{c(120, true)}, true, false, 0},
		// Healthy again but no command has succeeded since the failure.
		{"no proof", []poll{p(50, true), p(100, true)}, []cmdDone{c(60, false)}, true, false, 0},
	} {
		var r FaultResult
		r.measureRecovery(t0, t0, tc.polls, tc.cmds)
		if r.Noticed != tc.noticed || r.Recovered != tc.recovered || r.Recovery != tc.recovery {
			t.Errorf("%s: noticed %t recovered %t in %s, want %t %t %s", tc.name, r.Noticed, r.Recovered, r.Recovery,
				tc.noticed, tc.recovered, tc.recovery)
		}
		if tc.recovered && r.RecoveryScen != 10*r.Recovery {
			t.Errorf("%s: scenario recovery %s, want %s", tc.name, r.RecoveryScen, 10*r.Recovery)
		}
	}
}

func TestWireFailure(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&modem.OpError{Cmd: "AT+CSQ", Err: modem.ErrTimeout}, true},
		{&modem.OpError{Cmd: "AT+CSQ", Err: modem.ErrPortLost}, true},
		{&modem.OpError{Cmd: "AT+C5GREG?", Err: modem.ErrError}, false},
		{errors.New("other"), false},
	} {
		if got := wireFailure(tc.err); got != tc.want {
			t.Errorf("wireFailure(%v) = %t", tc.err, got)
		}
	}
}

// The lost-event check catches a decision missing from the store, a link
// change missing upstream, and events out of order.
func TestCheckEvents(t *testing.T) {
	dec := func(seq uint64, kind string) json.RawMessage {
		b, _ := json.Marshal(decisionRef{Seq: seq, Kind: kind})
		return b
	}
	event := func(typ upstream.EventType, data any) upstream.Event {
		ev, err := upstream.NewEvent("dev", typ, time.Now(), data)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	up := event(upstream.TypeLinkChanged, upstream.LinkChanged{Up: true, Reason: "registered"})
	down := event(upstream.TypeLinkChanged, upstream.LinkChanged{Up: false, Reason: "modem_lost"})
	alert := event(upstream.TypeThreatAlert, map[string]string{"rule": "D3"})
	prog := []daemon.Progress{
		{Kind: "state", State: "registering", Code: "sim_ready"},
		{Kind: "state", State: "connected", Code: "registered"},
		{Kind: "threat", Code: "D3"},
		{Kind: "state", State: "modem_lost", Code: "modem_lost"},
	}
	decs := []decisionRef{{Seq: 1, Kind: "stay"}, {Seq: 2, Kind: "recover"}}
	for _, tc := range []struct {
		name      string
		stored    []json.RawMessage
		delivered []upstream.Event
		queued    []upstream.Event
		want      string // "" = nothing lost
	}{
		{"all there", []json.RawMessage{dec(1, "stay"), dec(2, "recover")}, []upstream.Event{up, alert}, []upstream.Event{down}, ""},
		{"delivered twice", []json.RawMessage{dec(1, "stay"), dec(2, "recover")}, []upstream.Event{up, up, alert, down}, nil, ""},
		{"decision missing", []json.RawMessage{dec(1, "stay")}, []upstream.Event{up, alert, down}, nil, "missing from the store"},
		{"decision gap", []json.RawMessage{dec(1, "stay"), dec(3, "recover")}, []upstream.Event{up, alert, down}, nil, "a gap"},
		{"link change missing", []json.RawMessage{dec(1, "stay"), dec(2, "recover")}, []upstream.Event{up, alert}, nil, "first missing: link up=false"},
		{"out of order", []json.RawMessage{dec(1, "stay"), dec(2, "recover")}, []upstream.Event{alert, up, down}, nil, "out of order"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st, err := store.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range tc.stored {
				if _, err := st.AppendDecision(d); err != nil {
					t.Fatal(err)
				}
			}
			for _, ev := range tc.queued {
				b, _ := json.Marshal(ev)
				if _, err := st.Enqueue(b); err != nil {
					t.Fatal(err)
				}
			}
			st.Close()
			var r FaultResult
			r.checkEvents(dir, decs, prog, tc.delivered)
			got := strings.Join(r.Lost, "; ")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("lost %q, want %q", got, tc.want)
			}
			if tc.want == "" && (r.DecisionsChecked != 2 || r.EventsChecked != 3) {
				t.Errorf("checked %d decisions and %d events, want 2 and 3", r.DecisionsChecked, r.EventsChecked)
			}
		})
	}
}

// TestFaultMatrixShort is the daemon-level fault matrix in miniature (`make
// test`; -short skips it): the faults that need no driver timeout, plus
// late_answer (one 3 s budget), one seed each, at 30x. Each must recover
// within its stated bound with no switch, leak, panic or lost event. The
// full matrix is `go run ./internal/soak/cmd/faultmatrix`.
func TestFaultMatrixShort(t *testing.T) {
	if testing.Short() {
		t.Skip("about 15 s of real time; skipped with -short (the faultmatrix command runs the full matrix)")
	}
	kinds := []simulator.FaultKind{simulator.FaultLateAnswer, simulator.FaultGarbage, simulator.FaultReset, simulator.FaultPortLoss}
	rs, err := RunMatrix(t.Context(), MatrixOptions{
		FaultOptions: FaultOptions{
			Scenario: "../../simulator/scenarios/store-day.yaml",
			StateDir: t.TempDir(),
			Speed:    30,
			Window:   time.Minute,
			Stable:   30 * time.Second,
			Cap:      time.Minute,
		},
		Kinds: kinds,
		Seeds: []int64{1},
		Progress: func(r FaultResult) {
			t.Logf("%s seed %d (after %s): noticed %t, recovered %t in %s (scenario %s), %d failed commands, states %v, decisions %v",
				r.Kind, r.Seed, r.After, r.Noticed, r.Recovered, r.Recovery.Round(10*time.Millisecond), r.RecoveryScen.Round(100*time.Millisecond),
				r.CmdErrors, r.States, r.Decisions)
			if r.Leftover != "" {
				t.Logf("goroutines left:\n%s", r.Leftover)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	WriteMatrix(&b, rs)
	t.Log("\n" + b.String())
	if err := CheckMatrix(rs); err != nil {
		t.Error(err)
	}
	if len(rs) != len(kinds) {
		t.Errorf("%d runs for %d kinds", len(rs), len(kinds))
	}
}
