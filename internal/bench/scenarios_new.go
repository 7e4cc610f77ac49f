package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// roamIMSI and homeIMSI match the world's IMSIs of roam and home.
const (
	homeIMSI = "310260*"
	roamIMSI = "204041*"
)

// onset is where a short scenario's fault starts: 5 min in, plus the seed's
// place against the policies' poll phases.
func onset(rng *rand.Rand) time.Duration { return 5*time.Minute + jitter(rng, time.Minute) }

func outage(plmn string, at, d time.Duration) string {
	return ev(`{at: %s, event: outage, network: "%s", duration: %s}`, secs(at), plmn, secs(d))
}

func brief(d time.Duration) Scenario {
	return Scenario{Name: fmt.Sprintf("brief-%ds", int(d/time.Second)),
		Title:    fmt.Sprintf("Brief outage: home gone for %d s (staying put is best)", int(d/time.Second)),
		Duration: 20 * time.Minute, Reps: 20, Sample: time.Second, Failover: true,
		Build: func(rng *rand.Rand) Episode {
			on := onset(rng)
			return Episode{Onset: on, Timeline: items(outage(homePLMN, on, d)),
				Down: map[string][]Span{homePLMN: {{on, on + d}}}}
		}}
}

// idleWorld stops every network's traffic: an idle link, whose byte
// counters say nothing about the data path.
func idleWorld(s string) string {
	return strings.ReplaceAll(s, "traffic: {tx_bps: 200, rx_bps: 1500}", "traffic: {tx_bps: 0, rx_bps: 0}")
}

// bursts is a store's traffic on plmn: 30 s of transfers every 2 min,
// silence in between, from 1 min to until.
func bursts(plmn string, until time.Duration) []string {
	var out []string
	for t := time.Minute; t < until; t += 2 * time.Minute {
		out = append(out,
			ev(`{at: %s, event: traffic, network: "%s", traffic: {tx_bps: 400, rx_bps: 3000}}`, secs(t), plmn),
			ev(`{at: %s, event: traffic, network: "%s", traffic: {tx_bps: 0, rx_bps: 0}}`, secs(t+30*time.Second), plmn))
	}
	return out
}

// refused: home goes out and the first candidate (roam) is refused with
// cause on its network; only last can carry data.
func refused(cause int) Scenario {
	return Scenario{Name: fmt.Sprintf("refused-cause%d", cause),
		Title:    fmt.Sprintf("Home out for 30 min; the first candidate (roam) is refused with cause %d", cause),
		Duration: 45 * time.Minute, Reps: 20, Sample: time.Second, Failover: true,
		Build: func(rng *rand.Rand) Episode {
			on := onset(rng)
			return Episode{Onset: on,
				Timeline: items(
					ev(`{at: 60s, event: reject, network: "%s", imsi: "%s", cause: %d}`, roamPLMN, roamIMSI, cause),
					outage(homePLMN, on, 30*time.Minute)),
				Down:    map[string][]Span{homePLMN: {{on, on + 30*time.Minute}}},
				Refused: map[string][]Span{"roam": {{0, 1 << 62}}}}
		}}
}

