package bench

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// RecordFile is the run record make bench writes next to the report: every
// figure of docs/benchmarks.md, its plots and the README's generated block
// is rendered from it, and TestDocsFromOneRun renders them again from it and
// fails when any of them differs (a hand edit, a renderer or scenario
// changed without a rerun, a README from another run).
const RecordFile = "docs/benchmarks.json"

// Record is one make bench run: its result and the micro-benchmarks'
// output it quoted.
type Record struct {
	Result *Result
	Micro  string
}

// Files are the documents rendered from the record, by path from the
// repository root; the README is rendered into readme (its current text).
func (rec Record) Files(readme string) (map[string]string, error) {
	r := rec.Result
	newReadme, err := ReplaceBlock(readme, r.ReadmeBlock())
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"docs/benchmarks.md":          r.Markdown(rec.Micro),
		"docs/img/bench-failover.svg": r.FailoverChart().SVG(),
		"docs/img/bench-flaps.svg":    r.FlapsChart().SVG(),
		"README.md":                   newReadme,
	}, nil
}

// Marshal encodes the record (indented, so that a rerun's diff is read
// line by line).
func (rec Record) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(rec, "", " ")
	if err != nil {
		return nil, &Error{Op: "record", Err: err}
	}
	return append(b, '\n'), nil
}

// ParseRecord decodes a record written by Marshal.
func ParseRecord(b []byte) (Record, error) {
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return Record{}, &Error{Op: "record", Err: err}
	}
	if rec.Result == nil {
		return Record{}, &Error{Op: "record", Err: fmt.Errorf("no result")}
	}
	return rec, nil
}

// Stale says how the record's scenarios and policies differ from the
// code's ("" when they match): a record from before a scenario or policy
// was added, removed or retitled cannot stand for the current benchmark.
func (rec Record) Stale(scs []Scenario, vs []Variant) string {
	key := func(sc Scenario) string {
		return fmt.Sprintf("%s %q reps %d+%d, %s, only %v", sc.Name, sc.Title, sc.Reps, sc.HeldOut, sc.Duration, sc.Only)
	}
	var have, want []string
	for _, sc := range rec.Result.Scenarios {
		have = append(have, key(sc))
	}
	for _, sc := range scs {
		want = append(want, key(sc))
	}
	var names []string
	for _, v := range vs {
		names = append(names, v.Name)
	}
	var out []string
	if !slices.Equal(have, want) {
		out = append(out, fmt.Sprintf("scenarios: the record has\n  %s\nthe code has\n  %s", strings.Join(have, "\n  "), strings.Join(want, "\n  ")))
	}
	if !slices.Equal(rec.Result.Variants, names) {
		out = append(out, fmt.Sprintf("policies: the record has %v, the code %v", rec.Result.Variants, names))
	}
	return strings.Join(out, "\n")
}
