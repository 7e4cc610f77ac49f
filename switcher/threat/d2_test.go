package threat

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
)

// cellR is the rival's cell the modem reselects to after losing its own
// network: a PLMN outside "home"'s allowlist.
var cellR = cellSpec{"310410", 0x4411AA, 0x5100, 5110, 77}

// straddle is one poll whose reads straddle a loss of registration: the
// registration read still shows home's cell as registered, while the
// operator and serving-cell reads made a moment later already show the
// rival network.
func straddle() Observation {
	o := poll(cellR, -101, 3)
	o.Registration = &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegHome, AcT: ptr(modem.ActEUTRAN),
		Area: ptr(cellA.tac), CellID: ptr(cellA.ci)}
	return o
}

// straddleBare is the same straddle when the registration carries no cell
// (+CEREG n=1) and no serving cell was read: nothing within the poll can
// show it is inconsistent, so only persistence protects.
func straddleBare() Observation {
	o := onPLMN("310410", "home", modem.RegHome)
	return o
}

func searching() Observation {
	return Observation{Profile: "home", Registration: &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegSearching}}
}

// onRival is a consistent poll registered on the rival network.
func onRival() Observation {
	o := poll(cellR, -95, 8)
	o.Registration.Area, o.Registration.CellID = ptr(cellR.tac), ptr(cellR.ci)
	return o
}

