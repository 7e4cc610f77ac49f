package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// The world (testdata/world.yaml): which networks accept which profile, the
// modem's own timing model, and the data rate every network carries.
const (
	homePLMN = "310260"
	roamPLMN = "310410"
	// MeasureFrom is when measuring starts: every policy is attached by then.
	MeasureFrom = 2 * time.Minute
	// modelled is the modem's own share of a switch in the world's timing
	// model: refresh_delay 2 s + attach_delay 5 s + pdp_activate 1 s.
	modelled = 8 * time.Second
	// bytesPerSec is tx_bps + rx_bps of every network while data flows.
	bytesPerSec = 1700
	// FlapWindow: a switch back to a profile left less than this long ago is
	// a flap.
	FlapWindow = 10 * time.Minute
	// rogueCI is the IMSI catcher's cell.
	rogueCI = 0xBAD0001
)

// accepts is the world's access matrix: the networks each profile can use.
var accepts = map[string][]string{
	"home": {homePLMN},
	"roam": {roamPLMN},
	"last": {homePLMN, roamPLMN},
}

// Span is a half-open interval of scenario time.
type Span struct{ From, To time.Duration }

// Episode is one seeded instance of a scenario.
type Episode struct {
	// Timeline is appended to the world as the simulator's timeline.
	Timeline string
	// Onset is when the fault starts (failover is measured from the first
	// loss of data at or after it).
	Onset time.Duration
	// Down says when each network is unusable: the oracle's knowledge.
	Down map[string][]Span
}

// Scenario is one benchmark situation.
type Scenario struct {
	Name, Title string
	// Duration is the scenario time simulated per repetition.
	Duration time.Duration
	// Reps is the number of seeded repetitions; Sample the metering step.
	Reps   int
	Sample time.Duration
	// Failover says whether a failover is expected (data lost on one
	// profile, available on another).
	Failover bool
	Build    func(rng *rand.Rand) Episode
}

func items(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func ev(format string, a ...any) string { return "  - " + fmt.Sprintf(format, a...) }

func secs(d time.Duration) string { return fmt.Sprintf("%ds", int(d/time.Second)) }

// jitter is the seeded part of an onset: where the fault falls against the
// policies' poll phases.
func jitter(rng *rand.Rand, max time.Duration) time.Duration {
	return time.Duration(rng.Int64N(int64(max/time.Second))) * time.Second
}

// Scenarios returns the full benchmark.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "outage", Title: "Hard outage (home network gone for 30 min)", Duration: 45 * time.Minute, Reps: 20,
			Sample: time.Second, Failover: true, Build: func(rng *rand.Rand) Episode {
				on := 5*time.Minute + jitter(rng, time.Minute)
				return Episode{Onset: on,
					Timeline: items(ev(`{at: %s, event: outage, network: "%s", duration: 30m}`, secs(on), homePLMN)),
					Down:     map[string][]Span{homePLMN: {{on, on + 30*time.Minute}}}}
			}},
		{Name: "core-outage", Title: "Core outage while registered (30 min)", Duration: 45 * time.Minute, Reps: 20,
			Sample: time.Second, Failover: true, Build: func(rng *rand.Rand) Episode {
				on := 5*time.Minute + jitter(rng, time.Minute)
				return Episode{Onset: on,
					Timeline: items(ev(`{at: %s, event: core_outage, network: "%s", duration: 30m}`, secs(on), homePLMN)),
					Down:     map[string][]Span{homePLMN: {{on, on + 30*time.Minute}}}}
			}},
		{Name: "slow-fade", Title: "Slow fade of home below the usable floor over 10 min", Duration: time.Hour, Reps: 20,
			Sample: time.Second, Failover: true, Build: func(rng *rand.Rand) Episode {
				on := 5*time.Minute + jitter(rng, time.Minute)
				// RSRP -88 → -128 dBm crosses the simulator's -124 dBm floor
				// 540 s into the 600 s ramp (SINR crosses -10 dB at 556 s).
				return Episode{Onset: on,
					Timeline: items(ev(`{at: %s, event: signal, network: "%s", signal: {rsrp: -128, rsrq: -20, sinr: -12, rssi: -98}, over: 10m}`, secs(on), homePLMN)),
					Down:     map[string][]Span{homePLMN: {{on + 540*time.Second, 1 << 62}}}}
			}},
		{Name: "noisy-24h", Title: "Noisy but adequate home signal for 24 h", Duration: 24 * time.Hour, Reps: 2,
			Sample: 5 * time.Second, Build: noisy},
		{Name: "tariff-7d", Title: "7-day tariff trace: cheap home with coverage gaps, dear roam", Duration: 7 * 24 * time.Hour,
			Reps: 1, Sample: 5 * time.Second, Build: tariff},
		{Name: "catcher", Title: "IMSI catcher: 2G downgrade onto an unknown cell for 30 min", Duration: 45 * time.Minute,
			Reps: 20, Sample: time.Second, Build: func(rng *rand.Rand) Episode {
				on := 5*time.Minute + jitter(rng, time.Minute)
				// The oracle avoids the attacked network: any profile on it
				// would be on the catcher.
				return Episode{Onset: on, Down: map[string][]Span{homePLMN: {{on, on + 30*time.Minute}}},
					Timeline: items(ev(`{at: %s, event: cell, network: "%s", duration: 30m, `+
						`cell: {rat: GSM, tac: "0666", ci: "%X", earfcn: 50, pci: 5, band: 900}, signal: {rssi: -55}}`,
						secs(on), homePLMN, rogueCI))}
			}},
		{Name: "jamming", Title: "Jamming: SINR -8 dB on every network, then -15 dB (service lost) for 20 min",
			Duration: 45 * time.Minute, Reps: 20, Sample: time.Second, Build: func(rng *rand.Rand) Episode {
				on := 5*time.Minute + jitter(rng, time.Minute)
				deep, end := on+3*time.Minute, on+23*time.Minute
				span := []Span{{deep, end}}
				return Episode{Onset: on, Timeline: items(
					ev(`{at: %s, event: jamming, sinr: -8}`, secs(on)),
					ev(`{at: %s, event: jamming, sinr: -15}`, secs(deep)),
					ev(`{at: %s, event: jamming_end}`, secs(end))),
					Down: map[string][]Span{homePLMN: span, roamPLMN: span}}
			}},
		{Name: "jamming-abrupt", Title: "Jamming at once at -15 dB on every network for 20 min (service lost before any poll sees it)",
			Duration: 45 * time.Minute, Reps: 20, Sample: time.Second, Build: func(rng *rand.Rand) Episode {
				on := 5*time.Minute + jitter(rng, time.Minute)
				span := []Span{{on, on + 20*time.Minute}}
				return Episode{Onset: on, Timeline: items(ev(`{at: %s, event: jamming, sinr: -15, duration: 20m}`, secs(on))),
					Down: map[string][]Span{homePLMN: span, roamPLMN: span}}
			}},
	}
}