func newScenarios() []Scenario {
	return []Scenario{
		brief(10 * time.Second), brief(25 * time.Second), brief(40 * time.Second),
		{Name: "core-idle", Title: "Core outage (30 min) on an idle link: no traffic, the counters say nothing",
			Duration: 45 * time.Minute, Reps: 20, Sample: time.Second, Failover: true,
			Build: func(rng *rand.Rand) Episode {
				on := onset(rng)
				return Episode{Onset: on, Idle: true, World: idleWorld,
					Timeline: items(ev(`{at: %s, event: core_outage, network: "%s", duration: 30m}`, secs(on), homePLMN)),
					Down:     map[string][]Span{homePLMN: {{on, on + 30*time.Minute}}}}
			}},
		{Name: "core-bursty", Title: "Core outage (30 min) on a bursty link: 30 s of traffic every 2 min",
			Duration: 45 * time.Minute, Reps: 20, Sample: time.Second, Failover: true,
			Build: func(rng *rand.Rand) Episode {
				on := onset(rng)
				lines := append(bursts(homePLMN, 45*time.Minute), bursts(roamPLMN, 45*time.Minute)...)
				lines = append(lines, ev(`{at: %s, event: core_outage, network: "%s", duration: 30m}`, secs(on), homePLMN))
				return Episode{Onset: on, Timeline: items(lines...), World: idleWorld, Rate: 3400 * 30 / 120,
					Down: map[string][]Span{homePLMN: {{on, on + 30*time.Minute}}}}
			}},
		refused(7), refused(15),
		{Name: "reject-storm", Title: "Reject storm: home goes out, roam rejects with 15, then 13, then 11 for 10 min each",
			Duration: 45 * time.Minute, Reps: 20, Sample: time.Second, Failover: true,
			Build: func(rng *rand.Rand) Episode {
				on := onset(rng)
				rej := func(at time.Duration, cause int) string {
					return ev(`{at: %s, event: reject, network: "%s", imsi: "%s", cause: %d}`, secs(at), roamPLMN, roamIMSI, cause)
				}
				return Episode{Onset: on,
					Timeline: items(rej(on-30*time.Second, 15), rej(on+10*time.Minute, 13), rej(on+20*time.Minute, 11),
						ev(`{at: %s, event: accept, network: "%s", imsi: "%s", result: roaming}`, secs(on+30*time.Minute), roamPLMN, roamIMSI),
						outage(homePLMN, on, 30*time.Minute)),
					Down:    map[string][]Span{homePLMN: {{on, on + 30*time.Minute}}},
					Refused: map[string][]Span{"roam": {{on - 30*time.Second, on + 30*time.Minute}}}}
			}},
		{Name: "jam-then-attack", Title: "Jamming (-15 dB, 5 min) on every network, then an IMSI catcher on home (2G, 20 min)",
			Duration: 45 * time.Minute, Reps: 20, Sample: time.Second,
			Build: func(rng *rand.Rand) Episode {
				on := onset(rng)
				att := on + 5*time.Minute
				return Episode{Onset: on,
					Timeline: items(ev(`{at: %s, event: jamming, sinr: -15, duration: 5m}`, secs(on)),
						ev(`{at: %s, event: cell, network: "%s", duration: 20m, `+
							`cell: {rat: GSM, tac: "0666", ci: "%X", earfcn: 50, pci: 5, band: 900}, signal: {rssi: -55}}`,
							secs(att), homePLMN, rogueCI)),
					Down: map[string][]Span{homePLMN: {{on, att + 20*time.Minute}}, roamPLMN: {{on, att}}}}
			}},
		{Name: "no-network", Title: "No allowed network in reach: home and roam both gone for 20 min",
			Duration: 45 * time.Minute, Reps: 20, Sample: time.Second, Failover: true,
			Build: func(rng *rand.Rand) Episode {
				on := onset(rng)
				span := []Span{{on, on + 20*time.Minute}}
				return Episode{Onset: on,
					Timeline: items(outage(homePLMN, on, 20*time.Minute), outage(roamPLMN, on, 20*time.Minute)),
					Down:     map[string][]Span{homePLMN: span, roamPLMN: span}}
			}},
		{Name: "ota-storm", Title: "Operator switch storm (the carrier's OTA flips the IMSI 6 times in 3 min), then home out for 30 min",
			Duration: 50 * time.Minute, Reps: 20, Sample: time.Second, Failover: true,
			Build: func(rng *rand.Rand) Episode {
				st := onset(rng)
				var lines []string
				for i := range 6 {
					lines = append(lines, ev(`{at: %s, event: switch_imsi, index: %d}`, secs(st+time.Duration(i)*30*time.Second), (i+1)%2))
				}
				on := st + 5*time.Minute
				lines = append(lines, outage(homePLMN, on, 30*time.Minute))
				return Episode{Onset: on, Timeline: items(lines...),
					Down: map[string][]Span{homePLMN: {{on, on + 30*time.Minute}}}}
			}},
		{Name: "month", Title: "A month: home outages of realistic lengths (many under a minute, some minutes, a few hours), roam outages, a roaming tariff change",
			Duration: 30 * 24 * time.Hour, Reps: 1, Sample: 5 * time.Second, Only: longVariants, Build: month},
	}
}

