package threat

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestGoldenScript replays the mixed script and compares a readable digest
// of every result with testdata/script.golden, so a change in any rule,
// score or response shows up as a reviewable diff.
func TestGoldenScript(t *testing.T) {
	e, start := warmEngine(t, testConfig())
	var b strings.Builder
	for _, r := range run(t, e, start, script()) {
		fmt.Fprintf(&b, "+%s overall=%.3g/%s episode=%d active=%v actions=%s",
			r.At.Sub(start), r.Overall.Score, r.Overall.Level, r.Episode.ID, r.Episode.Active, r.Response.Actions)
		if !r.Response.SwitchAllowed() {
			b.WriteString(" SWITCHING-SUSPENDED")
		}
		b.WriteString("\n")
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "  %-4s %-27s %-8s %.3g %-22s %s\n", f.Rule, f.Reason, f.Severity, f.Score, f.Scope.Key(), f.Message)
		}
		for _, q := range r.Response.Quarantine {
			fmt.Fprintf(&b, "  quarantine %s for %s (%s)\n", q.Scope.Key(), q.TTL, q.Reason)
		}
		for _, a := range r.Alerts {
			fmt.Fprintf(&b, "  alert %s %s folded=%d\n", a.Finding.Rule, a.Finding.Scope.Key(), a.Folded)
		}
	}
	path := filepath.Join("testdata", "script.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("script output changed; run with -update and review the diff.\n--- got ---\n%s", got)
	}
}
