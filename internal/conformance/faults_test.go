package conformance

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/simulator"
)

// probe is one typed query whose right answer the snapshot knows. The
// probes answer in similar shapes on purpose (bare lines for CGMI, CGMM,
// CGMR, CGSN, CIMI): a reply attributed to the wrong command shows up as a
// wrong value, not only as a parse error.
type probe struct {
	name string
	got  func(ctx context.Context, r *rig) (string, error)
	want func(r *rig) string
}

var probes = []probe{
	{"Identity", func(ctx context.Context, r *rig) (string, error) {
		id, err := r.drv.Identity(ctx)
		return fmt.Sprintf("%s|%s|%s|%s", id.Manufacturer, id.Model, id.Revision, id.IMEI), err
	}, func(r *rig) string { return r.identity }},
	{"IMSI", func(ctx context.Context, r *rig) (string, error) {
		v, err := r.drv.IMSI(ctx)
		return v.Reveal(), err
	}, func(r *rig) string { return r.sim.Snapshot().ModemIMSI }},
	{"ICCID", func(ctx context.Context, r *rig) (string, error) {
		v, err := r.drv.ICCID(ctx)
		return v.Reveal(), err
	}, func(r *rig) string { return r.sim.Snapshot().ICCID }},
	{"Registration", func(ctx context.Context, r *rig) (string, error) {
		g, err := r.drv.Registration(ctx, modem.DomainEPS)
		if err != nil || g.Area == nil || g.CellID == nil {
			return fmt.Sprintf("%d,%v,%v", g.Status, ptr(g.Area), ptr(g.CellID)), err
		}
		return fmt.Sprintf("%d,%X,%X", g.Status, *g.Area, *g.CellID), err
	}, func(r *rig) string {
		s := r.sim.Snapshot()
		if s.RegStat != 1 && s.RegStat != 5 {
			return fmt.Sprintf("%d,nil,nil", s.RegStat)
		}
		return fmt.Sprintf("%d,%X,%X", s.RegStat, s.TAC, s.CI)
	}},
	{"Signal", func(ctx context.Context, r *rig) (string, error) {
		s, err := r.drv.Signal(ctx)
		if err == nil && s.RSRP == nil && s.RSSI != nil && math.Abs(float64(*s.RSSI)-r.sim.Snapshot().Signal.RSSI) <= 1 {
			// CESQ was lost and +CSQ answered instead: true, only less.
			return "", errPartial
		}
		if s.RSRP == nil || s.RSRQ == nil {
			return "nil", err
		}
		return fmt.Sprintf("%.0f/%.1f", float64(*s.RSRP), float64(*s.RSRQ)), err
	}, func(r *rig) string {
		x := r.sim.Snapshot().Signal
		return fmt.Sprintf("%.0f/%.1f", math.Round(x.RSRP), x.RSRQ)
	}},
	{"Operator", func(ctx context.Context, r *rig) (string, error) {
		o, err := r.drv.Operator(ctx)
		return o.PLMN.String() + "|" + o.Name, err
	}, func(r *rig) string {
		if s := r.sim.Snapshot(); s.RegStat == 1 || s.RegStat == 5 {
			return s.PLMN + "|Telekom.de"
		}
		return "|"
	}},
}

// errPartial marks a right but degraded answer; it counts as a failed call.
var errPartial = errors.New("partial answer")

// bound is the measured recovery from one fault.
type bound struct {
	calls   int           // driver calls that failed before the first right answer
	wire    int           // command lines the driver sent from the fault to the first right answer
	elapsed time.Duration // scenario time from the fault to the first right answer
	lost    bool          // the driver reported the port lost
	wrong   int           // wrong values returned (known bugs only; any other fails the test)
	probe   string        // the probe the fault hit first
}

var (
	boundsMu sync.Mutex
	bounds   = map[string][]bound{}
)

func record(kind string, b bound) {
	boundsMu.Lock()
	defer boundsMu.Unlock()
	bounds[kind] = append(bounds[kind], b)
}

func (r *rig) commandsSince(n int) int {
	c := 0
	for _, e := range r.sim.Log()[n:] {
		if e.Dir == simulator.In {
			c += strings.Count(string(e.Data), "\r")
		}
	}
	return c
}

