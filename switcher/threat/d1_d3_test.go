package threat

import (
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
)

// gsm is a registration on a 2G cell.
func gsm() Observation {
	return Observation{
		Profile:      "home",
		Registration: &modem.Registration{Domain: modem.DomainCS, Status: modem.RegHome, Area: ptr(uint32(0x1A2B)), CellID: ptr(uint64(0xC3)), AcT: ptr(modem.ActGSM)},
		Operator:     &modem.Operator{PLMN: plmn("310260"), AcT: ptr(modem.ActGSM)},
		Serving:      &modem.ServingCell{Tech: modem.TechGSM, PLMN: plmn("310260"), Area: ptr(uint32(0x1A2B)), CellID: ptr(uint64(0xC3))},
	}
}

func umts() Observation {
	o := gsm()
	o.Registration.AcT, o.Operator.AcT = ptr(modem.ActUTRAN), ptr(modem.ActUTRAN)
	o.Serving.Tech = modem.TechUMTS
	return o
}

func allow2G(c *Config) {
	p := c.Profiles["home"]
	p.Allow2G = true
	c.Profiles["home"] = p
}

func live2G(c *Config) { c.Site.Legacy2GLive = true }

// redirect is lte_to_gsm_redirect: good LTE at t0 and t0+30 s, searching at
// t0+45 s, GSM at t0+47 s.
func redirect() []step {
	return seq(
		one(0, poll(cellA, -95, 12)),
		one(30*time.Second, poll(cellA, -95, 12)),
		one(45*time.Second, Observation{Profile: "home", Registration: &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegSearching}}),
		one(47*time.Second, gsm()),
	)
}

func TestD1(t *testing.T) {
	fade := func() []step {
		var s []step
		for i := 0; i < 10; i++ {
			s = append(s, step{time.Duration(i) * 30 * time.Second, poll(cellA, -105-float64(i)*2.5, -3)})
		}
		return append(s, step{5*time.Minute + 20*time.Second, gsm()})
	}
	runCases(t, []detectorCase{
		{name: "2G under LTE-only policy, 2G switched off: Critical", steps: redirect(), rule: "D1a", want: SeverityCritical, score: 3,
			check: func(t *testing.T, rs []Result) {
				last := rs[len(rs)-1]
				if !last.Response.Actions.Has(ActForbid2G|ActAlert) || len(last.Response.Quarantine) == 0 {
					t.Errorf("response = %+v, want RAT lock, alert and a cell quarantine", last.Response)
				}
			}},
		{name: "2G under LTE-only policy, 2G live: High", cfg: live2G, steps: redirect(), rule: "D1a", want: SeverityHigh, score: 3},
		{name: "sudden LTE→GSM where policy allows 2G and 2G is off: High", cfg: allow2G, steps: redirect(), rule: "D1d", want: SeverityHigh, score: 3},
		{name: "sudden LTE→GSM where 2G is live: Low", cfg: func(c *Config) { allow2G(c); live2G(c) }, steps: redirect(), rule: "D1d", want: SeverityLow, score: 1},
		{name: "FP coverage_fade_eu: weak LTE before GSM", cfg: func(c *Config) { allow2G(c); live2G(c) }, steps: fade(), rule: "D1d", want: never},
		{name: "FP coverage_fade_eu: no D1a where 2G allowed", cfg: func(c *Config) { allow2G(c); live2G(c) }, steps: fade(), rule: "D1a", want: never},
		{name: "FP GSM only 60 s after good LTE", cfg: allow2G, steps: seq(
			one(0, poll(cellA, -95, 12)), one(30*time.Second, poll(cellA, -95, 12)), one(90*time.Second, gsm())),
			rule: "D1d", want: never},
		{name: "FP GSM right after our own switch to a 2G-capable profile", cfg: allow2G, steps: seq(
			one(0, poll(cellA, -95, 12)), one(20*time.Second, poll(cellA, -95, 12)),
			one(25*time.Second, Observation{Events: []Event{{Kind: EventOwnSwitchStarted}}}),
			one(35*time.Second, gsm())), rule: "D1d", want: never},
		{name: "FP GSM AcT while searching is not judged", steps: seq(one(0, Observation{Profile: "home",
			Registration: &modem.Registration{Domain: modem.DomainCS, Status: modem.RegSearching, AcT: ptr(modem.ActGSM)}})),
			rule: "D1a", want: never},
		{name: "sudden LTE→UTRAN: Medium", steps: seq(one(0, poll(cellA, -95, 12)), one(30*time.Second, poll(cellA, -95, 12)), one(50*time.Second, umts())),
			rule: "D1u", want: SeverityMedium, score: 1.5},
		{name: "sudden LTE→UTRAN where 3G live: Low", cfg: func(c *Config) { c.Site.Legacy3GLive = true },
			steps: seq(one(0, poll(cellA, -95, 12)), one(30*time.Second, poll(cellA, -95, 12)), one(50*time.Second, umts())),
			rule:  "D1u", want: SeverityLow, score: 0.5},
		{name: "RAT lock reads back with 2G: High, rewrite", steps: one(0, Observation{RATLock: &RATLockReadback{
			Want: []modem.Tech{modem.TechLTE}, Got: []modem.Tech{modem.TechLTE, modem.TechGSM}}}),
			rule: "D1b", want: SeverityHigh, score: 3, check: func(t *testing.T, rs []Result) {
				f := rs[0].Findings[0]
				if !f.Response.Actions.Has(ActRewriteRATLock|ActForbid2G) || f.Response.Actions.Has(ActAlert) {
					t.Errorf("first reversion actions = %v, want rewrite+forbid_2g, no direct alert", f.Response.Actions)
				}
			}},
		{name: "RAT lock reverting again within 24 h alerts", steps: seq(
			one(0, Observation{RATLock: &RATLockReadback{Want: []modem.Tech{modem.TechLTE}, Got: []modem.Tech{modem.TechLTE, modem.TechGSM}}}),
			one(time.Hour, Observation{RATLock: &RATLockReadback{Want: []modem.Tech{modem.TechLTE}, Got: []modem.Tech{modem.TechLTE, modem.TechGSM}}})),
			rule: "D1b", want: SeverityHigh, check: func(t *testing.T, rs []Result) {
				if !rs[1].Findings[0].Response.Actions.Has(ActAlert) {
					t.Error("recurrence did not alert")
				}
			}},
		{name: "FP RAT lock read back as written (order ignored)", steps: one(0, Observation{RATLock: &RATLockReadback{
			Want: []modem.Tech{modem.TechLTE, modem.TechNR5G}, Got: []modem.Tech{modem.TechNR5G, modem.TechLTE, modem.TechLTE}}}),
			rule: "D1b", want: never},
	})
}

