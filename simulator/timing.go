package simulator

import "time"

// drawRange is a uniform draw from [lo, hi] in whole milliseconds from
// rngTiming; lo when hi is not above it (no draw is taken then, so a fixed
// timing model consumes nothing from the stream). mu held.
func (m *Modem) drawRange(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	span := int64((hi - lo) / time.Millisecond)
	return lo + time.Duration(m.rngTiming.Int63n(span+1))*time.Millisecond
}

// attachDelay is this attach's delay: timing.attach_delay, or a draw up to
// attach_delay_max, plus a full PLMN search (timing.plmn_search) on the
// first attach with an IMSI other than the last attach's. mu held.
func (m *Modem) attachDelay() time.Duration {
	t := m.sc.Timing
	d := m.drawRange(t.AttachDelay, t.AttachDelayMax)
	imsi := m.simIMSI
	changed := m.searchIMSI != "" && imsi != m.searchIMSI
	m.searchIMSI = imsi
	if ps := t.PLMNSearch; changed && ps.Probability > 0 && m.rngTiming.Float64() < ps.Probability {
		extra := m.drawRange(ps.Min, ps.Max)
		m.logger.Debug("full PLMN search after an IMSI change", "imsi", imsi, "extra", extra)
		d += extra
	}
	return d
}

// refreshDelay is this SIM busy window: timing.refresh_delay, or a draw up
// to refresh_delay_max. mu held.
func (m *Modem) refreshDelay() time.Duration {
	t := m.sc.Timing
	return m.drawRange(t.RefreshDelay, t.RefreshDelayMax)
}