// month is 30 days: home has outages drawn from a mix of lengths (60 %
// 10–60 s, 30 % 2–20 min, 10 % 1–6 h), about three a day; roam has a
// couple of its own; from day 10 to day 20 roam is billed at twice its
// price (a tariff change the policies are not told of).
func month(rng *rand.Rand) Episode {
	const days = 30
	day := 24 * time.Hour
	var home, roam []Span
	for t := 3 * time.Hour; t < days*day-12*time.Hour; {
		var d time.Duration
		switch x := rng.Float64(); {
		case x < 0.6:
			d = time.Duration(10+rng.IntN(51)) * time.Second
		case x < 0.9:
			d = time.Duration(2+rng.IntN(19)) * time.Minute
		default:
			d = time.Duration(60+rng.IntN(301)) * time.Minute
		}
		home = append(home, Span{t, t + d})
		t += d + time.Duration(2+rng.IntN(14))*time.Hour
	}
	for _, at := range []time.Duration{4*day + 10*time.Hour, 17*day + 15*time.Hour} {
		roam = append(roam, Span{at, at + 2*time.Hour})
	}
	var lines []string
	for _, s := range home {
		lines = append(lines, outage(homePLMN, s.From, s.To-s.From))
	}
	for _, s := range roam {
		lines = append(lines, outage(roamPLMN, s.From, s.To-s.From))
	}
	base := 0.012 / 1e6 // roam: 0.008 + 0.004 roaming per MB
	return Episode{Timeline: items(lines...), Onset: home[0].From,
		Down: map[string][]Span{homePLMN: home, roamPLMN: roam},
		Price: func(p string, t time.Duration) (float64, bool) {
			if p == "roam" && t >= 10*day && t < 20*day {
				return 2 * base, true
			}
			return 0, false
		}}
}

// Issue 11's modem timing: its failover targets (hard outage median
// ≤ 15 s, p95 ≤ 20 s; first candidate refused ≤ 60 s p95; core outage
// ≤ 20 s p95 on a busy link, ≤ 40 s on an idle one) assume a modem that
// refreshes the SIM in 2 s, attaches in 5 s and activates PDP in 1 s,
// without a PLMN search. The "-i11" scenarios run the same episodes at that
// fixed timing (labelled as such in the report), so that those targets are
// judged at the timing they were set for; the other scenarios keep the
// drawn 5–30 s attaches.
const (
	i11Refresh = 2 * time.Second
	i11Attach  = 5 * time.Second
	i11PDP     = time.Second
	// I11Suffix names a scenario run at issue 11's timing.
	I11Suffix = "-i11"
)

// i11World replaces the world's drawn timing with issue 11's fixed one.
func i11World(s string) string {
	for _, r := range [][2]string{
		{"attach_delay: 5s\n", fmt.Sprintf("attach_delay: %s\n", i11Attach)},
		{"  attach_delay_max: 30s\n", ""},
		{"refresh_delay: 1s\n", fmt.Sprintf("refresh_delay: %s\n", i11Refresh)},
		{"  refresh_delay_max: 5s\n", ""},
		{"  plmn_search: {probability: 0.1, min: 30s, max: 90s}\n", ""},
		{"pdp_activate: 1s", fmt.Sprintf("pdp_activate: %s", i11PDP)},
	} {
		if !strings.Contains(s, r[0]) {
			panic("bench: world.yaml's timing changed; i11World cannot find " + r[0])
		}
		s = strings.Replace(s, r[0], r[1], 1)
	}
	return s
}

// issue11Timing is sc at issue 11's fixed modem timing.
func issue11Timing(sc Scenario) Scenario {
	out := sc
	out.Name = sc.Name + I11Suffix
	out.Title = sc.Title + fmt.Sprintf(", at issue 11's modem timing (fixed: SIM refresh %s, attach %s, PDP %s, no PLMN search)",
		secs(i11Refresh), secs(i11Attach), secs(i11PDP))
	build := sc.Build
	out.Build = func(rng *rand.Rand) Episode {
		ep := build(rng)
		world := ep.World
		ep.World = func(s string) string {
			if world != nil {
				s = world(s)
			}
			return i11World(s)
		}
		ep.SwitchTime = i11Refresh + i11Attach + i11PDP
		return ep
	}
	return out
}