func onPLMN(p string, profile string, stat modem.RegStatus) Observation {
	return Observation{Profile: profile,
		Registration: &modem.Registration{Domain: modem.DomainEPS, Status: stat, AcT: ptr(modem.ActEUTRAN)},
		Operator:     &modem.Operator{PLMN: plmn(p), AcT: ptr(modem.ActEUTRAN)}}
}

func TestD2(t *testing.T) {
	churn := func() []step {
		ps := []string{"310260", "310410", "310260", "310410", "310260"}
		return every(0, 10*time.Minute, len(ps), func(i int) Observation { return onPLMN(ps[i], "roam", modem.RegHome) })
	}
	// twice is a sighting that persists: the same observation on two
	// consecutive polls, which D2a/D2b need before they act.
	twice := func(o Observation) []step { return every(0, 30*time.Second, 2, func(int) Observation { return o }) }
	runCases(t, []detectorCase{
		{name: "PLMN outside the profile allowlist for 2 polls: High", steps: twice(onPLMN("310410", "home", modem.RegHome)),
			rule: "D2a", want: SeverityHigh, score: 3, check: func(t *testing.T, rs []Result) {
				r := rs[1].Response
				if !r.Actions.Has(ActLeaveNow) || len(r.Quarantine) != 1 || r.Quarantine[0].Scope.Kind != ScopePLMN || r.Quarantine[0].TTL != 30*time.Minute {
					t.Errorf("response = %+v, want leave and a 30 m PLMN quarantine", r)
				}
			}},
		{name: "PLMN outside the allowlist, first sighting: low evidence only",
			steps: one(0, onPLMN("310410", "home", modem.RegHome)), rule: "D2a", want: SeverityLow, score: d2UnconfirmedScore},
		{name: "FP PLMN allowed by MCC on a multi-IMSI profile", steps: twice(onPLMN("310410", "roam", modem.RegHome)), rule: "D2a", want: never},
		{name: "FP not registered: COPS still shows the old PLMN", steps: twice(onPLMN("310410", "home", modem.RegSearching)), rule: "D2a", want: never},
		{name: "foreign MCC at a stationary site for 2 polls: High 3.5", steps: twice(onPLMN("334020", "roam", modem.RegRoaming)), rule: "D2b", want: SeverityHigh, score: 3.5},
		{name: "foreign MCC, first sighting: low evidence only", steps: one(0, onPLMN("334020", "roam", modem.RegRoaming)), rule: "D2b", want: SeverityLow, score: d2UnconfirmedScore},
		{name: "FP border_site_allowed_mcc: 1.0", cfg: func(c *Config) { c.Site.BorderMCCs = []string{"334"} },
			steps: twice(onPLMN("334020", "roam", modem.RegRoaming)), rule: "D2b", want: SeverityMedium, score: 1},
		{name: "FP mobile site", cfg: func(c *Config) { c.Site.Stationary = false }, steps: twice(onPLMN("334020", "roam", modem.RegRoaming)), rule: "D2b", want: never},
		{name: "roaming on a home profile: Medium", steps: one(0, onPLMN("310260", "home", modem.RegRoaming)), rule: "D2c", want: SeverityMedium, score: 1.5},
		{name: "FP roaming on a roaming profile", steps: one(0, onPLMN("310260", "roam", modem.RegRoaming)), rule: "D2c", want: never},
		{name: "more than 3 PLMN changes in an hour: Medium", steps: churn(), rule: "D2d", want: SeverityMedium, score: 1.5},
		{name: "FP each change comes with a change of profile (outside any suppression window)", steps: func() []step {
			ps := []string{"310260", "310410", "310260", "310410", "310260"}
			prof := []string{"home", "roam", "home", "roam", "home"}
			return every(0, 10*time.Minute, len(ps), func(i int) Observation { return onPLMN(ps[i], prof[i], modem.RegHome) })
		}(), rule: "D2d", want: never},
		{name: "FP PLMN changes made by our own switches", steps: func() []step {
			s := churn()
			for i := range s {
				s[i].o.Events = []Event{{Kind: EventOwnSwitchFinished}}
			}
			return s
		}(), rule: "D2d", want: never},
	})
}

