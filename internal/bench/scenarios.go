package bench

import (
	"fmt"
	"math/rand/v2"
	"slices"
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
	// modelled is the modem's expected share of a switch in the world's
	// timing model: refresh 1–5 s (3 s) + attach 5–30 s (17.5 s) + a full
	// PLMN search after 10 % of IMSI changes, 30–90 s (6 s) + PDP
	// activation 1 s. The oracle pays it per switch.
	modelled = 27500 * time.Millisecond
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
	// Refused says when a profile is refused wherever it tries (the
	// oracle's knowledge of rejects).
	Refused map[string][]Span
	// Idle: no traffic flows (the oracle's money is then 0 too); Rate,
	// if set, is the mean bytes/s that flow (default bytesPerSec).
	Idle bool
	Rate float64
	// Price, if set, is the price per byte a profile is billed at time t
	// (tariff changes no policy is told of); nil: the configured price.
	Price func(profile string, t time.Duration) (perByte float64, ok bool)
	// World, if set, edits the world YAML before the timeline is appended.
	World func(string) string
	// SwitchTime, if set, is the modem's share of a switch the oracle pays
	// (default modelled, the world's expected timing).
	SwitchTime time.Duration
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
	Build    func(rng *rand.Rand) Episode `json:"-"`
	// HeldOut is the number of extra seeds (from HeldOutBase) run and
	// reported apart: seeds no one looked at while tuning.
	HeldOut int
	// Only restricts the variants run (nil: all); the report says which
	// were left out and why.
	Only []string
}

// HeldOutBase is the first held-out seed; tuning seeds are 1…Reps.
const HeldOutBase = 1001

// Seeds are the tuning seeds and the held-out seeds of sc.
func (sc Scenario) Seeds() (tuning, heldOut []uint64) {
	for i := range sc.Reps {
		tuning = append(tuning, uint64(i+1))
	}
	for i := range sc.HeldOut {
		heldOut = append(heldOut, uint64(HeldOutBase+i))
	}
	return tuning, heldOut
}

// Runs reports whether sc runs variant v.
func (sc Scenario) Runs(v string) bool {
	return sc.Only == nil || slices.Contains(sc.Only, v)
}

func items(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func ev(format string, a ...any) string { return "  - " + fmt.Sprintf(format, a...) }

func secs(d time.Duration) string { return fmt.Sprintf("%ds", int(d/time.Second)) }

// jitter is the seeded part of an onset: where the fault falls against the
// policies' poll phases.
func jitter(rng *rand.Rand, max time.Duration) time.Duration {
	return time.Duration(rng.Int64N(int64(max/time.Second))) * time.Second
}

// short is the repetition count of the short scenarios: Reps tuning seeds
// and shortHeldOut held-out seeds.
const (
	shortReps    = 10
	shortHeldOut = 5
)

// longVariants are the policies the month trace runs (each month costs
// minutes of wall time): ours, the router and mwan3 at defaults and tuned,
// and the fastest applet (the slower applets and ours without counters are
// left out).
var longVariants = []string{"ours", "router-defaults", "router-fast", "mwan3-defaults", "mwan3-tuned", "applet-3min"}

// Scenarios returns the full benchmark.
func Scenarios() []Scenario {
	scs := []Scenario{
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
	scs = append(scs, newScenarios()...)
	// Issue 11's targets, judged at its own modem timing.
	for _, name := range []string{"outage", "refused-cause7", "core-outage", "core-idle"} {
		for _, sc := range scs {
			if sc.Name == name {
				scs = append(scs, issue11Timing(sc))
			}
		}
	}
	for i := range scs {
		if scs[i].Reps == 20 {
			scs[i].Reps, scs[i].HeldOut = shortReps, shortHeldOut
		}
	}
	return scs
}

// CIScenarios is the CI-sized subset make test runs under every policy: a
// short hard outage and a short core outage (a dead data path, where every
// failed probe waits out its timeout).
func CIScenarios() []Scenario {
	return []Scenario{
		{Name: "outage-short", Title: "Hard outage, short", Duration: 8 * time.Minute, Reps: 1,
			Sample: time.Second, Failover: true, Build: func(*rand.Rand) Episode {
				on := 3 * time.Minute
				return Episode{Onset: on,
					Timeline: items(ev(`{at: %s, event: outage, network: "%s", duration: 10m}`, secs(on), homePLMN)),
					Down:     map[string][]Span{homePLMN: {{on, on + 10*time.Minute}}}}
			}},
		{Name: "core-short", Title: "Core outage, short", Duration: 8 * time.Minute, Reps: 1,
			Sample: time.Second, Failover: true, Build: func(*rand.Rand) Episode {
				on := 3 * time.Minute
				return Episode{Onset: on,
					Timeline: items(ev(`{at: %s, event: core_outage, network: "%s", duration: 10m}`, secs(on), homePLMN)),
					Down:     map[string][]Span{homePLMN: {{on, on + 10*time.Minute}}}}
			}},
	}
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
