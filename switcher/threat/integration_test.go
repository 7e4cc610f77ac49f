package threat

import (
	"slices"
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
)

// Regressions found when the switcher ran the engine in scenario tests.

func quarantined(r Response) []string {
	var out []string
	for _, q := range r.Quarantine {
		out = append(out, q.Scope.Key())
	}
	return out
}

func lockReverted() Observation {
	return Observation{RATLock: &RATLockReadback{Want: []modem.Tech{modem.TechLTE}, Got: []modem.Tech{modem.TechGSM, modem.TechLTE}}}
}

// TestTierQuarantinesOnlyEarnedScopes: a tier response quarantines a scope
// only when the scope's own evidence reaches Suspect. The MCC-311 case: the
// device is at Threat because of what happened on home's network, and the
// fallback profile "last" sits on a border network whose only finding is
// D2b at 1.0; the fallback must not be quarantined (and so not left).
func TestTierQuarantinesOnlyEarnedScopes(t *testing.T) {
	border := func(c *Config) {
		c.Site.BorderMCCs = []string{"311"}
		c.Profiles["last"] = ProfilePolicy{AllowedMCCs: []string{"310", "311"}, RoamingExpected: true}
	}
	onFallback := func(i int) Observation { return onPLMN("311480", "last", modem.RegRoaming) }
	cases := []struct {
		name     string
		steps    []step
		level    Severity // overall level at the last step
		want     []string // quarantined
		not      []string // never quarantined, at any step
		fallback Severity // level of plmn:311480, when checked
	}{
		{name: "MCC-311 fallback under a Threat tier driven on home's network",
			steps: seq(
				one(0, onPLMN("310260", "home", modem.RegRoaming)), // D2c 1.5 on plmn:310260
				one(30*time.Second, reject(15, &cellA)),            // D3 1.5 on a cell of 310260
				one(40*time.Second, lockReverted()),                // D1b 3.0, device
				every(time.Minute, 30*time.Second, 6, onFallback)), // D2b 1.0 on plmn:311480, inside Hold
			level: SeverityHigh, want: []string{"plmn:310260"},
			not: []string{"plmn:311480", "profile:last", "cell:310260/12beef"}, fallback: SeverityLow},
		{name: "device-level evidence alone quarantines nothing",
			steps: seq(
				one(0, lockReverted()),
				one(10*time.Second, Observation{Events: []Event{{Kind: EventSIMRemoved}}}),
				one(20*time.Second, onPLMN("310260", "home", modem.RegRoaming))),
			level: SeverityHigh, not: []string{"plmn:310260", "profile:home"}},
		{name: "a rogue cell's evidence counts for its PLMN",
			steps: seq(
				one(0, onPLMN("310260", "home", modem.RegRoaming)), // plmn:310260 1.5
				one(10*time.Second, reject(15, &cellX)),            // cell X 1.5, so the PLMN holds 3.0
				one(20*time.Second, lockReverted())),
			level: SeverityHigh, want: []string{"plmn:310260"}, not: []string{"cell:310260/abcdef0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			border(&cfg)
			e, err := New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			rs := run(t, e, t0, tc.steps)
			for i, r := range rs {
				for _, k := range tc.not {
					if slices.Contains(quarantined(r.Response), k) {
						t.Fatalf("step %d: %s quarantined: %v (overall %v)", i, k, quarantined(r.Response), r.Overall)
					}
				}
			}
			last := rs[len(rs)-1]
			if last.Overall.Level != tc.level || !last.Response.Actions.Has(ActLeaveNow) {
				t.Fatalf("overall %v actions %v, want %v with leave_now", last.Overall, last.Response.Actions, tc.level)
			}
			for _, k := range tc.want {
				if !slices.Contains(quarantined(last.Response), k) {
					t.Errorf("%s not quarantined: %v", k, quarantined(last.Response))
				}
			}
			if len(tc.want) == 0 && len(last.Response.Quarantine) > 0 {
				t.Errorf("quarantine %v, want none", quarantined(last.Response))
			}
			if tc.fallback != SeverityNone {
				i := slices.IndexFunc(last.PLMNs, func(a Assessment) bool { return a.Scope == "plmn:311480" })
				if i < 0 || last.PLMNs[i].Level != tc.fallback {
					t.Errorf("fallback assessment %+v, want level %v (ranked lower, not quarantined)", last.PLMNs, tc.fallback)
				}
			}
		})
	}
}

