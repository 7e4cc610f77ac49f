package threat

import (
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
)

// retagged is cell c reported with another TAC.
func retagged(c cellSpec, tac uint32) cellSpec { c.tac = tac; return c }

func TestD4(t *testing.T) {
	newTAC := retagged(cellA, 0x9999)
	moved := cellA
	moved.earfcn, moved.pci = 2300, 99
	runCases(t, []detectorCase{
		{name: "known CI with a new TAC for 2 polls: Medium", steps: every(0, 30*time.Second, 2, func(int) Observation { return normal(newTAC) }),
			rule: "D4a", want: SeverityMedium, score: 1},
		{name: "FP a single poll is not persistence", steps: one(0, normal(newTAC)), rule: "D4a", want: never},
		{name: "FP polls interrupted by the usual TAC", steps: seq(one(0, normal(newTAC)), one(30*time.Second, normal(cellA)), one(time.Minute, normal(newTAC))),
			rule: "D4a", want: never},
		{name: "known CI on a new EARFCN/PCI: Medium", steps: every(0, 30*time.Second, 2, func(int) Observation { return normal(moved) }),
			rule: "D4b", want: SeverityMedium, score: 1},
		{name: "FP during warm-up nothing is inconsistent", cold: true, steps: seq(
			every(0, 30*time.Second, 3, func(int) Observation { return normal(cellA) }),
			every(2*time.Minute, 30*time.Second, 3, func(int) Observation { return normal(newTAC) })), rule: "D4a", want: never},
		{name: "FP tac_rehome: accepted after persisting quietly", cfg: func(c *Config) { c.D4.AcceptAfter = 2 * time.Hour },
			steps: every(0, 10*time.Minute, 20, func(int) Observation { return normal(newTAC) }), rule: "D4a", want: SeverityMedium,
			check: func(t *testing.T, rs []Result) {
				if n := len(byRule(rs[len(rs)-1].Findings, "D4a")); n != 0 {
					t.Error("still firing after the acceptance period")
				}
				if n := len(byRule(rs[10].Findings, "D4a")); n != 1 {
					t.Error("not firing before the acceptance period")
				}
			}},
		{name: "same EARFCN/PCI shows another CI within 10 min: Low", steps: seq(one(0, normal(cellA)),
			every(time.Minute, 30*time.Second, 2, func(int) Observation {
				c := cellX
				c.pci = cellA.pci
				return normal(c)
			})), rule: "D4c", want: SeverityLow, score: 0.5},
		{name: "FP mobile site", cfg: func(c *Config) { c.Site.Stationary = false },
			steps: every(0, 30*time.Second, 2, func(int) Observation { return normal(newTAC) }), rule: "D4a", want: never},
		{name: "known CI under a new PLMN for 2 polls: Medium", steps: every(0, 30*time.Second, 2, func(int) Observation {
			c := cellA
			c.plmn = "310410"
			return normal(c)
		}), rule: "D4p", want: SeverityMedium, score: 1},
		{name: "FP network sharing the baseline has seen", cfg: func(c *Config) {
			c.FleetCells = []CellKey{{PLMN: plmn("310410"), CI: cellA.ci}}
		}, steps: every(0, 30*time.Second, 2, func(int) Observation {
			c := cellA
			c.plmn = "310410"
			return normal(c)
		}), rule: "D4p", want: never},
	})
}