// recoverAfter runs probes from offset on until a full round of them in a
// row answers right; the bound is measured to the first answer of that
// round. A wrong value is a failure whenever it happens: an error is
// allowed, a lie is not. "Right" is the snapshot's value just before or
// just after the call, since a reset moves the truth while a call runs.
func recoverAfter(t *testing.T, r *rig, offset, logStart int, start time.Time, knownWrong string, base map[string]time.Duration) bound {
	t.Helper()
	var b bound
	run, calls := 0, 0
	var firstOK time.Duration
	wireAt := 0
	for i := 0; i < 60; i++ {
		p := probes[(offset+i)%len(probes)]
		before := p.want(r)
		ctx, cancel := r.cctx(3 * time.Minute) // above every driver budget: the bound is the driver's
		t0, wireBefore := time.Now(), r.commandsSince(logStart)+1
		got, err := p.got(ctx, r)
		cancel()
		after := p.want(r)
		if testing.Verbose() {
			t.Logf("call %d %s: %v in %v", i, p.name, err, time.Since(t0))
		}
		switch {
		case err != nil:
			if errors.Is(err, modem.ErrPortLost) || errors.Is(err, modem.ErrClosed) {
				b.lost = true
				return b
			}
			calls++
			run = 0
			// A failing modem is polled, not hammered: a reset needs ~11 s
			// of scenario time (boot, SIM busy, attach) and 60 fast calls
			// would give up before it is back.
			wait(time.Second)
		case got != before && got != after:
			if knownWrong != "" {
				t.Logf("wrong value (known, %s): %s = %q, want %q", knownWrong, p.name, got, after)
				b.wrong++
			} else {
				t.Errorf("WRONG VALUE: %s = %q, want %q (call %d after the fault)", p.name, got, after, i)
			}
			calls++
			run = 0
		default:
			if run == 0 {
				// Measured to the end of the call that answered right, less
				// that call's fault-free latency: the time the fault cost.
				firstOK, wireAt, b.calls = max(time.Since(start)-base[p.name], 0), wireBefore, calls
			}
			run++
			if run == len(probes) {
				b.elapsed, b.wire = firstOK, wireAt
				return b
			}
		}
	}
	t.Fatalf("no full round of right answers within 60 calls")
	return b
}

// baseline times each probe with no fault, so that recovery can be told
// apart from a probe's own latency (Operator alone takes 8 s of scenario
// time in the simulator, see TestBugCOPSFormatLatency).
func baseline(t *testing.T, r *rig) map[string]time.Duration {
	t.Helper()
	base := map[string]time.Duration{}
	for _, p := range probes {
		ctx, cancel := r.cctx(time.Minute)
		t0 := time.Now()
		got, err := p.got(ctx, r)
		cancel()
		if err != nil || got != p.want(r) {
			t.Fatalf("baseline %s = %q, %v; want %q", p.name, got, err, p.want(r))
		}
		base[p.name] = time.Since(t0)
	}
	return base
}

var faultKinds = []struct {
	kind  simulator.FaultKind
	count int
	delay time.Duration
	seeds int    // runs per dialect and probe, seeds 1..seeds (the full matrix; -short runs seed 1)
	note  string // what the doc's table says about the row beside the fault's name
	// knownWrong names the skipped test that documents the wrong values
	// this fault still draws from the driver; they are counted, not failed.
	knownWrong string
}{
	{simulator.FaultNoAnswer, 1, 0, 1, "", ""},
	{simulator.FaultLateAnswer, 1, 0, 1, "on the next command", ""},
	{simulator.FaultLateAnswer, 1, 2 * time.Second, 1, "by itself after 2 s", ""}, // arrives by itself, after the driver gave up
	{simulator.FaultDuplicateOK, 1, 0, 1, "", ""},
	{simulator.FaultTruncated, 1, 0, 1, "", ""},
	{simulator.FaultGarbage, 1, 0, 5, "", ""},
	{simulator.FaultSplitWrites, 40, 0, 5, "40 writes", ""},
	{simulator.FaultReset, 1, 0, 1, "boot URC chain, port stays", ""},
}

// knownWrong is the skipped test documenting the wrong values a fault
// draws from the driver in one dialect, or "". Every bug the matrix found
// is fixed, so today any wrong value fails the test.
func knownWrong(_ string, _ string, fk string) string { return fk }

func faultName(kind simulator.FaultKind, delay time.Duration) string {
	if delay > 0 {
		return fmt.Sprintf("%s (delay %v)", kind, delay)
	}
	return kind.String()
}