// TestCriticalSplit: only tamper-class Criticals (D10) latch until
// Acknowledge. D1a in a 2G-sunset country is Critical while it holds, with
// the RAT lock, the cell quarantine and leave_now, then decays: once the
// device is back on clean LTE the episode ends on its own.
func TestCriticalSplit(t *testing.T) {
	clean := func(from time.Duration, n int) []step {
		return every(from, 30*time.Second, n, func(int) Observation { return normal(cellA) })
	}
	cases := []struct {
		name    string
		cfg     func(*Config)
		steps   []step
		trigger int // index of the step that turns Critical
		latched bool
	}{
		{name: "D1a 2G downgrade where 2G is switched off decays",
			steps: seq(redirect(), one(77*time.Second, gsm()), clean(2*time.Minute, 100)), trigger: 3},
		{name: "D10a unprovisioned ICCID latches",
			cfg:   provisioned,
			steps: seq(one(0, simObs(iccidZ, "", "", modem.SIMReady)), clean(time.Minute, 100)), latched: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			e, start := warmEngine(t, cfg)
			rs := run(t, e, start, tc.steps)
			hit := rs[tc.trigger]
			if hit.Overall.Level != SeverityCritical || hit.Response.Level != SeverityCritical {
				t.Fatalf("trigger: overall %v response %v, want Critical", hit.Overall.Level, hit.Response.Level)
			}
			if got := hit.Response.Actions.Has(ActBlockTransactions); got != tc.latched {
				t.Errorf("block_transactions = %v, want %v (%v)", got, tc.latched, hit.Response.Actions)
			}
			if !tc.latched {
				want := ActForbid2G | ActCheckRATLock | ActLeaveNow | ActAlert
				if !hit.Response.Actions.Has(want) || !slices.Contains(quarantined(hit.Response), "cell:310260/c3") {
					t.Errorf("response %v %v, want %v and the 2G cell quarantined", hit.Response.Actions, quarantined(hit.Response), want)
				}
			}
			prev := hit
			for i := tc.trigger + 1; i < len(rs); i++ {
				r := rs[i]
				if r.Episode.ID != prev.Episode.ID || !r.Episode.Active {
					break
				}
				if !r.Response.Covers(prev.Response) {
					t.Fatalf("step %d: response loosened within the episode: %+v after %+v", i, r.Response, prev.Response)
				}
				prev = r
			}
			last := rs[len(rs)-1] // ~50 min of clean LTE
			if tc.latched {
				if last.Overall.Level != SeverityCritical || !last.Episode.Active || !last.Response.Actions.Has(ActBlockTransactions) {
					t.Fatalf("tamper Critical did not latch: %+v %+v", last.Overall, last.Episode)
				}
				return
			}
			if last.Episode.Active || !last.Response.IsZero() || last.Overall.Level != SeverityNone {
				t.Fatalf("episode did not end after clean LTE: %+v %+v %v", last.Overall, last.Episode, last.Response.Actions)
			}
			// Critical only while the finding holds at full weight.
			lastGSM := tc.steps[tc.trigger+1].off
			for i, s := range tc.steps {
				if s.off > lastGSM+cfg.Scoring.Hold+30*time.Second && rs[i].Overall.Level == SeverityCritical {
					t.Fatalf("still Critical %s after the last 2G poll", s.off-lastGSM)
				}
			}
		})
	}
}