func TestD5(t *testing.T) {
	newBand := cellX
	newBand.earfcn = 9999
	runCases(t, []detectorCase{
		{name: "unknown cell with an unknown TAC: 1.0", steps: one(0, normal(cellX)), rule: "D5a", want: SeverityMedium, score: 1},
		{name: "unknown cell on a new channel and TAC: 1.5", steps: one(0, normal(newBand)), rule: "D5a", want: SeverityMedium, score: 1.5},
		{name: "unknown cell in a known TAC: 0.5", steps: one(0, normal(retagged(cellX, cellA.tac))), rule: "D5a", want: SeverityLow, score: 0.5},
		{name: "FP during warm-up", cold: true, steps: seq(one(0, normal(cellA)), one(time.Minute, normal(cellX))), rule: "D5a", want: never},
		{name: "FP cell known from the fleet DB", cfg: func(c *Config) { c.FleetCells = []CellKey{cellX.key()} },
			steps: one(0, normal(cellX)), rule: "D5a", want: never},
		{name: "FP mobile site", cfg: func(c *Config) { c.Site.Stationary = false }, steps: one(0, normal(cellX)), rule: "D5a", want: never},
		{name: "transient_unknown_cell: 12 min then gone", cfg: func(c *Config) { c.D5.TransientGone = 2 * time.Hour },
			steps: seq(every(0, time.Minute, 12, func(int) Observation { return poll(cellX, -60, 20) }),
				every(15*time.Minute, 30*time.Minute, 6, func(int) Observation { return normal(cellA) })),
			rule: "D5b", want: SeverityMedium, score: 1, check: func(t *testing.T, rs []Result) {
				if n := len(byRule(findings(rs), "D5b")); n != 1 {
					t.Errorf("D5b reported %d times, want once", n)
				}
			}},
		{name: "FP new_macro_site: the unknown cell stays", cfg: func(c *Config) { c.D5.TransientGone = 2 * time.Hour },
			steps: seq(every(0, 5*time.Minute, 12, func(int) Observation { return normal(cellX) }),
				every(time.Hour, 30*time.Minute, 6, func(int) Observation { return normal(cellA) })),
			rule: "D5b", want: never},
	})
}

func TestD5NewMacroSiteBecomesKnown(t *testing.T) {
	cfg := testConfig()
	e, start := warmEngine(t, cfg)
	// Seen on two distinct days, the new cell is trusted and stops scoring.
	rs := run(t, e, start, seq(one(0, normal(cellX)), one(25*time.Hour, normal(cellX)), one(26*time.Hour, normal(cellX))))
	if len(byRule(rs[0].Findings, "D5a")) != 1 {
		t.Fatal("no D5a on first sighting")
	}
	if got := byRule(rs[2].Findings, "D5a"); len(got) != 0 {
		t.Fatalf("D5a still firing once the cell was seen on %d days: %+v", cfg.Baseline.TrustDays, got)
	}
}

func TestD6(t *testing.T) {
	runCases(t, []detectorCase{
		{name: "known cell 15 dB over its median for 2 polls: Low", steps: every(0, 30*time.Second, 2, func(int) Observation { return poll(cellA, -77, 12) }),
			rule: "D6a", want: SeverityLow, score: 0.5},
		{name: "FP antenna_moved: +8 dB everywhere", steps: every(0, 30*time.Second, 4, func(int) Observation { return poll(cellA, -84, 12) }),
			rule: "D6a", want: never},
		{name: "FP one strong poll", steps: one(0, poll(cellA, -70, 12)), rule: "D6a", want: never},
		{name: "unknown cell above -65 dBm: Medium", steps: one(0, poll(cellX, -58, 20)), rule: "D6b", want: SeverityMedium, score: 1},
		{name: "unknown cell 10 dB over the site p90: Medium", steps: one(0, poll(cellX, -80, 20)), rule: "D6b", want: SeverityMedium},
		{name: "FP unknown cell at an ordinary level", steps: one(0, poll(cellX, -95, 20)), rule: "D6b", want: never},
		{name: "sudden 25 dB jump on one cell: Low", steps: seq(one(0, poll(cellA, -95, 12)), one(30*time.Second, poll(cellA, -70, 12))),
			rule: "D6j", want: SeverityLow, score: 0.5},
		{name: "FP jump across a cell change", steps: seq(one(0, poll(cellB, -95, 12)), one(30*time.Second, poll(cellA, -70, 12))),
			rule: "D6j", want: never},
		{name: "FP mobile site", cfg: func(c *Config) { c.Site.Stationary = false },
			steps: every(0, 30*time.Second, 3, func(int) Observation { return poll(cellA, -70, 12) }), rule: "D6a", want: never},
	})
}

func legacyNeighbours(lte, legacyPrio int, tech modem.Tech) *NeighbourList {
	nl := neighbours(lte, cellB)
	nl.Cells = append(nl.Cells, NeighbourCell{Neighbour: modem.Neighbour{Tech: tech, EARFCN: ptr(565)}, Priority: ptr(legacyPrio)})
	return nl
}

