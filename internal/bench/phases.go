package bench

import (
	"time"

	"github.com/imsid/imsid/simulator"
	"github.com/imsid/imsid/switcher"
)

// pdpModem is the modem's own share of PDP activation in the world
// (timing.pdp_activate).
const pdpModem = time.Second

// Phases splits one failover (the loss of data until it flows again on
// another profile) into what happened in it, from the decision log and the
// simulator's state samples:
//
//   - Detect: from the loss to the manager's first decision after it (for
//     the applet, which logs nothing first, until the SIM starts to change).
//   - Decide: from that decision to the switch that brought data back
//     (failed candidates and rollbacks in between count here).
//   - Refresh: from that switch until the SIM is ready with the new IMSI;
//     RefreshModem is the part with the SIM busy (the modem's), the rest is
//     the manager's AT work before the modem starts.
//   - Attach: SIM ready until registered (the modem's).
//   - PDP: registered until data flows; the modem's share is PDP
//     activation (1 s), the rest is the manager noticing the registration.
//   - Verify: data flowing until the manager's verification decision (not
//     part of the failover; the manager's).
//
// Own is the manager's time in the failover, Modem the modem's; Own +
// Modem is the failover time to the sampling step.
type Phases struct {
	Detect, Decide, Refresh, RefreshModem, Attach, PDP, Verify time.Duration
	Own, Modem                                                 time.Duration
}

// sample is what phases need of one state sample.
type sample struct {
	t        time.Duration
	profile  string
	simReady bool
	reg      bool
	dataUp   bool
}

// decision is a logged decision in scenario time.
type decision struct {
	t    time.Duration
	kind switcher.Kind
}

func toSample(t time.Duration, profile string, st simulator.State) sample {
	return sample{t: t, profile: profile, simReady: st.SIM == "ready",
		reg: st.RegStat == 1 || st.RegStat == 5, dataUp: st.DataUp}
}

// phases derives the failover's phases; ok is false when data came back
// on the profile it was lost on (no switch to split).
func phases(samples []sample, decs []decision, loss, restored time.Duration, step time.Duration) (Phases, bool) {
	var p Phases
	if restored <= loss || len(samples) == 0 {
		return p, false
	}
	at := func(t time.Duration) int { // index of the first sample at or after t
		for i, s := range samples {
			if s.t >= t {
				return i
			}
		}
		return len(samples) - 1
	}
	iLoss, iBack := at(loss), at(restored)
	final := samples[iBack].profile
	before := samples[max(0, iLoss-1)].profile
	if final == before {
		return p, false
	}
	// The SIM's last change before data came back: the first sample of the
	// run of samples that ends in the SIM ready with the final profile.
	iReady := iBack
	for iReady > iLoss && samples[iReady-1].simReady && samples[iReady-1].profile == final {
		iReady--
	}
	iBusy := iReady
	for iBusy > iLoss && !samples[iBusy-1].simReady {
		iBusy--
	}
	simChange := samples[iBusy].t - step // it changed within the last step
	// The switch that brought data back: the last switch or rollback
	// decision before the SIM changed (none: the applet did it).
	start, first := time.Duration(-1), time.Duration(-1)
	for _, d := range decs {
		if d.t < loss || d.t > samples[iReady].t {
			continue
		}
		if first < 0 && d.kind != switcher.KindStay && d.kind != switcher.KindVerified {
			first = d.t
		}
		if d.kind == switcher.KindSwitch || d.kind == switcher.KindRollback {
			start = d.t
		}
	}
	if start < 0 || start > simChange {
		start = max(loss, simChange)
	}
	if first < 0 || first > start {
		first = start
	}
	iReg := iReady
	for iReg < iBack && !samples[iReg].reg {
		iReg++
	}
	p.Detect = first - loss
	p.Decide = start - first
	p.Refresh = samples[iReady].t - start
	p.RefreshModem = samples[iReady].t - samples[iBusy].t
	p.Attach = samples[iReg].t - samples[iReady].t
	p.PDP = restored - samples[iReg].t
	for _, d := range decs {
		if d.t >= restored && (d.kind == switcher.KindVerified || d.kind == switcher.KindAdopt) {
			p.Verify = d.t - restored
			break
		}
	}
	for _, x := range []*time.Duration{&p.Detect, &p.Decide, &p.Refresh, &p.RefreshModem, &p.Attach, &p.PDP} {
		*x = max(0, *x)
	}
	p.RefreshModem = min(p.RefreshModem, p.Refresh)
	pdpM := min(p.PDP, pdpModem)
	p.Modem = p.RefreshModem + p.Attach + pdpM
	p.Own = p.Detect + p.Decide + (p.Refresh - p.RefreshModem) + (p.PDP - pdpM)
	return p, true
}

// fields names every phase (for medians).
func (p *Phases) fields() map[string]*time.Duration {
	return map[string]*time.Duration{"detect": &p.Detect, "decide": &p.Decide, "refresh": &p.Refresh,
		"refresh-modem": &p.RefreshModem, "attach": &p.Attach, "pdp": &p.PDP, "verify": &p.Verify,
		"own": &p.Own, "modem": &p.Modem}
}
