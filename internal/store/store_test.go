package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func open(t *testing.T, dir string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(dir, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

var t0 = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

func TestRoundTripsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.SetActive("home"))
	pin := Pin{Profile: "roam", Since: t0, Until: t0.Add(time.Hour), Reason: "operator"}
	must(s.SetPin(pin))
	qs := []Quarantine{
		{Scope: "plmn", Key: "00101", Until: t0.Add(time.Hour), Count: 2, Since: t0, Reason: "d2"},
		{Scope: "profile", Key: "roam", Until: t0.Add(time.Minute), Count: 1},
	}
	for _, q := range qs {
		must(s.PutQuarantine(q))
	}
	must(s.PutUsage("home", "2026-11-01", json.RawMessage(`{"up":1,"down":2}`)))
	must(s.PutUsage("home", "2026-10-01", json.RawMessage(`{"up":3}`)))
	must(s.PutUsage("roam", "2026-11-01", json.RawMessage(`{"up":5}`)))
	must(s.SetLedger(json.RawMessage(`{"current":{}}`)))
	must(s.SetBaseline(json.RawMessage(`{"cells":[1,2]}`)))
	must(s.SetSnapshot(json.RawMessage(`{"active":"home"}`)))
	must(s.SetAdvisories(json.RawMessage(`[{"payload":"x","signature":"y"}]`)))
	id, err := s.BeginSwitch(Intent{From: "home", To: "roam", Reason: "signal", Started: t0, Ref: 7})
	must(err)
	must(s.EndSwitch(Outcome{ID: id, Result: "ok", Finished: t0.Add(time.Second), Active: "roam"}))
	open2, err := s.BeginSwitch(Intent{From: "roam", To: "home", Reason: "cost", Started: t0.Add(time.Minute)})
	must(err)
	for i := range 3 {
		_, err := s.AppendDecision(json.RawMessage(`{"n":` + string(rune('0'+i)) + `}`))
		must(err)
	}
	for _, ev := range []string{`{"a":1}`, `{"a":2}`} {
		_, err := s.Enqueue([]byte(ev))
		must(err)
	}
	must(s.Close())
	must(s.Close()) // idempotent

	if _, err := s.Active(); !errors.Is(err, ErrClosed) {
		t.Errorf("Active after Close: err = %v, want ErrClosed", err)
	}

	s = open(t, dir)
	if got, _ := s.Active(); got != "home" {
		t.Errorf("Active = %q", got)
	}
	gotPin, err := s.GetPin()
	must(err)
	if !gotPin.Until.Equal(pin.Until) || gotPin.Profile != "roam" || gotPin.Reason != "operator" {
		t.Errorf("pin = %+v", gotPin)
	}
	gotQ, err := s.Quarantines()
	must(err)
	if diff := cmp.Diff(qs, gotQ); diff != "" {
		t.Errorf("quarantines (-want +got):\n%s", diff)
	}
	u, err := s.Usage("home")
	must(err)
	if len(u) != 2 || u[0].Period != "2026-10-01" || string(u[1].Data) != `{"up":1,"down":2}` {
		t.Errorf("usage(home) = %+v", u)
	}
	all, _ := s.Usage("")
	if len(all) != 3 {
		t.Errorf("usage(all) has %d records", len(all))
	}
	if v, _ := s.GetUsage("roam", "2026-11-01"); string(v) != `{"up":5}` {
		t.Errorf("GetUsage = %s", v)
	}
	if _, err := s.GetUsage("roam", "2020-01-01"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing usage: %v", err)
	}
	for name, get := range map[string]func() (json.RawMessage, error){
		"ledger": s.Ledger, "baseline": s.Baseline, "snapshot": s.Snapshot, "advisories": s.Advisories,
	} {
		if v, err := get(); err != nil || len(v) == 0 {
			t.Errorf("%s = %s, %v", name, v, err)
		}
	}
	un, err := s.Unfinished()
	must(err)
	if len(un) != 1 || un[0].ID != open2 || un[0].To != "home" {
		t.Errorf("Unfinished = %+v", un)
	}
	j, _ := s.Journal(0)
	if len(j) != 2 || j[0].Outcome == nil || j[0].Intent.Ref != 7 || j[0].Outcome.Active != "roam" {
		t.Errorf("journal = %+v", j)
	}
	d, _ := s.Decisions(0, 0)
	if len(d) != 3 || d[2].Seq != 3 {
		t.Errorf("decisions = %+v", d)
	}
	if s.Len() != 2 {
		t.Errorf("Len = %d", s.Len())
	}
	items, _ := s.Peek(10)
	if len(items) != 2 || string(items[0].Data) != `{"a":1}` {
		t.Errorf("Peek = %+v", items)
	}

	must(s.ClearPin())
	if _, err := s.GetPin(); !errors.Is(err, ErrNotFound) {
		t.Errorf("pin after clear: %v", err)
	}
	n, err := s.PruneQuarantines(t0.Add(2 * time.Minute))
	must(err)
	if n != 1 {
		t.Errorf("pruned %d, want 1", n)
	}
	must(s.DeleteQuarantine("plmn", "00101"))
	if q, _ := s.Quarantines(); len(q) != 0 {
		t.Errorf("quarantines left: %+v", q)
	}
	must(s.ReplaceQuarantines(qs))
	if q, _ := s.Quarantines(); len(q) != 2 {
		t.Errorf("after replace: %+v", q)
	}
}

