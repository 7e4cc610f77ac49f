package threat_test

import (
	"fmt"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/switcher/threat"
)

func Example() {
	cfg := threat.DefaultConfig()
	cfg.Site.CountryMCC = "310"
	cfg.Profiles = map[string]threat.ProfilePolicy{
		"primary": {AllowedPLMNs: []modem.PLMN{{MCC: "310", MNC: "260"}}},
	}
	eng, err := threat.New(cfg, nil)
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	act := modem.ActEUTRAN
	poll := func(at time.Time) threat.Result {
		res, err := eng.Observe(threat.Observation{
			At:           at,
			Profile:      "primary",
			Registration: &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegRoaming, AcT: &act},
			Operator:     &modem.Operator{PLMN: modem.PLMN{MCC: "334", MNC: "020"}, AcT: &act},
		})
		if err != nil {
			panic(err)
		}
		return res
	}
	// The first sighting of a foreign network is only evidence; the second
	// consecutive poll on it confirms, and D2a/D2b act.
	first := poll(now)
	fmt.Println("first poll:", first.Overall.Level, first.Response.Actions)
	res := poll(now.Add(30 * time.Second))
	for _, f := range res.Findings {
		fmt.Println(f.Rule, f.Severity, f.Score, f.Reason)
	}
	fmt.Println("level:", res.Overall.Level, res.Overall.Score)
	fmt.Println("actions:", res.Response.Actions, "switch allowed:", res.Response.SwitchAllowed())
	for _, q := range res.Response.Quarantine {
		fmt.Println("quarantine:", q.Scope.Key(), q.TTL)
	}
	// Output:
	// first poll: low none
	// D2a high 3 plmn_not_allowed
	// D2b high 3.5 foreign_mcc
	// D2c medium 1.5 unexpected_roaming
	// level: medium 3.5
	// actions: alert|probe|deprioritise|leave_now switch allowed: true
	// quarantine: plmn:334020 30m0s
}
