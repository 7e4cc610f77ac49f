package sim

import "time"

// rotationTimer counts time without an acceptable registration while the
// card is powered. It accumulates across power-offs instead of restarting,
// so sleeping pauses the applet's timer (the BICS "minimum active period"
// is about not interrupting it), and never runs a goroutine.
type rotationTimer struct {
	armed   bool
	off     bool          // powered down: not counting
	since   time.Time     // start of the current counting stretch
	elapsed time.Duration // counted before since
	// epoch anchors the applet's polling grid (rot.PollEvery): the first
	// time the card observed registration.
	epoch time.Time
}

func (c *Card) rotationPossible() bool {
	p := c.liveProfile()
	return c.rot.Enabled && c.appletAID != nil && p != nil && len(p.imsis) > 1
}

func (c *Card) observe(now time.Time, acceptable bool) {
	t := &c.timer
	if t.epoch.IsZero() {
		t.epoch = now
	}
	if acceptable {
		t.armed, t.elapsed = false, 0
		return
	}
	if !t.armed {
		t.armed, t.since, t.elapsed = true, now, 0
	}
}

func (c *Card) tick(now time.Time) {
	d, ok := c.nextDeadline()
	if !ok || now.Before(d) {
		return
	}
	p := c.liveProfile()
	_ = c.setActive((p.active+1)%len(p.imsis), true, "rotation")
	// One rotation per Tick; the new IMSI gets a full period from now.
	c.timer.since, c.timer.elapsed = now, 0
}

func (c *Card) nextDeadline() (time.Time, bool) {
	t := c.timer
	if !t.armed || t.off || !c.rotationPossible() {
		return time.Time{}, false
	}
	d := t.since.Add(c.rot.RotateAfter - t.elapsed)
	if p := c.rot.PollEvery; p > 0 && !t.epoch.IsZero() && d.After(t.epoch) {
		// The applet only notices at its next poll.
		n := (d.Sub(t.epoch) + p - 1) / p
		d = t.epoch.Add(n * p)
	}
	return d, true
}

func (c *Card) powerOff(now time.Time) {
	t := &c.timer
	if t.off {
		return
	}
	t.off = true
	if t.armed {
		t.elapsed += now.Sub(t.since)
	}
}

func (c *Card) powerOn(now time.Time) {
	t := &c.timer
	if !t.off {
		return
	}
	t.off, t.since = false, now
}
