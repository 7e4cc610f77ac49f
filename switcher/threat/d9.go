package threat

import (
	"fmt"
	"time"

	"github.com/imsid/imsid/modem"
)

// d9 counts network-initiated detaches and registration losses, and
// recognises capture-and-release: a short visit to an unknown cell that
// ends in a reject or detach and a return to the usual cell.
type d9 struct {
	// losses are counted per network lost: an outage of one carrier and
	// a detach on another are not churn on either.
	losses map[modem.PLMN][]time.Time
	// served: a poll since the last counted loss showed the device
	// registered, with nothing lost: the next loss is a new one.
	served   bool
	capture  capture
	captures []time.Time
}

type capture struct {
	active         bool
	cell, from     CellKey
	area           uint32
	at             time.Time
	lost, rejected bool
}

func (*d9) info() DetectorInfo {
	return DetectorInfo{ID: D9, Version: 1, Name: "attach_churn",
		Description: "≥3 detaches/losses in 10 min or ≥6 in an hour (D9a); capture-and-release via an unknown cell within 120 s (D9b)"}
}

func (*d9) enabled(c *Config) bool { return c.D9.Enabled }

// lossMerge is how long after a counted loss a detach or registration
// loss with no registration seen in between is still the same loss.
const lossMerge = 2 * time.Minute

func (d *d9) observe(e *env, o *Observation) []Finding {
	cfg := &e.cfg.D9
	if e.suppressed {
		// Our own switch detaches and re-attaches; none of it is evidence.
		d.capture.active = false
		return nil
	}
	detach := o.has(EventNetworkDetach) || o.has(EventPDNDeact)
	lost := o.Registration != nil && !o.Registration.Status.Registered() && o.Registration.Status != 8 &&
		e.hist.haveReg && e.hist.registered
	if e.jamming || e.cardChange {
		// Jamming explains the losses (D8 reports it), and so does a card
		// change (D10's): they say nothing about the network they happen on.
		detach, lost = false, false
	}
	// The network lost is the one served before this poll: while a
	// registration is refused the modem may already name the next one.
	net := e.hist.plmn
	if net.IsZero() {
		net = o.servingPLMN()
	}
	if d.losses == nil {
		d.losses = map[modem.PLMN][]time.Time{}
	}
	if detach || lost {
		// One loss of service counts once: the PDN deactivation, the
		// detach and the registration leaving the registered state of one
		// outage arrive on separate polls (each URC wakes one), and a
		// single 25 s outage read as three losses was churn (D9a), which
		// kept the carrier's score down for 8 min after it came back.
		if ls := d.losses[net]; len(ls) == 0 || d.served || e.now.Sub(ls[len(ls)-1]) >= lossMerge {
			d.losses[net] = append(ls, e.now)
		}
		d.served = false
	} else if o.Registration != nil && o.Registration.Status.Registered() {
		d.served = true
	}
	for k, ls := range d.losses {
		if ls = pruneBefore(ls, e.now.Add(-cfg.LongWindow)); len(ls) == 0 {
			delete(d.losses, k)
		} else {
			d.losses[k] = ls
		}
	}
	d.captures = pruneBefore(d.captures, e.now.Add(-cfg.RepeatWithin))

	var out []Finding
	losses := d.losses[net]
	short := countSince(losses, e.now.Add(-cfg.ShortWindow))
	rsrp, haveR := o.rsrp()
	if !haveR && e.hist.haveRSRP {
		rsrp, haveR = e.hist.rsrp, true
	}
	if e.stationary && (detach || lost) && haveR && rsrp >= cfg.MinRSRP &&
		(short >= cfg.ShortCount || len(losses) >= cfg.LongCount) {
		sc := e.scopeFor(o, ScopePLMN)
		if !net.IsZero() {
			sc.PLMN = net
		}
		out = append(out, e.finding("D9a", ReasonDetachChurn, SeverityMedium, 1.5, sc,
			fmt.Sprintf("%d detaches/registration losses of %s in %s, %d in %s, with RSRP %.0f dBm", short, net, cfg.ShortWindow, len(losses), cfg.LongWindow, rsrp),
			ev("short", short), ev("long", len(losses)), ev("rsrp", rsrp)))
	}

	c := &d.capture
	if c.active && e.now.Sub(c.at) > cfg.CaptureWindow {
		c.active = false
	}
	k, haveK := o.servingKey()
	if haveK && (!e.hist.havePrev || e.hist.prevServing != k) {
		a, haveA := o.area()
		if e.suspicious(k, a, haveA) && e.hist.haveBaseline {
			// A newer suspicious cell takes over: the release that follows
			// belongs to the last cell that captured us.
			from := e.hist.baselineCell
			if c.active {
				from = c.from
			}
			*c = capture{active: true, cell: k, from: from, area: a, at: e.now}
		}
	}
	if c.active {
		if (o.Registration != nil && !o.Registration.Status.Registered()) || lost {
			c.lost = true
		}
		if detach || (o.Registration != nil && o.Registration.RejectCause != nil) {
			c.rejected = true
		}
		a, haveA := o.area()
		back := haveK && (k == c.from || (k != c.cell && e.known(k) && !e.suspicious(k, a, haveA)))
		if back && c.lost && c.rejected {
			c.active = false
			score := 2.0
			if len(d.captures) > 0 {
				score = 3.0
			}
			d.captures = append(d.captures, e.now)
			scope := Scope{Kind: ScopeCell, Profile: e.profile, PLMN: c.cell.PLMN, Cell: c.cell, Area: c.area}
			f := e.finding("D9b", ReasonCaptureRelease, SeverityHigh, score, scope,
				fmt.Sprintf("captured by unknown cell %s for %s, released by reject/detach, back on %s", c.cell, e.now.Sub(c.at), k),
				ev("cell", c.cell), ev("returned_to", k), ev("duration", e.now.Sub(c.at)), ev("in_last_hour", len(d.captures)))
			f.Response = Response{Level: SeverityHigh, Actions: ActAlert,
				Quarantine: []Quarantine{{Scope: scope, TTL: e.cfg.Scoring.CellQuarantine, Reason: ReasonCaptureRelease}}}
			out = append(out, f)
		}
	}
	return out
}