func reject(cause int, c *cellSpec) Observation {
	r := &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegDenied, RejectCauseType: ptr(0), RejectCause: ptr(cause)}
	if c != nil {
		r.Area, r.CellID, r.AcT = ptr(c.tac), ptr(c.ci), ptr(modem.ActEUTRAN)
	}
	return Observation{Profile: "home", Registration: r}
}

// camped adds the cell the modem is camped on in limited service.
func camped(o Observation, c cellSpec) Observation {
	o.Serving = &modem.ServingCell{PLMN: plmn(c.plmn), CellID: ptr(c.ci), Tech: modem.TechLTE}
	return o
}

func TestD3(t *testing.T) {
	withSub := func(o Observation, s Subscription) Observation { o.Subscription = s; return o }
	roam := func(o Observation) Observation { o.Profile = "roam"; return o }
	runCases(t, []detectorCase{
		{name: "reject7_from_unknown_cell: 3.0 × 1.5", steps: seq(one(0, normal(cellA)), one(30*time.Second, poll(cellX, -70, 10)),
			one(40*time.Second, reject(7, &cellX))), rule: "D3", want: SeverityHigh, score: 4.5,
			check: func(t *testing.T, rs []Result) {
				r := rs[len(rs)-1].Response
				if !r.Actions.Has(ActLeaveNow|ActAlert) || len(r.Quarantine) == 0 || r.Quarantine[0].Scope.Cell != cellX.key() {
					t.Errorf("response = %+v, want leave and quarantine of X", r)
				}
				for _, q := range r.Quarantine {
					if q.Scope.Kind == ScopeProfile {
						t.Errorf("a reject alone quarantined the profile: %+v", q)
					}
				}
			}},
		{name: "reject7 on the baseline cell: 3.0", steps: one(0, reject(7, &cellA)), rule: "D3", want: SeverityHigh, score: 3},
		// Once its own network has vanished a modem tries the others and
		// collects their location rejects: not a finding against them.
		{name: "FP reject11 from a network outside the allowlist: nothing", steps: one(0, camped(reject(11, &cellForeign), cellForeign)), rule: "D3", want: never},
		{name: "reject11 from an allowed network: scored", steps: one(0, reject(11, &cellA)), rule: "D3", want: SeverityMedium, score: 1.5},
		{name: "reject8 with an active subscription schedules CFUN recovery after the backoff", steps: every(0, 5*time.Minute, 3, func(int) Observation {
			return withSub(reject(8, &cellA), SubscriptionActive)
		}), rule: "D3", want: SeverityHigh, score: 3, check: func(t *testing.T, rs []Result) {
			for i, want := range []bool{false, false, true} { // 0, 5 min, 10 min: the default backoff is 10 min
				if got := rs[i].Response.Actions.Has(ActRecoverCFUN); got != want {
					t.Errorf("poll %d: CFUN recovery = %v, want %v", i, got, want)
				}
			}
		}},
		{name: "recovery_backoff 0: CFUN recovery at once", cfg: func(c *Config) { c.D3.RecoveryBackoff = 0 },
			steps: one(0, withSub(reject(8, &cellA), SubscriptionActive)), rule: "D3", want: SeverityHigh, score: 3,
			check: func(t *testing.T, rs []Result) {
				if !rs[0].Response.Actions.Has(ActRecoverCFUN) {
					t.Error("no CFUN recovery")
				}
			}},
		{name: "recovery backoff restarts after service came back", steps: seq(
			one(0, withSub(reject(3, &cellA), SubscriptionActive)),
			one(6*time.Minute, normal(cellA)),
			one(12*time.Minute, withSub(reject(3, &cellA), SubscriptionActive)),
			one(21*time.Minute, withSub(reject(3, &cellA), SubscriptionActive)),
			one(22*time.Minute, withSub(reject(3, &cellA), SubscriptionActive))),
			rule: "D3", want: SeverityHigh, check: func(t *testing.T, rs []Result) {
				for i, want := range []bool{false, false, false, false, true} {
					if got := rs[i].Response.Actions.Has(ActRecoverCFUN); got != want {
						t.Errorf("step %d: CFUN recovery = %v, want %v", i, got, want)
					}
				}
			}},
		{name: "FP reject8_inactive_sim: Low, no CFUN", steps: one(0, withSub(reject(8, &cellA), SubscriptionSuspended)),
			rule: "D3", want: SeverityLow, score: 0.5, check: func(t *testing.T, rs []Result) {
				if rs[0].Response.Actions.Has(ActRecoverCFUN) {
					t.Error("CFUN recovery for a suspended SIM")
				}
			}},
		{name: "CFUN recovery capped at 3 a day", steps: every(0, time.Hour, 5, func(int) Observation { return withSub(reject(3, &cellA), SubscriptionActive) }),
			rule: "D3", want: SeverityHigh, check: func(t *testing.T, rs []Result) {
				n := 0
				for _, f := range findings(rs) {
					if f.Response.Actions.Has(ActRecoverCFUN) {
						n++
					}
				}
				if n != 3 {
					t.Errorf("%d recoveries, want 3", n)
				}
			}},
		{name: "#2 IMSI unknown: 2.0", steps: one(0, reject(2, &cellA)), rule: "D3", want: SeverityMedium, score: 2},
		{name: "#17 network failure: Low", steps: one(0, reject(17, &cellA)), rule: "D3", want: SeverityLow, score: 0.5},
		{name: "FP #11 on a roaming profile: ×0.5", steps: one(0, roam(reject(11, &cellA))), rule: "D3", want: SeverityLow, score: 0.75},
		{name: "FP reject right after our own switch is suppressed", steps: seq(
			one(0, Observation{Events: []Event{{Kind: EventOwnSwitchStarted}}}),
			one(20*time.Second, Observation{Events: []Event{{Kind: EventOwnSwitchFinished}}}),
			one(60*time.Second, reject(7, &cellA))), rule: "D3", want: never},
		{name: "suppression ends 120 s after the switch", steps: seq(
			one(0, Observation{Events: []Event{{Kind: EventOwnSwitchFinished}}}),
			one(121*time.Second, reject(7, &cellA))), rule: "D3", want: SeverityHigh},
		{name: "FP stale cause next to a registered status", steps: one(0, Observation{Registration: &modem.Registration{
			Status: modem.RegHome, RejectCauseType: ptr(0), RejectCause: ptr(7)}}), rule: "D3", want: never},
		{name: "FP manufacturer-specific cause type", steps: one(0, Observation{Registration: &modem.Registration{
			Status: modem.RegDenied, RejectCauseType: ptr(1), RejectCause: ptr(7)}}), rule: "D3", want: never},
		{name: "reject storm: 5 in 10 min", steps: every(0, time.Minute, 5, func(int) Observation { return reject(22, &cellA) }),
			rule: "D3s", want: SeverityMedium, score: 1.5},
		{name: "FP 4 rejects in 10 min is no storm", steps: every(0, time.Minute, 4, func(int) Observation { return reject(22, &cellA) }),
			rule: "D3s", want: never},
	})
}