func TestD2FalsePositiveControl(t *testing.T) {
	type want struct {
		high    int      // index of the first step with a High D2a/D2b; -1 for none
		leave   bool     // leave_now in the final response
		quar    []string // quarantined at the end
		maxLow  float64  // highest D2a score before confirmation (0: unchecked)
		noQuars []string // never quarantined at any step
	}
	cases := []struct {
		name  string
		cfg   func(*Config)
		steps []step
		rule  string
		want  want
	}{
		{name: "straddle: registration on home's cell, operator and serving on the rival, then searching, then home",
			steps: seq(one(0, normal(cellA)), one(30*time.Second, straddle()), one(60*time.Second, searching()),
				one(90*time.Second, normal(cellA))),
			rule: "D2a", want: want{high: -1, maxLow: d2UnconfirmedScore, noQuars: []string{"plmn:310410"}}},
		{name: "straddle repeated on two polls never confirms: inconsistent reads do not count",
			steps: every(0, 30*time.Second, 3, func(int) Observation { return straddle() }),
			rule:  "D2a", want: want{high: -1, maxLow: d2UnconfirmedScore, noQuars: []string{"plmn:310410"}}},
		{name: "straddle with nothing to compare within the poll: one sighting, then searching",
			steps: seq(one(0, straddleBare()), one(30*time.Second, searching()), one(60*time.Second, normal(cellA))),
			rule:  "D2a", want: want{high: -1, maxLow: d2UnconfirmedScore, noQuars: []string{"plmn:310410"}}},
		{name: "straddle, then really registered on the rival for 2 polls: High on the second consistent one",
			steps: seq(one(0, straddle()), one(30*time.Second, onRival()), one(60*time.Second, onRival())),
			rule:  "D2a", want: want{high: 2, leave: true, quar: []string{"plmn:310410"}}},
		{name: "real foreign PLMN persisting 2 polls: High, leave now, quarantine",
			steps: every(0, 30*time.Second, 3, func(int) Observation { return onRival() }),
			rule:  "D2a", want: want{high: 1, leave: true, quar: []string{"plmn:310410"}}},
		{name: "foreign MCC persisting 2 polls: D2b High",
			steps: every(0, 30*time.Second, 2, func(int) Observation {
				o := poll(cellSpec{"334020", 0x777, 0x88, 5110, 9}, -95, 8)
				o.Profile = "roam"
				return o
			}),
			rule: "D2b", want: want{high: 1, leave: true, quar: []string{"plmn:334020"}}},
		{name: "sightings interrupted by home do not add up",
			steps: seq(one(0, onRival()), one(30*time.Second, normal(cellA)), one(60*time.Second, onRival()), one(90*time.Second, normal(cellA))),
			rule:  "D2a", want: want{high: -1, maxLow: d2UnconfirmedScore, noQuars: []string{"plmn:310410"}}},
		{name: "sightings further apart than ConfirmWithin do not add up",
			steps: every(0, 6*time.Minute, 3, func(int) Observation { return onRival() }),
			rule:  "D2a", want: want{high: -1, maxLow: d2UnconfirmedScore, noQuars: []string{"plmn:310410"}}},
		{name: "a lost registration between sightings restarts the count",
			steps: seq(one(0, onRival()), one(20*time.Second, searching()), one(30*time.Second, onRival()), one(60*time.Second, onRival())),
			rule:  "D2a", want: want{high: 3, leave: true, quar: []string{"plmn:310410"}}},
		{name: "ConfirmPolls 1 acts on the first consistent sighting, still not on a straddle",
			cfg:   func(c *Config) { c.D2.ConfirmPolls = 1 },
			steps: seq(one(0, straddle()), one(30*time.Second, searching()), one(60*time.Second, onRival())),
			rule:  "D2a", want: want{high: 2, leave: true, quar: []string{"plmn:310410"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			e, start := warmEngine(t, cfg)
			rs := run(t, e, start, tc.steps)
			firstHigh := -1
			maxLow := 0.0
			for i, r := range rs {
				for _, f := range r.Findings {
					if f.Rule != tc.rule {
						continue
					}
					if f.Severity >= SeverityHigh {
						if firstHigh < 0 {
							firstHigh = i
						}
						if !f.Response.Actions.Has(ActLeaveNow) {
							t.Errorf("step %d: High %s without leave_now", i, f.Rule)
						}
					} else {
						maxLow = max(maxLow, f.Score)
						if !f.Response.IsZero() {
							t.Errorf("step %d: unconfirmed %s carries a direct response %+v", i, f.Rule, f.Response)
						}
					}
				}
				for _, k := range tc.want.noQuars {
					if slices.Contains(quarantined(r.Response), k) {
						t.Fatalf("step %d: %s quarantined: %v", i, k, quarantined(r.Response))
					}
				}
				if firstHigh < 0 && r.Response.Actions.Has(ActLeaveNow) {
					t.Errorf("step %d: leave_now before any confirmation (%v)", i, r.Response.Actions)
				}
			}
			if firstHigh != tc.want.high {
				t.Fatalf("first High %s at step %d, want %d; findings %+v", tc.rule, firstHigh, tc.want.high, findings(rs))
			}
			if tc.want.maxLow > 0 && maxLow != tc.want.maxLow {
				t.Errorf("unconfirmed %s scored %v, want %v", tc.rule, maxLow, tc.want.maxLow)
			}
			last := rs[len(rs)-1].Response
			if last.Actions.Has(ActLeaveNow) != tc.want.leave {
				t.Errorf("final actions %v, leave_now want %v", last.Actions, tc.want.leave)
			}
			for _, k := range tc.want.quar {
				if !slices.Contains(quarantined(last), k) {
					t.Errorf("%s not quarantined: %v", k, quarantined(last))
				}
			}
		})
	}
}

// TestD2StraddleDoesNotChurn: a straddling read is not a PLMN change, so
// it cannot push D2d over its limit with phantom there-and-back changes.
func TestD2StraddleDoesNotChurn(t *testing.T) {
	e, start := warmEngine(t, testConfig())
	var steps []step
	for i := 0; i < 6; i++ {
		steps = append(steps, step{time.Duration(i) * 5 * time.Minute, normal(cellA)},
			step{time.Duration(i)*5*time.Minute + 30*time.Second, straddle()})
	}
	if got := byRule(findings(run(t, e, start, steps)), "D2d"); len(got) > 0 {
		t.Fatalf("D2d fired on straddles: %+v", got[0])
	}
}

func TestPLMNConflict(t *testing.T) {
	lte := func(mut func(o *Observation)) Observation {
		o := onRival()
		if mut != nil {
			mut(&o)
		}
		return o
	}
	cases := []struct {
		name string
		o    Observation
		want string // substring of the reason; "" for consistent
	}{
		{"all sources agree", lte(nil), ""},
		{"operator and serving cell disagree on the PLMN", lte(func(o *Observation) { o.Operator.PLMN = plmn("310260") }), "operator reports 310260"},
		{"registered but the serving cell is in limited service", lte(func(o *Observation) { o.Serving.State = "LIMSRV" }), "state LIMSRV"},
		{"registered but the serving cell is searching", lte(func(o *Observation) { o.Serving.State = "SEARCH" }), "state SEARCH"},
		{"registration on another cell of the same technology", lte(func(o *Observation) { o.Registration.CellID = ptr(cellA.ci) }), "registered on cell 12beef"},
		{"registration in another area of the same technology", lte(func(o *Observation) { o.Registration.Area = ptr(cellA.tac) }), "registered in area 2f"},
		{"CS registration's LAC next to an LTE cell is not a conflict", lte(func(o *Observation) {
			o.Registration = &modem.Registration{Domain: modem.DomainCS, Status: modem.RegHome, AcT: ptr(modem.ActGSM), Area: ptr(uint32(0x1A2B)), CellID: ptr(uint64(0xC3))}
		}), ""},
		{"registration without AcT is not compared by cell", lte(func(o *Observation) {
			o.Registration.AcT, o.Registration.CellID = nil, ptr(cellA.ci)
		}), ""},
		{"not registered with a limited-service cell is no conflict (D2 does not judge it anyway)", lte(func(o *Observation) {
			o.Registration.Status, o.Serving.State = modem.RegSearching, "LIMSRV"
		}), ""},
		{"no serving cell: nothing to compare", lte(func(o *Observation) { o.Serving = nil }), ""},
		{"serving cell without a PLMN", lte(func(o *Observation) { o.Serving.PLMN = modem.PLMN{} }), ""},
		{"operator without a PLMN", lte(func(o *Observation) { o.Operator.PLMN = modem.PLMN{} }), ""},
		{"the straddle", straddle(), "registered on cell 12beef but the serving cell is 4411aa"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.o.PLMNConflict()
			if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
				t.Errorf("PLMNConflict = %q, want %q", got, tc.want)
			}
		})
	}
}