func TestD7(t *testing.T) {
	empty := func(rsrp float64) func(int) Observation {
		return func(int) Observation {
			o := poll(cellA, rsrp, 12)
			o.Neighbours = &NeighbourList{}
			return o
		}
	}
	withNL := func(nl *NeighbourList) func(int) Observation {
		return func(int) Observation { o := poll(cellA, -92, 12); o.Neighbours = nl; return o }
	}
	runCases(t, []detectorCase{
		{name: "neighbours_vanish_strong_cell: 3 empty polls", steps: every(0, time.Minute, 3, empty(-85)), rule: "D7a", want: SeverityMedium, score: 1},
		{name: "FP 2 empty polls", steps: every(0, time.Minute, 2, empty(-85)), rule: "D7a", want: never},
		{name: "FP empty at the cell edge", steps: every(0, time.Minute, 4, empty(-110)), rule: "D7a", want: never},
		{name: "FP neighbour list not polled is not empty", steps: every(0, time.Minute, 4, func(int) Observation { return poll(cellA, -85, 12) }),
			rule: "D7a", want: never},
		{name: "FP during warm-up", cold: true, steps: every(0, time.Minute, 4, empty(-85)), rule: "D7a", want: never},
		{name: "gsm_priority_inversion_us: High", steps: one(0, withNL(legacyNeighbours(5, 7, modem.TechGSM))(0)), rule: "D7b", want: SeverityHigh, score: 2,
			check: func(t *testing.T, rs []Result) {
				if !rs[0].Response.Actions.Has(ActCheckRATLock) {
					t.Error("D7b did not ask for a RAT-lock read-back")
				}
			}},
		{name: "FP gsm_priority_inversion_eu: informational", cfg: live2G, steps: one(0, withNL(legacyNeighbours(5, 7, modem.TechGSM))(0)),
			rule: "D7b", want: SeverityNone, check: func(t *testing.T, rs []Result) {
				if rs[0].Overall.Score != 0 {
					t.Errorf("informational D7b scored %v", rs[0].Overall.Score)
				}
			}},
		{name: "FP LTE ranked above GSM", steps: one(0, withNL(legacyNeighbours(6, 2, modem.TechGSM))(0)), rule: "D7b", want: never},
		{name: "UMTS above LTE where 3G is off: High", steps: one(0, withNL(legacyNeighbours(5, 6, modem.TechUMTS))(0)), rule: "D7b", want: SeverityHigh},
		{name: "serving priority drift: Low", steps: one(0, withNL(neighbours(1, cellB, cellC))(0)), rule: "D7c", want: SeverityLow, score: 0.5},
		{name: "none of the usual neighbours for 3 polls: Low", steps: every(0, time.Minute, 3, withNL(neighbours(5, cellX))),
			rule: "D7m", want: SeverityLow, score: 0.5},
		{name: "FP one usual neighbour still listed", steps: every(0, time.Minute, 3, withNL(neighbours(5, cellX, cellC))),
			rule: "D7m", want: never},
	})
}

// TestClonedCellScenario is ci_cloned_new_tac: the known CI reappears in a
// new TAC, 15 dB stronger, with no neighbours: D4a + D6a + D7a = 2.5, Suspect.
func TestClonedCellScenario(t *testing.T) {
	e, start := warmEngine(t, testConfig())
	clone := retagged(cellA, 0x9999)
	rs := run(t, e, start, every(0, 30*time.Second, 3, func(int) Observation {
		o := poll(clone, -77, 12)
		o.Neighbours = &NeighbourList{}
		return o
	}))
	last := rs[len(rs)-1]
	if last.Overall.Score != 2.5 || last.Overall.Level != SeverityMedium {
		t.Fatalf("overall = %+v, want 2.5 Medium", last.Overall)
	}
	var rules []string
	for _, c := range last.Overall.Contributions {
		rules = append(rules, c.Rule)
	}
	if len(rules) != 3 || rules[0] != "D4a" || rules[1] != "D6a" || rules[2] != "D7a" {
		t.Errorf("contributions = %v, want D4a D6a D7a", rules)
	}
	if !last.Response.Actions.Has(ActDeprioritise|ActProbe) || last.Response.Actions.Has(ActLeaveNow) {
		t.Errorf("Suspect response = %v, want deprioritise+probe without leaving", last.Response.Actions)
	}
}
