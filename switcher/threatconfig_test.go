package switcher_test

import (
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/threat"
)

// The tests below show that each policy.threats field ThreatConfig maps
// changes what the threat engine finds: the same observations, once with
// the product default and once with the field set, give different
// findings. (TestEveryFieldHasAReader in internal/configcheck fails for a
// field nothing reads; these show the reader does what docs/config.md says.)

// threatCell is one LTE cell of the test site, on PLMN 310260.
type threatCell struct {
	ci          uint64
	tac         uint32
	pci, earfcn int
}

var (
	siteA = threatCell{ci: 0x1A2B01, tac: 0x2001, pci: 101, earfcn: 5230}
	siteB = threatCell{ci: 0x1A2B02, tac: 0x2001, pci: 102, earfcn: 5230}
	siteC = threatCell{ci: 0x1A2B03, tac: 0x2001, pci: 103, earfcn: 5230}
	siteX = threatCell{ci: 0x7F0001, tac: 0x2999, pci: 401, earfcn: 5230}
)

func ptrTo[T any](v T) *T { return &v }

func mustPLMN(t testing.TB, s string) modem.PLMN {
	t.Helper()
	p, err := modem.ParsePLMN(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cellPoll is a registered poll of profile home on c.
func cellPoll(t testing.TB, c threatCell, rsrp, sinr, rsrq float64, neigh ...threatCell) threat.Observation {
	pl := mustPLMN(t, "310260")
	o := threat.Observation{
		Profile:      "home",
		Registration: &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegHome, AcT: ptrTo(modem.ActEUTRAN)},
		Operator:     &modem.Operator{PLMN: pl, AcT: ptrTo(modem.ActEUTRAN)},
		Serving: &modem.ServingCell{
			Tech: modem.TechLTE, State: "NOCONN", PLMN: pl,
			Area: ptrTo(c.tac), CellID: ptrTo(c.ci), PCI: ptrTo(c.pci), EARFCN: ptrTo(c.earfcn), Band: "B4",
			Signal: modem.Signal{Tech: modem.TechLTE, RSRP: ptrTo(modem.DBm(rsrp)), SINR: ptrTo(modem.DB(sinr)), RSRQ: ptrTo(modem.DB(rsrq)), Source: "+QENG"},
		},
	}
	nl := &threat.NeighbourList{Cells: []threat.NeighbourCell{}}
	for _, n := range neigh {
		nl.Cells = append(nl.Cells, threat.NeighbourCell{Intra: true, Priority: ptrTo(5), Neighbour: modem.Neighbour{
			Tech: modem.TechLTE, EARFCN: ptrTo(n.earfcn), PCI: ptrTo(n.pci), Signal: modem.Signal{RSRP: ptrTo(modem.DBm(-100))}}})
	}
	o.Neighbours = nl
	return o
}

// threatRun builds the engine from the product config with edit applied,
// optionally learns a site baseline (cells A and B, over more than the
// three days a cell needs to be trusted), then feeds obs a poll apart and
// reports whether rule fired on any of them.
func threatRun(t *testing.T, edit func(*profiles.Config), warm bool, rule string, obs []threat.Observation) bool {
	t.Helper()
	cfg := loadCfg(t, "sim.yaml", func(s string) string {
		// A baseline that warms within the test's four days.
		return strings.Replace(s, "  site:", "  threats: {baseline_learning: 24h, baseline_min_observations: 50}\n  site:", 1)
	})
	if edit != nil {
		edit(cfg)
	}
	e, err := threat.New(switcher.ThreatConfig(cfg), nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	if warm {
		for i := range 200 {
			c, n := siteA, []threatCell{siteB, siteC}
			if i%5 == 4 {
				c, n = siteB, []threatCell{siteA, siteC}
			}
			o := cellPoll(t, c, -92+float64(i%3-1), 12, -9, n...)
			o.At = at
			if _, err := e.Observe(o); err != nil {
				t.Fatal(err)
			}
			at = at.Add(30 * time.Minute)
		}
		at = at.Add(time.Hour)
		r, err := e.Observe(threat.Observation{At: at})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Warm {
			t.Fatal("baseline not warm")
		}
		at = at.Add(time.Minute)
	}
	fired := false
	for _, o := range obs {
		o.At = at
		r, err := e.Observe(o)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range r.Findings {
			if f.Rule == rule {
				fired = true
			}
		}
		at = at.Add(10 * time.Second)
	}
	return fired
}

func TestThreatFieldsHaveAnEffect(t *testing.T) {
	repeat := func(n int, o threat.Observation) []threat.Observation {
		out := make([]threat.Observation, n)
		for i := range out {
			out[i] = o
		}
		return out
	}
	// D8b: two normal polls (SINR 12), then the interference signature.
	jam := func(rsrp, sinr, rsrq float64) []threat.Observation {
		return append(repeat(2, cellPoll(t, siteA, -92, 12, -9, siteB)), repeat(3, cellPoll(t, siteA, rsrp, sinr, rsrq, siteB))...)
	}
	th := func(c *profiles.Config) *profiles.Threats { return &c.Policy.Threats }
	for _, tc := range []struct {
		field   string
		rule    string
		warm    bool
		obs     []threat.Observation
		edit    func(*profiles.Config)
		byDflt  bool // whether rule fires with the product default
		changed bool // whether it fires with edit
	}{
		{"d8_jamming.min_rsrp", "D8b", false, jam(-100, -2, -9),
			func(c *profiles.Config) { th(c).D8.MinRSRP = -95 }, true, false},
		{"d8_jamming.max_sinr", "D8b", false, jam(-100, -2, -9),
			func(c *profiles.Config) { th(c).D8.MaxSINR = -5 }, true, false},
		{"d8_jamming.max_rsrq", "D8b", false, jam(-100, 2, -13),
			func(c *profiles.Config) { th(c).D8.MaxRSRQ = -12 }, false, true},
		{"d8_jamming.sinr_drop", "D8b", false, jam(-100, -2, -9),
			func(c *profiles.Config) { th(c).D8.SINRDrop = 20 }, true, false},
		// D6a: the known cell A 14 dB over its median for two polls.
		{"d6_signal.known_cell_delta", "D6a", true, repeat(2, cellPoll(t, siteA, -78, 12, -9, siteB, siteC)),
			func(c *profiles.Config) { th(c).D6.KnownCellDelta = 20 }, true, false},
		// D6b: unknown cell X at -85 dBm, 6 dB over the site's p90.
		{"d6_signal.unknown_cell_margin", "D6b", true, repeat(1, cellPoll(t, siteX, -85, 12, -9, siteB, siteC)),
			func(c *profiles.Config) { th(c).D6.UnknownCellMargin = 5 }, false, true},
		{"d6_signal.unknown_cell_max", "D6b", true, repeat(1, cellPoll(t, siteX, -85, 12, -9, siteB, siteC)),
			func(c *profiles.Config) { th(c).D6.UnknownCellMax = -90 }, false, true},
		// D7a: no neighbours for three polls at -95 dBm.
		{"d7_neighbours.min_rsrp", "D7a", true, repeat(3, cellPoll(t, siteA, -95, 12, -9)),
			func(c *profiles.Config) { th(c).D7.MinRSRP = -90 }, true, false},
	} {
		t.Run(tc.field, func(t *testing.T) {
			if got := threatRun(t, nil, tc.warm, tc.rule, tc.obs); got != tc.byDflt {
				t.Errorf("default: %s fired = %v, want %v", tc.rule, got, tc.byDflt)
			}
			if got := threatRun(t, tc.edit, tc.warm, tc.rule, tc.obs); got != tc.changed {
				t.Errorf("with policy.threats.%s set: %s fired = %v, want %v", tc.field, tc.rule, got, tc.changed)
			}
		})
	}
}

// d3_rejects.recovery_backoff delays the CFUN recovery of a sticky reject,
// and max_recoveries_per_day: 0 turns the recovery off.
func TestD3RecoveryFieldsHaveAnEffect(t *testing.T) {
	reject := func() threat.Observation {
		o := cellPoll(t, siteA, -92, 12, -9, siteB)
		o.Registration = &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegDenied,
			RejectCauseType: ptrTo(0), RejectCause: ptrTo(8)}
		o.Subscription = threat.SubscriptionActive
		return o
	}
	// recoveredAt feeds a sticky reject every minute for 15 minutes and
	// returns the minute the recovery was first asked for, or -1.
	recoveredAt := func(edit func(*profiles.Config)) int {
		cfg := loadCfg(t, "sim.yaml")
		if edit != nil {
			edit(cfg)
		}
		e, err := threat.New(switcher.ThreatConfig(cfg), nil)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		for m := range 16 {
			o := reject()
			o.At = at.Add(time.Duration(m) * time.Minute)
			r, err := e.Observe(o)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range r.Findings {
				if f.Response.Actions.Has(threat.ActRecoverCFUN) {
					return m
				}
			}
		}
		return -1
	}
	if got := recoveredAt(nil); got != 10 {
		t.Errorf("default recovery_backoff (10m): recovery at minute %d, want 10", got)
	}
	if got := recoveredAt(func(c *profiles.Config) { c.Policy.Threats.D3.RecoveryBackoff = profiles.Duration(3 * time.Minute) }); got != 3 {
		t.Errorf("recovery_backoff 3m: recovery at minute %d, want 3", got)
	}
	if got := recoveredAt(func(c *profiles.Config) { c.Policy.Threats.D3.MaxRecoveries = 0 }); got != -1 {
		t.Errorf("max_recoveries_per_day 0: recovery at minute %d, want none", got)
	}
}

// sim.applet.activate_apdu may use {aid} and {aid_len} (validation accepts
// them): they reach the driver filled in, {index} left for it.
func TestAppletTemplateFillsAIDPlaceholders(t *testing.T) {
	ap := profiles.Defaults().SIM.Applet
	ap.ActivateAPDU = "80E2{index}00{aid_len}{aid}"
	got := switcher.AppletTemplate(ap)
	if len(got.APDUs) != 1 || got.APDUs[0].APDU != "80E2{index}000AF04D554C5449494D5349" {
		t.Fatalf("APDUs = %+v", got.APDUs)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("the driver refuses the filled template: %v", err)
	}
}
