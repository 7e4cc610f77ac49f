package bench

import (
	"context"

	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/switcher"
)

// simProber answers data-path probes from the simulator's ground truth.
type simProber struct{ sim *simulator.Modem }

func (p simProber) Probe(context.Context, string) (switcher.ProbeResult, error) {
	if p.sim.Snapshot().DataUp {
		return switcher.ProbeResult{OK: true}, nil
	}
	return switcher.ProbeResult{OK: false, Detail: "no traffic"}, nil
}