func TestInvalidInputIsRefused(t *testing.T) {
	s := open(t, t.TempDir())
	cases := map[string]error{
		"pin":        s.SetPin(Pin{}),
		"quarantine": s.PutQuarantine(Quarantine{Scope: "plmn"}),
		"usage":      s.PutUsage("home", "p", json.RawMessage(`{`)),
		"baseline":   s.SetBaseline(json.RawMessage(`nope`)),
		"decision":   func() error { _, err := s.AppendDecision(json.RawMessage(`}`)); return err }(),
		"intent":     func() error { _, err := s.BeginSwitch(Intent{From: "a"}); return err }(),
		"enqueue":    func() error { _, err := s.Enqueue(nil); return err }(),
	}
	for name, err := range cases {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if err := s.EndSwitch(Outcome{ID: 99}); !errors.Is(err, ErrNotFound) {
		t.Errorf("EndSwitch unknown: %v", err)
	}
}

func TestJournalReconciliation(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, WithJournalLimit(3))
	var ids []uint64
	for i := range 6 {
		id, err := s.BeginSwitch(Intent{From: "a", To: "b", Started: t0.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		// Leave the second and the last unfinished: a crash mid-switch.
		if i != 1 && i != 5 {
			if err := s.EndSwitch(Outcome{ID: id, Result: "ok"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = s.Close()
	s = open(t, dir, WithJournalLimit(3))
	un, err := s.Unfinished()
	if err != nil {
		t.Fatal(err)
	}
	if len(un) != 2 || un[0].ID != ids[1] || un[1].ID != ids[5] {
		t.Fatalf("Unfinished = %+v, want ids %d and %d", un, ids[1], ids[5])
	}
	// Reconcile: record what the modem reported.
	for _, in := range un {
		if err := s.EndSwitch(Outcome{ID: in.ID, Result: "reconciled", Active: "a"}); err != nil {
			t.Fatal(err)
		}
	}
	if un, _ := s.Unfinished(); len(un) != 0 {
		t.Errorf("still unfinished after reconciling: %+v", un)
	}
	// By the caller's reference, as a switcher adapter would.
	if _, err := s.BeginSwitch(Intent{To: "c", Ref: 41}); err != nil {
		t.Fatal(err)
	}
	if err := s.EndSwitchRef(41, Outcome{Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	if err := s.EndSwitchRef(41, Outcome{Result: "ok"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("second EndSwitchRef: %v", err)
	}
	// IDs keep growing after the restart and the bound holds finished ones.
	id, _ := s.BeginSwitch(Intent{To: "b"})
	if id <= ids[5] {
		t.Errorf("id %d after restart is not above %d", id, ids[5])
	}
	j, _ := s.Journal(0)
	if len(j) > 4 {
		t.Errorf("journal holds %d entries, bound 3 (+1 just added)", len(j))
	}
}

func TestDecisionLogIsBounded(t *testing.T) {
	s := open(t, t.TempDir(), WithDecisionLimit(5))
	for range 12 {
		if _, err := s.AppendDecision(json.RawMessage(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	d, _ := s.Decisions(0, 0)
	if len(d) != 5 || d[0].Seq != 8 || d[4].Seq != 12 {
		t.Fatalf("decisions = %+v", d)
	}
	page, _ := s.Decisions(9, 2)
	if len(page) != 2 || page[0].Seq != 10 {
		t.Errorf("page after 9 = %+v", page)
	}
}

// Decisions stored under their maker's numbers: the last number survives a
// reopen (and trimming), a repeated number replaces its entry.
func TestPutDecisionKeepsNumbers(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, WithDecisionLimit(3))
	for seq := uint64(1); seq <= 5; seq++ {
		if err := s.PutDecision(seq, json.RawMessage(`{"n":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutDecision(5, json.RawMessage(`{"n":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDecision(0, json.RawMessage(`{}`)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("seq 0: %v", err)
	}
	d, _ := s.Decisions(0, 0)
	if len(d) != 3 || d[0].Seq != 3 || string(d[2].Data) != `{"n":2}` {
		t.Fatalf("decisions = %+v", d)
	}
	s.Close()
	s = open(t, dir, WithDecisionLimit(3))
	if last, err := s.LastDecisionSeq(); err != nil || last != 5 {
		t.Fatalf("last after reopen = %d, %v", last, err)
	}
	// Appends after puts continue the same numbering.
	if seq, err := s.AppendDecision(json.RawMessage(`{}`)); err != nil || seq != 6 {
		t.Fatalf("append after put: %d, %v", seq, err)
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	start := time.Now()
	_, err := Open(dir, WithLockTimeout(100*time.Millisecond))
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("second Open took %s", time.Since(start))
	}
}

func TestCorruptFileIsMovedAside(t *testing.T) {
	for name, content := range map[string][]byte{
		"garbage":   []byte(strings.Repeat("not a bolt file ", 2000)),
		"short":     []byte("x"),
		"truncated": nil, // filled below from a real file
		"bad pages": nil,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if content == nil {
				s := open(t, dir)
				for i := range 200 {
					_, _ = s.Enqueue(fmt.Appendf(nil, `{"x":%d}`, i))
				}
				_ = s.Close()
				b, _ := os.ReadFile(path)
				if name == "truncated" {
					// Keep part of the first meta page only.
					content = append(b[:100:100], make([]byte, 4096)...)
				} else {
					// Metas intact, every data page after them scribbled on.
					content = slices.Clone(b)
					for i := 2 * os.Getpagesize(); i < len(content); i += 7 {
						content[i] ^= 0x5a
					}
				}
			}
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			now := func() time.Time { return t0 }
			s := open(t, dir, WithClock(now))
			if s.Recovered() == "" {
				t.Fatal("Recovered() is empty for a corrupt file")
			}
			if !strings.HasPrefix(filepath.Base(s.Recovered()), FileName+".corrupt-20261122T030000") {
				t.Errorf("moved to %q", s.Recovered())
			}
			aside, err := os.ReadFile(s.Recovered())
			if err != nil || string(aside) != string(content) {
				t.Errorf("moved-aside file differs from the original (err %v)", err)
			}
			// The fresh store works.
			if _, err := s.Enqueue([]byte(`{}`)); err != nil {
				t.Errorf("Enqueue on fresh store: %v", err)
			}
		})
	}
}

func TestUnreadableDirIsNotTreatedAsCorrupt(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root ignores permissions")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if err == nil || !errors.Is(err, os.ErrPermission) {
		t.Fatalf("err = %v, want a permission error", err)
	}
}
