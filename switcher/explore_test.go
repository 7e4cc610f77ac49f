package switcher_test

import (
	"testing"
	"time"

	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/threat"
)

func TestExploreThreat(t *testing.T) {
	for _, tl := range []string{`
  - {at: 3m, event: cell, network: "310260", cell: {rat: GSM, tac: "3AFD", ci: "1452808", earfcn: 50, pci: 5}}
`} {
		var res []threat.Result
		cfg := loadCfg(t, "sim.yaml")
		eng, err := threat.New(switcher.ThreatConfig(cfg), nil)
		if err != nil {
			t.Fatal(err)
		}
		withWorld(t, tl, func(w *world) {
			w.run(15 * time.Minute)
			t.Log(dump(w.s.Decisions(0, 0)))
			st := w.s.Status()
			t.Logf("state %s active %s tech %s plmn %s reg %v snap %+v", st.State, st.Active, st.Tech, st.PLMN, st.Registered, w.sim.Snapshot().RAT)
			for _, r := range res {
				if len(r.Findings) > 0 || !r.Response.IsZero() {
					t.Logf("%s findings=%v resp=%+v", r.At.Format("15:04:05"), r.Findings, r.Response)
				}
			}
		}, switcher.WithThreat(eng), switcher.WithOnThreat(func(r threat.Result) { res = append(res, r) }))
	}
}
