package threat

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/imsid/imsid/modem"
)

// d8 recognises RF jamming: the vendor's own detector, or the serving
// signal present while its quality collapses, or every profile losing
// registration at once without a coverage loss. Changing IMSI does not
// help against jamming, so its response suspends switching.
type d8 struct {
	jammed      bool
	jammedSince time.Time
	streak      int
	refCell     CellKey
	recentSINR  []float64 // quality before the current streak, for sites without a baseline yet
	lostAt      map[string]time.Time
	regAt       map[string]time.Time
}

func newD8() *d8 { return &d8{lostAt: map[string]time.Time{}, regAt: map[string]time.Time{}} }

func (*d8) info() DetectorInfo {
	return DetectorInfo{ID: D8, Version: 2, Name: "jamming",
		Description: "vendor jamming URC (D8a), interference signature RSRP present while SINR/RSRQ collapse (D8b), blackout on every profile (D8c), noise rise (D8d)"}
}

func (*d8) enabled(c *Config) bool { return c.D8.Enabled }

// pending reports a signature in progress, during which signal statistics
// must not be learned (or the jammer becomes the baseline).
func (d *d8) pending() bool { return d.jammed || d.streak > 0 }

// recentSINRLen bounds the recent-polls reference; minRecentSINR is how
// many normal polls it needs. Two, so that a jammer switched on a minute
// after boot (two 30 s polls) is still measured against something: the
// absolute conditions (RSRP present, SINR ≤ 0 or RSRQ ≤ −15) and the
// 3-poll persistence carry the false-positive control, not the length of
// the history.
const (
	recentSINRLen = 10
	minRecentSINR = 2
)

func jamResponse() Response {
	return Response{Level: SeverityHigh, Actions: ActSuspendSwitching | ActLocalAlarm | ActStoreAndForward | ActAlert}
}

func (d *d8) observe(e *env, o *Observation) []Finding {
	cfg := &e.cfg.D8
	var out []Finding
	dev := Scope{Kind: ScopeDevice}
	for _, x := range o.Events {
		if x.Kind != EventJamming {
			continue
		}
		if x.Jammed && !d.jammed {
			d.jammedSince = e.now
		}
		d.jammed = x.Jammed
	}
	if d.jammed && e.now.Sub(d.jammedSince) >= cfg.URCFor {
		f := e.finding("D8a", ReasonJammingReported, SeverityHigh, 3.0, dev,
			fmt.Sprintf("the modem has reported jamming for %s", e.now.Sub(d.jammedSince)),
			ev("since", d.jammedSince))
		f.Response = jamResponse()
		out = append(out, f)
	}
	if f, ok := d.interference(e, o); ok {
		out = append(out, f)
	}
	if f, ok := d.blackout(e, o); ok {
		out = append(out, f)
	}
	if f, ok := d.noise(e, o); ok {
		out = append(out, f)
	}
	return out
}

// interference is D8b: RSRP says the cell is there, SINR/RSRQ say nothing
// gets through, and SINR is far below what this cell normally gives.
func (d *d8) interference(e *env, o *Observation) (Finding, bool) {
	cfg := &e.cfg.D8
	rsrp, okR := o.rsrp()
	sinr, okS := o.sinr()
	if !okR || !okS {
		return Finding{}, false
	}
	k, okK := o.servingKey()
	if okK && k != d.refCell {
		d.refCell, d.recentSINR = k, nil
	}
	ref, haveRef := 0.0, false
	if rec := e.base.Cells[k]; okK && e.stationary && rec != nil && rec.SINR.Total() >= e.cfg.Baseline.MinSignalSamples {
		ref, haveRef = rec.SINR.Quantile(0.5)
	} else if len(d.recentSINR) >= minRecentSINR {
		// The lower median: with few polls, a single good one must not
		// set the bar the drop is measured from.
		s := slices.Clone(d.recentSINR)
		sort.Float64s(s)
		ref, haveRef = s[(len(s)-1)/2], true
	}
	rsrq, okQ := o.rsrq()
	bad := rsrp >= cfg.MinRSRP && (sinr <= cfg.MaxSINR || (okQ && rsrq <= cfg.MaxRSRQ)) && haveRef && sinr <= ref-cfg.SINRDrop
	if !bad {
		d.streak = 0
		d.recentSINR = append(d.recentSINR, sinr)
		if len(d.recentSINR) > recentSINRLen {
			d.recentSINR = d.recentSINR[1:]
		}
		return Finding{}, false
	}
	d.streak++
	if d.streak < cfg.Polls {
		return Finding{}, false
	}
	evidence := []Evidence{ev("rsrp", rsrp), ev("sinr", sinr), ev("sinr_reference", ref), ev("polls", d.streak)}
	if okQ {
		evidence = append(evidence, ev("rsrq", rsrq))
	}
	f := e.finding("D8b", ReasonInterference, SeverityHigh, 3.0, Scope{Kind: ScopeDevice},
		fmt.Sprintf("signal present (%.0f dBm) while SINR fell to %.0f dB from %.0f for %d polls: interference", rsrp, sinr, ref, d.streak),
		evidence...)
	f.Response = jamResponse()
	return f, true
}