// TestFaultMatrix: every simulator fault, hitting each probe in turn,
// against the driver. After it the driver answers right again within the
// recorded bound, never answers wrong, never panics, and leaves no
// goroutine behind (synctest fails the test if one is still blocked).
func TestFaultMatrix(t *testing.T) {
	boundsMu.Lock()
	bounds = map[string][]bound{} // -count=N runs the matrix afresh each time
	boundsMu.Unlock()
	var rows []matrixRow
	planned := map[string]int{} // runs per fault that the mode (-short or not) asks for
	for _, fk := range faultKinds {
		name := faultName(fk.kind, fk.delay)
		rows = append(rows, matrixRow{key: name, label: faultLabel(fk.kind, fk.seeds, fk.note)})
		for _, d := range simDialects {
			if testing.Short() && d.name != "quectel-eg25" {
				continue
			}
			for off := range probes {
				if testing.Short() && off > 1 {
					continue
				}
				for seed := int64(1); seed <= int64(fk.seeds); seed++ {
					if seed > 1 && testing.Short() {
						continue
					}
					planned[name]++
					t.Run(fmt.Sprintf("%s/%s/%s/seed%d", strings.ReplaceAll(name, " ", ""), d.name, probes[off].name, seed), func(t *testing.T) {
						synctest.Test(t, func(t *testing.T) {
							r := newRig(t, world(t, d.name, cells[0], ""))
							defer func() {
								if t.Failed() || testing.Verbose() {
									t.Logf("wire:\n%s", r.wire())
								}
							}()
							base := baseline(t, r)
							logStart := len(r.sim.Log())
							start := time.Now()
							if err := r.sim.TriggerFault(simulator.Fault{Kind: fk.kind, Count: fk.count, Delay: fk.delay, Seed: seed}); err != nil {
								t.Fatal(err)
							}
							b := recoverAfter(t, r, off, logStart, start, knownWrong(name, d.name, fk.knownWrong), base)
							if b.lost {
								t.Fatalf("port reported lost after %s", name)
							}
							b.probe = probes[off].name
							record(name, b)
						})
					})
				}
			}
		}
	}
	t.Run("port_loss", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) { checkPortLoss(t) })
	})
	planned["port_loss"] = 1
	rows = append(rows, matrixRow{key: "port_loss", label: "port_loss (port back after " + fmtDur(portDown) + ")"})

	table := renderMatrix(rows)
	t.Logf("\n%s", table)
	checkMatrixDoc(t, rows, table, planned)
}

// portDown is how long the port stays away in checkPortLoss.
const portDown = 10 * time.Second

// checkPortLoss: the port goes away; the driver reports it lost, a call in
// flight ends with ErrPortLost, and a new session on the reappearing port
// answers right.
func checkPortLoss(t *testing.T) {
	r := newRig(t, world(t, "quectel-eg25", cells[0], ""))
	base := baseline(t, r)
	logStart := len(r.sim.Log())
	ctx, cancel := r.cctx(time.Minute)
	defer cancel()
	// The loss hits a call in flight: the command is on the wire (and the
	// simulator is working on its reply) before the port goes. Without the
	// wait the runtime chose whether it was written at all, and the table's
	// command count moved between runs.
	imsi := make(chan error, 1)
	go func() {
		_, err := r.drv.IMSI(ctx)
		imsi <- err
	}()
	synctest.Wait()
	start := time.Now()
	if err := r.sim.TriggerFault(simulator.Fault{Kind: simulator.FaultPortLoss, Delay: portDown}); err != nil {
		t.Fatal(err)
	}
	if err := <-imsi; !errors.Is(err, modem.ErrPortLost) {
		t.Errorf("IMSI in flight at the port loss: %v, want ErrPortLost", err)
	}
	select {
	case <-r.drv.Done():
	case <-ctx.Done():
		t.Fatalf("Done not closed after port loss")
	}
	detected := time.Since(start)
	if !errors.Is(r.drv.Err(), modem.ErrPortLost) {
		t.Errorf("Err = %v, want ErrPortLost", r.drv.Err())
	}
	if err := <-r.served; !errors.Is(err, simulator.ErrPortDropped) {
		t.Errorf("Serve = %v, want ErrPortDropped", err)
	}
	r.served <- nil // for the rig's cleanup
	for range r.drv.Events() {
		// Events closes once the session is dead.
	}
	if err := r.sim.WaitPortUp(ctx); err != nil {
		t.Fatal(err)
	}
	// The port is back: a new session, as Connect would open it.
	client, server := net.Pipe()
	served := make(chan error, 1)
	go func() {
		err := r.sim.Serve(r.ctx, server)
		server.Close()
		served <- err
	}()
	drv, err := modem.New(ctx, client)
	if err != nil {
		t.Fatalf("New after port came back: %v", err)
	}
	defer func() { drv.Close(); r.cancel(); <-served }()
	r2 := &rig{t: t, sim: r.sim, drv: drv, ctx: r.ctx, identity: r.identity}
	b := recoverAfter(t, r2, 0, logStart, start, "", base)
	b.lost = true
	b.calls = 1
	t.Logf("port loss: detected after %v, right answers again after %v (port down %v)", detected, b.elapsed, portDown)
	record("port_loss", b)
}

