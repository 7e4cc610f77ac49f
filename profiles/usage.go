package profiles

import (
	"math"
	"math/bits"
	"time"
)

// Usage accounting is deterministic: every call takes the time it is about,
// nothing reads a clock and nothing runs in the background. The daemon feeds
// modem counter readings in, persists the Ledger as JSON, and stores the
// finished periods Observe hands back.

// Period is a billing period, [Start, End).
type Period struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Contains reports whether t falls in the period.
func (p Period) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

// PeriodAt returns the billing period containing t for a period that starts
// at midnight on billingDay (1-28) in loc. A nil loc means UTC.
func PeriodAt(t time.Time, billingDay int, loc *time.Location) Period {
	if loc == nil {
		loc = time.UTC
	}
	billingDay = min(max(billingDay, 1), 28)
	lt := t.In(loc)
	y, m, _ := lt.Date()
	start := time.Date(y, m, billingDay, 0, 0, 0, 0, loc)
	if t.Before(start) {
		start = time.Date(y, m-1, billingDay, 0, 0, 0, 0, loc)
	}
	return Period{Start: start, End: time.Date(start.Year(), start.Month()+1, billingDay, 0, 0, 0, 0, loc)}
}

// Sample is one reading of the modem's cumulative data counters.
type Sample struct {
	At time.Time `json:"at"`
	// Up and Down count bytes since the modem last reset its counters (a
	// reboot, a new PDP context); a reading lower than the previous one is
	// taken as such a reset.
	Up   uint64 `json:"up"`
	Down uint64 `json:"down"`
	// Roaming says the interval ending at At was spent roaming.
	Roaming bool `json:"roaming,omitempty"`
}

// Usage is one profile's consumption in one billing period.
type Usage struct {
	Profile string `json:"profile"`
	Period  Period `json:"period"`
	Up      uint64 `json:"bytes_up"`
	Down    uint64 `json:"bytes_down"`
	// Roaming is the part of Up+Down used while roaming.
	Roaming uint64 `json:"roaming_bytes"`
	// Since is when accounting of this period began: the period start if we
	// were already counting, otherwise our first reading. Bytes used before
	// it are unknown, and the burn rate is measured from it.
	Since   time.Time `json:"since"`
	Updated time.Time `json:"updated"`
}

// Total is Up+Down.
func (u Usage) Total() uint64 { return satAdd(u.Up, u.Down) }

// Ledger accumulates usage per profile for the current billing periods.
type Ledger struct {
	// Location is the site's time zone for period boundaries; nil means UTC.
	// It is not persisted: set it after loading a Ledger from JSON.
	Location *time.Location `json:"-"`

	Current map[string]*Usage `json:"current"`
	// Last is the previous counter reading; deltas are taken against it
	// whatever profile was active, because the counters belong to the modem.
	Last *Sample `json:"last,omitempty"`
	// Started is the first reading ever: usage before it is unknown.
	Started time.Time `json:"started"`
	// Resets counts counter resets seen, for diagnostics.
	Resets int `json:"counter_resets"`
}

// NewLedger returns an empty ledger computing periods in loc.
func NewLedger(loc *time.Location) *Ledger {
	return &Ledger{Location: loc, Current: map[string]*Usage{}}
}

// Observe accounts the bytes used between the previous reading and s to p,
// the profile that was active during that interval; the caller takes a
// reading just before each switch so bytes land on the right profile. The
// first reading only sets the baseline. It returns the usage of any period
// of p that s's time has closed, for the caller to store. If p's billing day
// changes (a reload), the running period keeps its end and the next one
// follows the new day.
func (l *Ledger) Observe(p *Profile, s Sample) (closed []Usage) {
	if l.Current == nil {
		l.Current = map[string]*Usage{}
	}
	var dUp, dDown uint64
	if l.Last == nil && l.Started.IsZero() {
		l.Started = s.At
	}
	if last := l.Last; last != nil {
		if s.Up < last.Up || s.Down < last.Down {
			// Counters restarted from zero: everything they hold is new.
			dUp, dDown = s.Up, s.Down
			l.Resets++
		} else {
			dUp, dDown = s.Up-last.Up, s.Down-last.Down
		}
	}
	saved := s
	l.Last = &saved

	u := l.Current[p.Name]
	if u != nil && !s.At.Before(u.Period.End) {
		closed = append(closed, *u)
		u = nil
	}
	if u == nil {
		per := PeriodAt(s.At, p.BillingDay, l.Location)
		u = &Usage{Profile: p.Name, Period: per, Since: l.since(per, s.At)}
		l.Current[p.Name] = u
	}
	// A delta spanning a period boundary is charged to the period it ends in:
	// readings are seconds apart, so the error is one poll's worth of bytes.
	u.Up = satAdd(u.Up, dUp)
	u.Down = satAdd(u.Down, dDown)
	if s.Roaming {
		u.Roaming = satAdd(u.Roaming, satAdd(dUp, dDown))
	}
	if s.At.After(u.Updated) {
		u.Updated = s.At
	}
	return closed
}