// blackout is D8c: every configured profile lost registration within the
// window while the received power stayed at its usual level.
func (d *d8) blackout(e *env, o *Observation) (Finding, bool) {
	cfg := &e.cfg.D8
	// Only configured profiles take part, which also bounds the maps.
	if _, configured := e.cfg.Profiles[o.Profile]; configured && o.Registration != nil {
		reg := o.Registration
		if reg.Status.Registered() {
			d.regAt[o.Profile] = e.now
		} else if !e.suppressed && !e.cardChange && (reg.Status == modem.RegNotRegistered || reg.Status == modem.RegSearching || reg.Status == modem.RegUnknown) {
			// A loss inside our own switch, radio cycle or network
			// selection is ours, and a reject is a network's answer (D3's
			// evidence): neither is what a jammer does.
			if _, lost := d.lostAt[o.Profile]; !lost || d.regAt[o.Profile].After(d.lostAt[o.Profile]) {
				d.lostAt[o.Profile] = e.now
			}
		}
	}
	if len(e.cfg.Profiles) < 2 || !e.stationary {
		return Finding{}, false
	}
	names := make([]string, 0, len(e.cfg.Profiles))
	for n := range e.cfg.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		l, ok := d.lostAt[n]
		if !ok || e.now.Sub(l) > cfg.BlackoutWindow || !d.regAt[n].Before(l) {
			return Finding{}, false
		}
	}
	// Not a coverage loss: the power is still where it usually is.
	present := false
	var evidence []Evidence
	if v, ok := o.rssi(); ok {
		if p50, ok := e.base.Site.RSSI.Quantile(0.5); ok && e.base.Site.RSSI.Total() >= e.cfg.Baseline.MinSignalSamples {
			present = v >= p50
			evidence = append(evidence, ev("rssi", v), ev("site_rssi_p50", p50))
		}
	}
	if v, ok := o.rsrp(); ok && evidence == nil {
		present = v >= cfg.MinRSRP
		evidence = append(evidence, ev("rsrp", v))
	}
	if !present {
		return Finding{}, false
	}
	evidence = append(evidence, ev("profiles", len(names)))
	f := e.finding("D8c", ReasonBlackout, SeverityHigh, 3.0, Scope{Kind: ScopeDevice},
		fmt.Sprintf("registration lost on all %d profiles within %s while the signal power stayed normal", len(names), cfg.BlackoutWindow),
		evidence...)
	f.Response = jamResponse()
	return f, true
}

// noise is D8d: RSSI − RSRP (interference plus noise over the wanted
// signal) rising well above the site's usual level without RSRP falling.
func (d *d8) noise(e *env, o *Observation) (Finding, bool) {
	if !e.stationary {
		return Finding{}, false
	}
	rssi, ok1 := o.rssi()
	rsrp, ok2 := o.rsrp()
	minN := e.cfg.Baseline.MinSignalSamples
	if !ok1 || !ok2 || e.base.Site.NoiseRise.Total() < minN || e.base.Site.ServingRSRP.Total() < minN {
		return Finding{}, false
	}
	med, _ := e.base.Site.NoiseRise.Quantile(0.5)
	rsrpMed, _ := e.base.Site.ServingRSRP.Quantile(0.5)
	rise := rssi - rsrp
	if rise-med < e.cfg.D8.NoiseRise || rsrp < rsrpMed-3 {
		return Finding{}, false
	}
	return e.finding("D8d", ReasonNoiseRise, SeverityMedium, 1.0, Scope{Kind: ScopeDevice},
		fmt.Sprintf("RSSI−RSRP at %.0f dB, %.0f dB over the site's usual %.0f, with RSRP steady", rise, rise-med, med),
		ev("rssi", rssi), ev("rsrp", rsrp), ev("site_median", med)), true
}
