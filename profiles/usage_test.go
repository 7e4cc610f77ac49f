package profiles

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func date(y int, m time.Month, d, h int, loc *time.Location) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, loc)
}

func TestPeriodAt(t *testing.T) {
	utc := time.UTC
	plus10 := time.FixedZone("AEST", 10*3600)
	tests := []struct {
		name       string
		at         time.Time
		day        int
		loc        *time.Location
		start, end time.Time
	}{
		{"mid month, day 1", date(2026, 3, 15, 12, utc), 1, utc, date(2026, 3, 1, 0, utc), date(2026, 4, 1, 0, utc)},
		{"exactly at start", date(2026, 3, 1, 0, utc), 1, utc, date(2026, 3, 1, 0, utc), date(2026, 4, 1, 0, utc)},
		{"just before start", date(2026, 3, 1, 0, utc).Add(-time.Nanosecond), 1, utc, date(2026, 2, 1, 0, utc), date(2026, 3, 1, 0, utc)},
		{"31-day month", date(2026, 1, 31, 23, utc), 1, utc, date(2026, 1, 1, 0, utc), date(2026, 2, 1, 0, utc)},
		{"before billing day wraps to last year", date(2026, 1, 10, 0, utc), 15, utc, date(2025, 12, 15, 0, utc), date(2026, 1, 15, 0, utc)},
		{"day 28 in February", date(2026, 2, 27, 23, utc), 28, utc, date(2026, 1, 28, 0, utc), date(2026, 2, 28, 0, utc)},
		{"day 28 on Feb 28", date(2026, 2, 28, 0, utc), 28, utc, date(2026, 2, 28, 0, utc), date(2026, 3, 28, 0, utc)},
		{"day 28 in a leap February", date(2028, 2, 29, 12, utc), 28, utc, date(2028, 2, 28, 0, utc), date(2028, 3, 28, 0, utc)},
		{"day 28 on Mar 31", date(2026, 3, 31, 12, utc), 28, utc, date(2026, 3, 28, 0, utc), date(2026, 4, 28, 0, utc)},
		{"site zone ahead of UTC", date(2026, 3, 31, 20, utc), 1, plus10, date(2026, 4, 1, 0, plus10), date(2026, 5, 1, 0, plus10)},
		{"nil location is UTC", date(2026, 3, 31, 20, utc), 1, nil, date(2026, 3, 1, 0, utc), date(2026, 4, 1, 0, utc)},
	}
	for _, tt := range tests {
		p := PeriodAt(tt.at, tt.day, tt.loc)
		if !p.Start.Equal(tt.start) || !p.End.Equal(tt.end) || !p.Contains(tt.at) {
			t.Errorf("%s: PeriodAt(%v, %d) = [%v, %v), want [%v, %v)", tt.name, tt.at, tt.day, p.Start, p.End, tt.start, tt.end)
		}
	}
}

func TestPeriodAtDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	p := PeriodAt(time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), 1, berlin)
	if got, want := p.End.Sub(p.Start), 31*24*time.Hour-time.Hour; got != want {
		t.Errorf("March in Berlin lasts %v, want %v (the DST hour is missing)", got, want)
	}
	if h := p.End.In(berlin).Hour(); h != 0 {
		t.Errorf("period ends at %02d:00 local, want midnight", h)
	}
}

func testProfile() *Profile {
	p := DefaultProfile(0)
	p.Name = "home"
	p.Cost = Cost{
		Currency:     "USD",
		PerMB:        Money{2_000, "USD"},     // 0.002
		PerMonth:     Money{1_500_000, "USD"}, // 1.50
		RoamingPerMB: Money{4_000, "USD"},     // 0.004
	}
	p.DataCap = 250e6
	return &p
}