// Usage returns p's usage for the period containing now: zero if nothing
// has been recorded in that period yet.
func (l *Ledger) Usage(p *Profile, now time.Time) Usage {
	if u := l.Current[p.Name]; u != nil && u.Period.Contains(now) {
		return *u
	}
	per := PeriodAt(now, p.BillingDay, l.Location)
	return Usage{Profile: p.Name, Period: per, Since: l.since(per, now)}
}

// since is when observation of per began, as seen at now: a profile that was
// idle while we were counting has used nothing, which is a known zero.
func (l *Ledger) since(per Period, now time.Time) time.Time {
	if l.Started.IsZero() || l.Started.After(now) {
		return now
	}
	return maxTime(per.Start, l.Started)
}

// MinForecastWindow is how long a period must have been observed before a
// burn rate is extrapolated; an hour of data says little, less says nothing.
const MinForecastWindow = time.Hour

// Report is a profile's standing in the current period.
type Report struct {
	Usage
	// Cost so far: the monthly fee, plus per-MB, plus the roaming surcharge.
	Cost Money `json:"cost"`
	// Cap is the allowance (0: none); Remaining what is left of it.
	Cap       ByteSize `json:"cap"`
	Remaining ByteSize `json:"remaining"`
	OverCap   bool     `json:"over_cap"`
	// Forecast is nil until the period has been observed for MinForecastWindow.
	Forecast *Forecast `json:"forecast,omitempty"`
}

// Forecast extrapolates the burn rate so far to the end of the period.
type Forecast struct {
	BytesPerDay uint64 `json:"bytes_per_day"`
	// Total and Cost are projected to the end of the period.
	Total uint64 `json:"total"`
	Cost  Money  `json:"cost"`
	// CapReached is when the cap runs out at this rate, if within the period.
	CapReached *time.Time `json:"cap_reached,omitempty"`
	OverCap    bool       `json:"over_cap"`
}

// Report computes p's cost, remaining cap and forecast at now.
func (l *Ledger) Report(p *Profile, now time.Time) Report {
	u := l.Usage(p, now)
	r := Report{Usage: u, Cap: p.DataCap}
	r.Cost = cost(p.Cost, u.Total(), u.Roaming)
	if p.DataCap > 0 {
		capB := uint64(p.DataCap)
		r.OverCap = u.Total() >= capB
		if !r.OverCap {
			r.Remaining = ByteSize(capB - u.Total())
		}
	}
	observed := now.Sub(u.Since)
	left := u.Period.End.Sub(now)
	if observed < MinForecastWindow || left < 0 {
		return r
	}
	rate := float64(u.Total()) / observed.Seconds() // bytes per second
	f := &Forecast{BytesPerDay: toUint(rate * 86400)}
	f.Total = satAdd(u.Total(), toUint(rate*left.Seconds()))
	roamShare := 0.0
	if u.Total() > 0 {
		roamShare = float64(u.Roaming) / float64(u.Total())
	}
	f.Cost = cost(p.Cost, f.Total, toUint(float64(f.Total)*roamShare))
	if p.DataCap > 0 {
		capB := uint64(p.DataCap)
		f.OverCap = f.Total >= capB
		if !r.OverCap && rate > 0 && f.OverCap {
			at := now.Add(time.Duration(float64(capB-u.Total()) / rate * float64(time.Second)))
			f.CapReached = &at
		}
	}
	r.Forecast = f
	return r
}

// cost prices total bytes (roaming of them roaming) under c. A megabyte is
// 10^6 bytes, as carriers bill.
func cost(c Cost, total, roaming uint64) Money {
	m := c.PerMonth.Micros
	m = satAddInt(m, mulDivRound(total, c.PerMB.Micros, 1_000_000))
	m = satAddInt(m, mulDivRound(roaming, c.RoamingPerMB.Micros, 1_000_000))
	return Money{Micros: m, Currency: c.Currency}
}

// mulDivRound returns round(a*b/d) without overflowing, saturating at MaxInt64.
func mulDivRound(a uint64, b int64, d uint64) int64 {
	if b <= 0 || a == 0 {
		return 0
	}
	hi, lo := bits.Mul64(a, uint64(b))
	lo, carry := bits.Add64(lo, d/2, 0)
	hi += carry
	if hi >= d {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, d)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

func satAdd(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return math.MaxUint64
	}
	return s
}

func satAddInt(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func toUint(f float64) uint64 {
	switch {
	case !(f > 0):
		return 0
	case f >= math.MaxUint64:
		return math.MaxUint64
	}
	return uint64(math.Round(f))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
