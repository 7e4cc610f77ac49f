package bench

import (
	"flag"
	"log/slog"
	"strings"
	"testing"

	"github.com/imsid/imsid/switcher"
)

var traceRun = flag.String("bench.trace", "", "scenario/variant[/seed]: run one episode and log its decisions (e.g. outage/ours/3)")

// TestTrace explains one episode: every decision the switcher took and the
// metrics, for working on the policy. Only with -bench.trace.
func TestTrace(t *testing.T) {
	if *traceRun == "" {
		t.Skip("run with -bench.trace scenario/variant[/seed]")
	}
	parts := strings.Split(*traceRun, "/")
	seed := uint64(1)
	if len(parts) == 3 {
		var n uint64
		for _, c := range parts[2] {
			n = n*10 + uint64(c-'0')
		}
		seed = n
	}
	var sc *Scenario
	for _, s := range append(Scenarios(), CIScenarios()...) {
		if s.Name == parts[0] {
			sc = &s
		}
	}
	var v *Variant
	for _, x := range Variants() {
		if len(parts) > 1 && x.Name == parts[1] {
			v = &x
		}
	}
	if sc == nil || v == nil {
		t.Fatalf("unknown scenario or variant in %q", *traceRun)
	}
	decisionHook = func(d switcher.Decision) {
		var rs []string
		for _, r := range d.Reasons {
			rs = append(rs, string(r.Code)+": "+r.Message)
		}
		t.Logf("%s %-8s %s -> %s [%s] %s", d.Time.Format("Jan02 15:04:05"), d.Kind, d.From, d.To, d.Trigger, strings.Join(rs, "; "))
	}
	traceLog = slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	defer func() { decisionHook, traceLog = nil, nil }()
	r := runIn(t, *sc, *v, seed)
	t.Logf("%+v", r)
	if r.Phases != nil {
		t.Logf("phases %+v", *r.Phases)
	}
}

// tlog writes log records to the test log.
type tlog struct{ t *testing.T }

func (w tlog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
