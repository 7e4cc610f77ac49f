package daemon

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/switcher/threat"
)

func d1aFinding(at time.Time, ci uint64) threat.Finding {
	plmn, _ := modem.ParsePLMN("26201")
	return threat.Finding{At: at, Detector: threat.D1, Rule: "D1a", Severity: threat.SeverityCritical,
		Scope:   threat.Scope{Kind: threat.ScopeCell, PLMN: plmn, Cell: threat.CellKey{PLMN: plmn, CI: ci}},
		Message: "registered on 2G although the profile's policy is LTE/NR only",
		Response: threat.Response{Level: threat.SeverityCritical, Actions: threat.ActLeaveNow,
			Quarantine: []threat.Quarantine{{Scope: threat.Scope{Kind: threat.ScopeCell, Cell: threat.CellKey{PLMN: plmn, CI: ci}}, TTL: time.Hour}}}}
}

func TestFindingSentenceNamesRATNetworkCell(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	plmn, _ := modem.ParsePLMN("26201")
	tac, ci, rssi := uint32(0xde10), uint64(0xf1e), modem.DBm(-51)
	obs := threat.Observation{At: t0, Serving: &modem.ServingCell{Tech: modem.TechGSM, PLMN: plmn, Area: &tac, CellID: &ci,
		Signal: modem.Signal{RSSI: &rssi}}, Operator: &modem.Operator{PLMN: plmn, Name: "Telekom.de"}}
	b := newFindingBook(10 * time.Minute)
	b.add(obs, []threat.Finding{d1aFinding(t0, ci)})
	b.add(obs, []threat.Finding{d1aFinding(t0.Add(10*time.Second), ci)})
	fs := b.list(t0.Add(time.Minute))
	if len(fs) != 1 {
		t.Fatalf("%d findings, want 1 folded: %+v", len(fs), fs)
	}
	f := fs[0]
	for _, w := range []string{"D1a (critical)", "on 2G (GSM)", "network 26201 (Telekom.de)", "TAC DE10", "cell F1E", "RSSI -51 dBm", "2 times in 10s"} {
		if !strings.Contains(f.Sentence, w) {
			t.Errorf("sentence lacks %q: %s", w, f.Sentence)
		}
	}
	if f.Scope != "cell:26201/F1E" || !f.Active || f.Count != 2 || !f.FirstSeen.Equal(t0) {
		t.Errorf("finding %+v", f)
	}
	if got := strings.Join(f.Response, ","); got != "leave_now,quarantine cell:26201/F1E for 1h" {
		t.Errorf("response %q", got)
	}
	// A threat decision carries the top finding; the finding names it.
	ref := b.decided(7, t0.Add(time.Minute))
	if ref == nil || ref.Sentence != f.Sentence || b.refOf(7) == nil {
		t.Fatalf("decision ref %+v", ref)
	}
	if fs := b.list(t0.Add(time.Minute)); fs[0].DecisionSeq == nil || *fs[0].DecisionSeq != 7 {
		t.Errorf("finding not linked to decision 7")
	}
	// Past the window it is recent, not active, and no longer the top.
	later := t0.Add(11 * time.Minute)
	if fs := b.list(later); fs[0].Active || b.top(later) != nil {
		t.Errorf("still active after the window: %+v", fs[0])
	}
	// Past the keep period it is gone.
	if fs := b.list(t0.Add(findingsKeep + time.Minute)); len(fs) != 0 {
		t.Errorf("kept beyond %s: %+v", findingsKeep, fs)
	}
}

func TestFindingsBoundedByCount(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	b := newFindingBook(time.Hour)
	for i := range maxFindings * 3 {
		b.add(threat.Observation{At: t0}, []threat.Finding{d1aFinding(t0.Add(time.Duration(i)*time.Second), uint64(i+1))})
	}
	fs := b.list(t0.Add(time.Hour))
	if len(fs) != maxFindings {
		t.Fatalf("%d findings held, want at most %d", len(fs), maxFindings)
	}
	// The newest are kept.
	if want := fmt.Sprintf("cell:26201/%X", maxFindings*3); fs[0].Scope != want {
		t.Errorf("newest %s, want %s", fs[0].Scope, want)
	}
}

func TestRoundDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45109780800 * time.Nanosecond: "45s", 90 * time.Minute: "1h30m", time.Hour: "1h", 10 * time.Minute: "10m",
		24 * time.Hour: "1d", 30 * time.Hour: "1d6h",
	} {
		if got := roundDuration(d); got != want {
			t.Errorf("roundDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