func TestCounterResets(t *testing.T) {
	p := testProfile()
	l := NewLedger(time.UTC)
	t0 := date(2026, 4, 10, 0, time.UTC)
	steps := []struct {
		up, down uint64
		total    uint64
	}{
		{5_000, 50_000, 0},                        // baseline: what the counters held before we started is not ours to count
		{6_000, 60_000, 11_000},                   // +1000 +10000
		{200, 2_000, 13_200},                      // modem rebooted: counters restarted, all of it is new
		{700, 2_500, 14_200},                      // +500 +500
		{700, 2_500, 14_200},                      // no traffic
		{100, 90_000, 104_300},                    // one counter went backwards: treat both as reset
		{100, 100_000, 114_300},                   // +0 +10000
		{math.MaxUint64, 100_000, math.MaxUint64}, // absurd jump saturates instead of wrapping
	}
	for i, s := range steps {
		if closed := l.Observe(p, Sample{At: t0.Add(time.Duration(i) * time.Minute), Up: s.up, Down: s.down}); closed != nil {
			t.Fatalf("step %d closed a period", i)
		}
		if got := l.Usage(p, t0.Add(time.Duration(i)*time.Minute)).Total(); got != s.total {
			t.Fatalf("step %d: total = %d, want %d", i, got, s.total)
		}
	}
	if l.Resets != 2 {
		t.Errorf("resets = %d, want 2", l.Resets)
	}
}

func TestPeriodRollover(t *testing.T) {
	p := testProfile()
	p.BillingDay = 28
	l := NewLedger(time.UTC)
	feb27 := date(2026, 2, 27, 23, time.UTC)
	l.Observe(p, Sample{At: feb27, Up: 0, Down: 0})
	l.Observe(p, Sample{At: feb27.Add(30 * time.Minute), Up: 1_000, Down: 9_000})
	closed := l.Observe(p, Sample{At: feb27.Add(90 * time.Minute), Up: 2_000, Down: 18_000}) // Feb 28 00:30
	if len(closed) != 1 {
		t.Fatalf("closed = %d periods, want 1", len(closed))
	}
	old := closed[0]
	if old.Total() != 10_000 || !old.Period.End.Equal(date(2026, 2, 28, 0, time.UTC)) {
		t.Errorf("closed period = %+v, want 10000 bytes ending Feb 28", old)
	}
	cur := l.Usage(p, feb27.Add(90*time.Minute))
	if cur.Total() != 10_000 || !cur.Period.Start.Equal(date(2026, 2, 28, 0, time.UTC)) || !cur.Period.End.Equal(date(2026, 3, 28, 0, time.UTC)) {
		t.Errorf("new period = %+v", cur)
	}
	if !cur.Since.Equal(cur.Period.Start) {
		t.Errorf("since = %v, want the period start: we were counting across the boundary", cur.Since)
	}
	// A report in a later period with no samples shows a fresh, empty period
	// that still owes the monthly fee.
	r := l.Report(p, date(2026, 4, 2, 0, time.UTC))
	if r.Total() != 0 || !r.Period.Start.Equal(date(2026, 3, 28, 0, time.UTC)) || r.Cost != (Money{1_500_000, "USD"}) {
		t.Errorf("empty period report = %+v", r)
	}
}

func TestSamplesChargeTheActiveProfile(t *testing.T) {
	a, b := testProfile(), testProfile()
	b.Name = "backup"
	l := NewLedger(time.UTC)
	t0 := date(2026, 4, 10, 0, time.UTC)
	l.Observe(a, Sample{At: t0, Up: 100, Down: 100})
	l.Observe(a, Sample{At: t0.Add(time.Minute), Up: 200, Down: 300}) // a: 300
	// Switch: the modem keeps counting, b is charged from here on.
	l.Observe(b, Sample{At: t0.Add(2 * time.Minute), Up: 250, Down: 350}) // b: 100
	l.Observe(b, Sample{At: t0.Add(3 * time.Minute), Up: 10, Down: 20})   // b: +30 after a reset
	now := t0.Add(3 * time.Minute)
	if ua, ub := l.Usage(a, now).Total(), l.Usage(b, now).Total(); ua != 300 || ub != 130 {
		t.Errorf("a = %d, b = %d; want 300, 130", ua, ub)
	}
}