// CIScenarios is the CI-sized subset: one short hard outage.
func CIScenarios() []Scenario {
	return []Scenario{{Name: "outage-short", Title: "Hard outage, short", Duration: 8 * time.Minute, Reps: 1,
		Sample: time.Second, Failover: true, Build: func(*rand.Rand) Episode {
			on := 3 * time.Minute
			return Episode{Onset: on,
				Timeline: items(ev(`{at: %s, event: outage, network: "%s", duration: 10m}`, secs(on), homePLMN)),
				Down:     map[string][]Span{homePLMN: {{on, on + 10*time.Minute}}}}
		}}}
}

// noisy moves home's signal every minute around -100 dBm / 3 dB SINR: worse
// than roam's steady -95 dBm / 11 dB but always above the usable floor.
func noisy(rng *rand.Rand) Episode {
	var lines []string
	clamp := func(v, lo, hi float64) float64 { return max(lo, min(hi, v)) }
	for t := time.Minute; t < 24*time.Hour; t += time.Minute {
		rsrp := clamp(-100+4*rng.NormFloat64(), -110, -92)
		sinr := clamp(3+3*rng.NormFloat64(), -5, 12)
		lines = append(lines, ev(`{at: %s, event: signal, network: "%s", signal: {rsrp: %.0f, sinr: %.0f, rsrq: %.0f}}`,
			secs(t), homePLMN, rsrp, sinr, clamp(-9+(sinr-15)/3, -19, -3)))
	}
	return Episode{Timeline: items(lines...)}
}

// tariff is a week: home (cheapest) loses coverage five times, roam once
// while home is fine.
func tariff(*rand.Rand) Episode {
	day := 24 * time.Hour
	home := []Span{
		{day + 9*time.Hour, day + 12*time.Hour},
		{2*day + 18*time.Hour, 2*day + 18*time.Hour + 45*time.Minute},
		{3*day + 13*time.Hour, 3*day + 19*time.Hour},
		{5*day + 3*time.Hour, 5*day + 4*time.Hour},
		{6*day + 11*time.Hour, 6*day + 11*time.Hour + 20*time.Minute},
	}
	roam := []Span{{4*day + 10*time.Hour, 4*day + 12*time.Hour}}
	var lines []string
	for _, s := range home {
		lines = append(lines, ev(`{at: %s, event: outage, network: "%s", duration: %s}`, secs(s.From), homePLMN, secs(s.To-s.From)))
	}
	for _, s := range roam {
		lines = append(lines, ev(`{at: %s, event: outage, network: "%s", duration: %s}`, secs(s.From), roamPLMN, secs(s.To-s.From)))
	}
	return Episode{Timeline: items(lines...), Onset: home[0].From,
		Down: map[string][]Span{homePLMN: home, roamPLMN: roam}}
}
