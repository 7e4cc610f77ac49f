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
// another profile) into consecutive phases, from the decision log (each
// decision at the moment the switcher logged it) and the simulator's
// state samples, each boundary at the instant the simulator stamped for
// the change (not at the sample that first shows it):
//
//   - Detect: from the loss to the manager's first decision after it (for
//     the applet, which logs nothing first, until the SIM starts to change).
//   - Decide: from that decision to the switch that brought data back
//     (failed candidates and rollbacks in between count here).
//     DecideModem is the modem's part: from each SIM change in it (the SIM
//     going busy) until the registration's outcome for the new identity
//     (a reject, or registered), or the next switch if none came; the
//     rest (the choice, and noticing and confirming the outcome) is the
//     manager's.
//   - Refresh: from that switch until the SIM is ready with the new IMSI;
//     RefreshModem is the part with the SIM busy (the modem's), the rest is
//     the manager's AT work before the modem starts.
//   - Attach: SIM ready until registered (the modem's).
//   - Verify: registered until the modem starts activating the data
//     session: the manager noticing the registration at its next poll and
//     checking identity, network and RAT before it asks for PDP (the
//     manager's).
//   - PDP: the modem's PDP activation (timing.pdp_activate, 1 s), which
//     ends when data flows.
//
// The six phases add up to the failover exactly; Own (detect, the
// manager's parts of decide and of the refresh, verify) + Modem (its parts
// of decide and of the refresh, attach, PDP) is the failover. Confirmed is
// after the failover: from data flowing until the manager logged the
// target verified (its data probe passed); -1 when it logged no
// verification.
type Phases struct {
	Detect, Decide, Refresh, RefreshModem, Attach, Verify, PDP time.Duration
	DecideModem                                                time.Duration
	Own, Modem                                                 time.Duration
	Confirmed                                                  time.Duration
}

// Failover is the sum of the phases: the failover they split.
func (p Phases) Failover() time.Duration {
	return p.Detect + p.Decide + p.Refresh + p.Attach + p.Verify + p.PDP
}

// sample is what phases need of one state sample.
type sample struct {
	t        time.Duration
	profile  string
	simReady bool
	reg      bool
	dataUp   bool
	stat     int // the 27.007 registration status (3: rejected)
	// simAt, regAt, dataAt, statAt: when the SIM state, the registration,
	// the data flow and the registration status took the values this
	// sample shows, to the instant (the simulator stamps each change), in
	// scenario time.
	simAt, regAt, dataAt, statAt time.Duration
}

// decision is a logged decision in scenario time: when the switcher logged
// it, not the start of the tick it was taken in (Decision.Time), which for
// a verification is before the PDP activation it waited for.
type decision struct {
	t    time.Duration
	kind switcher.Kind
}

func toSample(t time.Duration, profile string, st simulator.State) sample {
	return sample{t: t, profile: profile, simReady: st.SIM == "ready",
		reg: st.RegStat == 1 || st.RegStat == 5, dataUp: st.DataUp, stat: st.RegStat,
		simAt: instant(t, st, st.SIMSince), regAt: instant(t, st, st.RegSince), dataAt: instant(t, st, st.DataSince),
		statAt: instant(t, st, st.StatSince)}
}

// instant places a simulator time stamp on the scenario clock of the
// sample read at t; an unset stamp is t itself.
func instant(t time.Duration, st simulator.State, at time.Time) time.Duration {
	if at.IsZero() || at.After(st.Time) {
		return t
	}
	return t - st.Time.Sub(at)
}

// modemWork is the modem's time within [from, to): from each change of
// the SIM (the SIM going busy; a change no sample caught busy, within the
// step before the sample that shows the new identity) until the
// registration's outcome for the new identity, a reject or registered,
// or until to if none came by then.
func modemWork(samples []sample, from, to, step time.Duration) time.Duration {
	var total time.Duration
	since := time.Duration(-1) // when the modem's current work began; -1: none under way
	for i := 1; i < len(samples) && samples[i-1].t < to; i++ {
		s, prev := samples[i], samples[i-1]
		if s.t <= from {
			continue
		}
		if since < 0 {
			switch {
			case !s.simReady:
				since = max(s.simAt, from)
			case s.profile != prev.profile:
				since = max(s.t-step, from)
			}
		}
		if since >= 0 && s.simReady && (s.reg || s.stat == 3) && s.statAt > since {
			total += max(0, min(s.statAt, to)-since)
			since = -1
		}
	}
	if since >= 0 {
		total += max(0, to-since)
	}
	return total
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
	// The SIM changed when the first sample that shows it busy says; when
	// no sample caught it busy (a refresh shorter than a step), within the
	// step before the sample that shows it ready anew.
	simChange := samples[iBusy].t - step
	if !samples[iBusy].simReady {
		simChange = samples[iBusy].simAt
	}
	readyAt := samples[iReady].simAt
	// The switch that brought data back: the last switch or rollback
	// decision before the SIM changed (none: the applet did it). The
	// switcher logs a switch before it sends the first command of it, so
	// the decision precedes the change, at the latest by a sampling step.
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
	byManager := start >= 0 && start <= max(simChange, samples[iBusy].t-step)
	if !byManager {
		start = max(loss, simChange)
	}
	if first < 0 || first > start {
		first = start
	}
	iReg := iReady
	for iReg < iBack && !samples[iReg].reg {
		iReg++
	}
	// The boundaries, in order and within the failover, so that the phases
	// add up to it.
	b := []time.Duration{loss, first, start, readyAt, samples[iReg].regAt, restored}
	for i := 1; i < len(b); i++ {
		b[i] = min(max(b[i], b[i-1]), restored)
	}
	p.Detect, p.Decide, p.Refresh, p.Attach = b[1]-b[0], b[2]-b[1], b[3]-b[2], b[4]-b[3]
	p.RefreshModem = min(max(0, b[3]-max(simChange, b[2])), p.Refresh)
	if !byManager {
		p.RefreshModem = p.Refresh // the SIM changed by itself: all the modem's
	}
	p.PDP = min(b[5]-b[4], pdpModem)
	p.Verify = b[5] - b[4] - p.PDP
	p.DecideModem = min(modemWork(samples, b[1], b[2], step), p.Decide)
	p.Modem = p.DecideModem + p.RefreshModem + p.Attach + p.PDP
	p.Own = p.Detect + (p.Decide - p.DecideModem) + (p.Refresh - p.RefreshModem) + p.Verify
	// The manager's verification of the switch that brought data back (an
	// adoption for the applet's own change).
	p.Confirmed = -1
	for _, d := range decs {
		if d.t <= start {
			continue
		}
		if d.kind == switcher.KindVerified || d.kind == switcher.KindAdopt {
			p.Confirmed = max(0, d.t-restored)
		}
		if d.kind != switcher.KindStay {
			break // verified, or a next switch: this one was never confirmed
		}
	}
	return p, true
}