func TestReportCostAndForecast(t *testing.T) {
	p := testProfile() // cap 250 MB, 1.50/month, 0.002/MB, +0.004/MB roaming
	l := NewLedger(time.UTC)
	start := date(2026, 4, 1, 0, time.UTC) // April: 30 days
	l.Observe(p, Sample{At: start})
	if r := l.Report(p, start.Add(59*time.Minute)); r.Forecast != nil {
		t.Errorf("forecast after 59 min = %+v, want none", r.Forecast)
	}
	// Day 10: 100 MB, of which 25 MB while roaming.
	l.Observe(p, Sample{At: start.Add(5 * 24 * time.Hour), Up: 10e6, Down: 65e6})
	l.Observe(p, Sample{At: start.Add(10 * 24 * time.Hour), Up: 10e6, Down: 90e6, Roaming: true})
	now := start.Add(10 * 24 * time.Hour)
	r := l.Report(p, now)
	if r.Total() != 100e6 || r.Roaming != 25e6 {
		t.Fatalf("usage = %d (roaming %d)", r.Total(), r.Roaming)
	}
	// 1.50 + 100 MB * 0.002 + 25 MB * 0.004 = 1.80
	if r.Cost != (Money{1_800_000, "USD"}) {
		t.Errorf("cost = %v, want 1.8 USD", r.Cost)
	}
	if r.Remaining != 150e6 || r.OverCap {
		t.Errorf("remaining = %v, over = %v", r.Remaining, r.OverCap)
	}
	f := r.Forecast
	if f == nil {
		t.Fatal("no forecast after 10 days")
	}
	// 10 MB/day for 30 days: 300 MB, past the 250 MB cap on day 25.
	if f.BytesPerDay != 10e6 || f.Total != 300e6 || !f.OverCap {
		t.Errorf("forecast = %+v", f)
	}
	if want := start.Add(25 * 24 * time.Hour); f.CapReached == nil || !f.CapReached.Equal(want) {
		t.Errorf("cap reached at %v, want %v", f.CapReached, want)
	}
	// 1.50 + 300 * 0.002 + 75 (a quarter roaming) * 0.004 = 2.40
	if f.Cost != (Money{2_400_000, "USD"}) {
		t.Errorf("forecast cost = %v, want 2.4 USD", f.Cost)
	}

	// Over the cap: nothing remains, and the cap time is not in the future.
	l.Observe(p, Sample{At: now.Add(time.Hour), Up: 10e6, Down: 250e6})
	r = l.Report(p, now.Add(time.Hour))
	if !r.OverCap || r.Remaining != 0 || r.Forecast.CapReached != nil {
		t.Errorf("over cap report = %+v / %+v", r, r.Forecast)
	}
}

func TestReportNoCapNoCost(t *testing.T) {
	p := DefaultProfile(0)
	p.Name = "free"
	l := NewLedger(nil)
	t0 := date(2026, 4, 1, 0, time.UTC)
	l.Observe(&p, Sample{At: t0})
	l.Observe(&p, Sample{At: t0.Add(48 * time.Hour), Up: 1, Down: 1})
	r := l.Report(&p, t0.Add(48*time.Hour))
	if r.Cost.Micros != 0 || r.Remaining != 0 || r.OverCap || r.Forecast == nil || r.Forecast.OverCap || r.Forecast.CapReached != nil {
		t.Errorf("uncapped free report = %+v / %+v", r, r.Forecast)
	}
}

func TestLedgerJSONRoundTrip(t *testing.T) {
	p := testProfile()
	l := NewLedger(time.UTC)
	t0 := date(2026, 4, 1, 0, time.UTC)
	l.Observe(p, Sample{At: t0, Up: 1, Down: 2})
	l.Observe(p, Sample{At: t0.Add(time.Hour), Up: 10, Down: 20, Roaming: true})
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	var back Ledger
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(l, &back, cmpopts.IgnoreFields(Ledger{}, "Location")); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	back.Location = time.UTC
	// The restored ledger keeps counting from the persisted baseline.
	back.Observe(p, Sample{At: t0.Add(2 * time.Hour), Up: 15, Down: 25})
	if got := back.Usage(p, t0.Add(2*time.Hour)).Total(); got != 37 {
		t.Errorf("total after restore = %d, want 37", got)
	}
	var r Report
	if err := json.Unmarshal(mustJSON(t, l.Report(p, t0.Add(2*time.Hour))), &r); err != nil {
		t.Errorf("report JSON: %v", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMulDivRound(t *testing.T) {
	tests := []struct {
		a    uint64
		b    int64
		want int64
	}{
		{1_000_000, 2_000, 2_000},
		{1, 499_999, 0},
		{1, 500_000, 1},
		{0, 5, 0},
		{5, -1, 0},
		{math.MaxUint64, math.MaxInt64, math.MaxInt64},
		{1e15, 1e9, 1e18},
	}
	for _, tt := range tests {
		if got := mulDivRound(tt.a, tt.b, 1_000_000); got != tt.want {
			t.Errorf("mulDivRound(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