// matrixRow is one row of the table: the bounds recorded under key, shown
// as label.
type matrixRow struct{ key, label string }

// upperBounds are the table's cells (by fault, and column counted from 1
// for the fault's name) whose maximum depends on the order in which the
// runtime runs goroutines at one instant, not only on the driver: the doc
// holds the largest value seen, and a run may measure less (the check
// fails only when a run measures more). duplicate_ok: whether the driver's
// reader has dropped the second OK before the caller's next command goes
// out decides where the resync falls, so a probe other than Operator loses
// 20 ms or 60 ms; 2 full matrices in about 20 saw no 60 ms outside Operator.
var upperBounds = map[string][]int{
	"duplicate_ok": {6}, // same, Operator probe excluded
}

// faultLabel is a fault's name as the doc's table shows it.
func faultLabel(kind simulator.FaultKind, seeds int, note string) string {
	var parts []string
	if seeds > 1 {
		parts = append(parts, fmt.Sprintf("%d seeds", seeds))
	}
	if note != "" {
		parts = append(parts, note)
	}
	if len(parts) == 0 {
		return kind.String()
	}
	return kind.String() + " (" + strings.Join(parts, ", ") + ")"
}

// fmtDur prints a scenario time as the doc does: 0, 60 ms, 6.02 s.
func fmtDur(d time.Duration) string {
	d = d.Round(time.Millisecond)
	switch {
	case d == 0:
		return "0"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

const matrixHeader = "| fault | runs | failed calls (max) | commands on the wire to recovery (max) | scenario time to recovery (max) | same, Operator probe excluded | runs with a known wrong value |\n|---|---|---|---|---|---|---|\n"

// renderMatrix is the table of docs/reliability.md, from the recorded
// bounds, one line per row (rows no run recorded are left out).
func renderMatrix(rows []matrixRow) string {
	boundsMu.Lock()
	defer boundsMu.Unlock()
	var sb strings.Builder
	sb.WriteString(matrixHeader)
	for _, row := range rows {
		bs := bounds[row.key]
		if len(bs) == 0 {
			continue
		}
		var mc, mw, wr int
		var me, mx time.Duration
		for _, b := range bs {
			mc, mw, me = max(mc, b.calls), max(mw, b.wire), max(me, b.elapsed)
			if b.probe != "Operator" {
				mx = max(mx, b.elapsed)
			}
			if b.wrong > 0 {
				wr++
			}
		}
		fmt.Fprintf(&sb, "| %s | %d | %d | %d | %s | %s | %d |\n", row.label, len(bs), mc, mw, fmtDur(me), fmtDur(mx), wr)
	}
	return sb.String()
}

var update = flag.Bool("update", false, "rewrite docs/reliability.md's fault matrix table (TestFaultMatrix)")

const (
	matrixDoc   = "../../docs/reliability.md"
	matrixBegin = "<!-- faultmatrix:begin: generated by TestFaultMatrix (internal/conformance/faults_test.go); do not edit -->"
	matrixEnd   = "<!-- faultmatrix:end -->"
	matrixRegen = "go test -race -run '^TestFaultMatrix$' ./internal/conformance/ -update"
)

// spliceMatrix returns doc with the table between the markers replaced by
// table, and the table it held.
func spliceMatrix(doc, table string) (string, string, error) {
	i := strings.Index(doc, matrixBegin)
	j := strings.Index(doc, matrixEnd)
	if i < 0 || j < i {
		return "", "", fmt.Errorf("markers %q … %q not found", matrixBegin, matrixEnd)
	}
	old := strings.TrimSpace(doc[i+len(matrixBegin) : j])
	return doc[:i+len(matrixBegin)] + "\n\n" + table + "\n" + doc[j:], old, nil
}

// checkMatrixDoc fails when docs/reliability.md's table differs from the
// one the full matrix computed (-update rewrites it). Under -short, or when
// a -run filter or a failure left runs out, the matrix is partial and
// nothing is compared.
func checkMatrixDoc(t *testing.T, rows []matrixRow, table string, planned map[string]int) {
	t.Helper()
	if testing.Short() {
		t.Logf("-short runs part of the matrix: %s not compared", matrixDoc)
		return
	}
	if t.Failed() {
		return
	}
	boundsMu.Lock()
	var partial []string
	for k, n := range planned {
		if len(bounds[k]) != n {
			partial = append(partial, fmt.Sprintf("%s %d of %d runs", k, len(bounds[k]), n))
		}
	}
	boundsMu.Unlock()
	if len(partial) > 0 {
		sort.Strings(partial)
		t.Logf("part of the matrix ran (%s): %s not compared", strings.Join(partial, "; "), matrixDoc)
		return
	}
	raw, err := os.ReadFile(matrixDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, old, err := spliceMatrix(string(raw), table)
	if err != nil {
		t.Fatalf("%s: %v", matrixDoc, err)
	}
	table = keepUpperBounds(rows, table, old)
	doc, _, _ := spliceMatrix(string(raw), table)
	if old == strings.TrimSpace(table) {
		return
	}
	if *update {
		if err := os.WriteFile(matrixDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the fault matrix table in %s", matrixDoc)
		return
	}
	t.Errorf("%s: the fault matrix table differs from what TestFaultMatrix measures now:\n%s\nIf the change is meant, regenerate it with:\n\t%s\nand make the text around it (\"Reading it\") say what changed.",
		matrixDoc, matrixDiff(old, strings.TrimSpace(table)), matrixRegen)
}

// keepUpperBounds returns table with each upperBounds cell taken from
// the doc's table (old) when the doc's figure is at least the measured one.
func keepUpperBounds(rows []matrixRow, table, old string) string {
	cellsOf := func(s, label string) []string {
		for _, l := range strings.Split(s, "\n") {
			if c := strings.Split(l, "|"); len(c) > 2 && strings.TrimSpace(c[1]) == label {
				return c
			}
		}
		return nil
	}
	for _, row := range rows {
		cols := upperBounds[row.key]
		now, doc := cellsOf(table, row.label), cellsOf(old, row.label)
		if len(cols) == 0 || now == nil || len(doc) != len(now) {
			continue
		}
		nowLine := strings.Join(now, "|")
		for _, c := range cols {
			if c >= len(now) {
				continue
			}
			n, err1 := parseDur(now[c])
			d, err2 := parseDur(doc[c])
			if err1 == nil && err2 == nil && n <= d {
				now[c] = doc[c]
			}
		}
		table = strings.Replace(table, nowLine, strings.Join(now, "|"), 1)
	}
	return table
}

// parseDur reads a figure fmtDur printed.
func parseDur(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	return time.ParseDuration(strings.ReplaceAll(s, " ", ""))
}

// matrixDiff names the rows of the doc's table (old) that differ from the
// computed one (now), by their first cell.
func matrixDiff(old, now string) string {
	split := func(s string) (order []string, byKey map[string]string) {
		byKey = map[string]string{}
		for _, l := range strings.Split(s, "\n") {
			l = strings.TrimSpace(l)
			key := l
			if cells := strings.Split(l, "|"); len(cells) > 2 {
				key = strings.TrimSpace(cells[1])
			}
			if _, dup := byKey[key]; !dup {
				order = append(order, key)
			}
			byKey[key] = l
		}
		return order, byKey
	}
	oldOrder, oldRows := split(old)
	nowOrder, nowRows := split(now)
	var sb strings.Builder
	for _, k := range nowOrder {
		switch o, ok := oldRows[k]; {
		case !ok:
			fmt.Fprintf(&sb, "  row %q: missing from the doc; measured: %s\n", k, nowRows[k])
		case o != nowRows[k]:
			fmt.Fprintf(&sb, "  row %q:\n    doc:      %s\n    measured: %s\n", k, o, nowRows[k])
		}
	}
	for _, k := range oldOrder {
		if _, ok := nowRows[k]; !ok {
			fmt.Fprintf(&sb, "  row %q: in the doc, not measured: %s\n", k, oldRows[k])
		}
	}
	if sb.Len() == 0 {
		sb.WriteString("  the rows are the same but their order or spacing differs\n")
	}
	return strings.TrimRight(sb.String(), "\n")
}