// TestD1LTEM: AcT 8 is read as LTE-M (modem.TechLTEM), which is LTE: no
// downgrade under an LTE-only policy in a 2G-sunset country, and good
// LTE-M polls count as good LTE before a real drop to GSM.
func TestD1LTEM(t *testing.T) {
	ltem := func(fromServing bool) Observation {
		o := Observation{Profile: "home",
			Registration: &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegHome, AcT: ptr(modem.ActECGSMIoT)},
			Operator:     &modem.Operator{PLMN: plmn("310260"), AcT: ptr(modem.ActECGSMIoT)},
			Signal:       &modem.Signal{Tech: modem.TechLTEM, RSRP: dbm(-95), SINR: db(10)},
		}
		if fromServing {
			o.Serving = serving(cellA, -95, 10)
			o.Serving.Tech = modem.TechLTEM
		}
		return o
	}
	if got := modem.ActECGSMIoT.Tech(); got != modem.TechLTEM {
		t.Fatalf("AcT 8 maps to %q, want LTE-M", got)
	}
	runCases(t, []detectorCase{
		{name: "FP AcT 8 registration only", steps: every(0, 30*time.Second, 5, func(int) Observation { return ltem(false) }),
			rule: "D1a", want: never},
		{name: "FP LTE-M serving cell", steps: every(0, 30*time.Second, 5, func(int) Observation { return ltem(true) }),
			rule: "D1a", want: never},
		{name: "FP no 3G/2G drop rules either", steps: every(0, 30*time.Second, 5, func(int) Observation { return ltem(false) }),
			rule: "D1d", want: never},
		{name: "good LTE-M then GSM is sudden", cfg: allow2G,
			steps: seq(one(0, ltem(false)), one(30*time.Second, ltem(true)), one(50*time.Second, gsm())),
			rule:  "D1d", want: SeverityHigh, score: 3},
	})
}

// TestD8EarlyInARun: the simulator's jamming.yaml (RSRP/RSSI steady, SINR
// collapsing to −15 dB and RSRQ to −19.5 dB on every network, 60 s after
// start) is caught by D8b within the reference's 90 s on a fresh engine,
// at the reference's 30 s polls and at the switcher's 10 s polls.
func TestD8EarlyInARun(t *testing.T) {
	jamAt := func(poll, onset time.Duration) []step {
		return every(0, poll, int((onset+90*time.Second)/poll)+1, func(i int) Observation {
			o := jamPoll(-88, 15, -9)
			if time.Duration(i)*poll >= onset {
				o = jamPoll(-88, -15, -19.5)
			}
			o.Serving.Signal.RSSI = dbm(-60)
			return o
		})
	}
	cases := []struct {
		name         string
		poll, onset  time.Duration
		wantDetected bool
	}{
		{"jamming.yaml at 30 s polls", 30 * time.Second, 60 * time.Second, true},
		{"jamming.yaml at 10 s polls", 10 * time.Second, 60 * time.Second, true},
		{"onset after 3 min at 10 s polls", 10 * time.Second, 3 * time.Minute, true},
		// No normal poll at all to compare with: nothing says SINR fell.
		{"FP jammed from the first poll", 30 * time.Second, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(testConfig(), nil)
			if err != nil {
				t.Fatal(err)
			}
			rs := run(t, e, t0, jamAt(tc.poll, tc.onset))
			var at time.Time
			for _, r := range rs {
				if len(byRule(r.Findings, "D8b")) > 0 {
					at = r.At
					break
				}
			}
			if !tc.wantDetected {
				if !at.IsZero() {
					t.Fatalf("D8b fired at %s", at.Sub(t0))
				}
				return
			}
			if at.IsZero() {
				t.Fatalf("D8b did not fire; findings %+v", findings(rs))
			}
			if d := at.Sub(t0.Add(tc.onset)); d > 90*time.Second {
				t.Fatalf("D8b after %s, want ≤ 90 s", d)
			}
			r := rs[len(rs)-1].Response
			if r.SwitchAllowed() || !r.Actions.Has(ActLocalAlarm|ActAlert) {
				t.Fatalf("response %v, want switching suspended, local alarm, alert", r.Actions)
			}
		})
	}
}
