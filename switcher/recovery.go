package switcher

import (
	"context"
	"time"

	"github.com/imsid/imsid/switcher/threat"
)

// The recovery ladder for a sick modem (the AT channel, not the profile):
// re-query → resync → CFUN 0/1 → reset → reopen the port. One rung per
// tick, each modem call bounded by the step timeout, each rung counted.
// The radio-affecting rungs wait out an applet's rotation window.
var ladder = []string{"requery", "resync", "cfun", "reset", "reopen"}

func (s *Switcher) enterRecovery(now time.Time, why Reason) {
	s.fire(EvModemSick)
	if s.pending != nil {
		// A switch was in flight: what the SIM carries afterwards decides.
		s.needReconcile = true
	}
	s.recStep = 0
	s.rec.Runs++
	s.rec.LastAt = now
	s.rec.Step = ladder[0]
	s.pdpUp, s.pdpTried = false, false
	s.record(now, Decision{Kind: KindRecover, From: s.active, To: s.active, Trigger: TriggerModem, Reasons: []Reason{why}}, false)
}

func (s *Switcher) toModemLost(now time.Time, why Reason) {
	s.fire(EvModemLost)
	s.record(now, Decision{Kind: KindRecover, From: s.active, To: s.active, Trigger: TriggerModem, Reasons: []Reason{why}}, false)
	if s.opt.onModemLost != nil {
		s.opt.onModemLost()
	}
}

func (s *Switcher) recoverStep(ctx context.Context, now time.Time) {
	c, cancel := s.step(ctx)
	defer cancel()
	_, err := s.m.SIMState(c)
	if ctx.Err() != nil {
		return // cut short by shutdown: neither recovered nor worse
	}
	switch classify(err) {
	case healthOK:
		s.rec.Recovered++
		s.rec.Step = ""
		s.sickTicks = 0
		s.fire(EvModemOK)
		s.record(now, Decision{Kind: KindRecover, From: s.active, To: s.active, Trigger: TriggerModem,
			Reasons: []Reason{reason(CodeModemRecovered, "the modem answers again after %q", ladder[max(s.recStep-1, 0)])}}, false)
		return
	case healthLost:
		s.toModemLost(now, reason(CodeModemLost, "the port is gone"))
		return
	}
	if s.recStep >= len(ladder) {
		s.recStep = len(ladder) - 1
	}
	rung := ladder[s.recStep]
	s.rec.Step, s.rec.LastAt = rung, now
	switch rung {
	case "requery":
		s.rec.Requery++
	case "resync":
		s.rec.Resync++
		_ = s.m.Resync(c)
	case "cfun", "reset":
		if !s.resetAllowed(now) {
			return // the applet may be rotating: give it its window
		}
		if rung == "cfun" {
			s.rec.CFUN++
			_ = s.m.SetFunctionality(c, 0)
			_ = s.m.SetFunctionality(c, 1)
		} else {
			s.rec.Reset++
			_ = s.m.Reset(c)
		}
		s.ownEvents = append(s.ownEvents, threat.Event{Kind: threat.EventOwnCFUN})
	case "reopen":
		s.rec.Reopen++
		s.toModemLost(now, reason(CodeModemLost, "recovery ladder exhausted: the port must be reopened"))
		return
	}
	s.recStep++
}
