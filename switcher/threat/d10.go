package threat

import (
	"fmt"
	"slices"

	"github.com/imsid/imsid/modem"
)

// d10 watches the identity of the SIM and the modem: an unprovisioned
// ICCID, a swapped modem, hot-plug, an IMSI/ICCID change we did not make,
// and the SIM falling into a PIN/PUK state.
type d10 struct {
	imsi     modem.IMSI
	iccid    modem.ICCID
	wasReady bool
}

func (*d10) info() DetectorInfo {
	return DetectorInfo{ID: D10, Version: 1, Name: "sim_tamper",
		Description: "unprovisioned ICCID (D10a), IMEI change (D10b), SIM hot-plug (D10c), IMSI/ICCID change not made by us (D10d), PIN/PUK state (D10e)"}
}

func (*d10) enabled(c *Config) bool { return c.D10.Enabled }

func isLocked(s modem.SIMState) bool {
	switch s {
	case modem.SIMPIN, modem.SIMPUK, modem.SIMPIN2, modem.SIMPUK2, modem.SIMPersonalisation:
		return true
	}
	return false
}

func criticalResponse() Response {
	return Response{Level: SeverityCritical, Actions: ActBlockTransactions | ActStoreAndForward | ActAlert}
}

func (d *d10) observe(e *env, o *Observation) []Finding {
	dev := Scope{Kind: ScopeDevice}
	sim := o.SIM
	if e.maintenance {
		// A signed maintenance window covers a planned SIM or modem swap:
		// take the new identity as the reference without judging it.
		if sim != nil {
			d.remember(e, sim)
			if sim.IMEI != "" && e.base != nil {
				e.base.IMEI = sim.IMEI
			}
		}
		return nil
	}
	var out []Finding
	for _, x := range o.Events {
		if x.Kind == EventSIMRemoved || x.Kind == EventSIMInserted {
			f := e.finding("D10c", ReasonSIMHotPlug, SeverityHigh, 3.0, dev,
				fmt.Sprintf("SIM hot-plug (%s) with no maintenance window", x.Kind), ev("event", x.Kind))
			f.Response = Response{Level: SeverityHigh, Actions: ActAlert}
			out = append(out, f)
		}
	}
	if sim == nil {
		return out
	}
	site := &e.cfg.Site
	if sim.ICCID != "" && len(site.ProvisionedICCIDs) > 0 && !slices.Contains(site.ProvisionedICCIDs, sim.ICCID) && !e.acked[sim.ICCID] {
		f := e.finding("D10a", ReasonICCIDUnprovisioned, SeverityCritical, 5.0, dev,
			"the SIM's ICCID is not provisioned for this device", ev("iccid", sim.ICCID))
		f.Response = criticalResponse()
		out = append(out, f)
	}
	if sim.IMEI != "" {
		switch {
		case e.base.IMEI == "":
			e.base.IMEI = sim.IMEI // first boot: learn the modem
		case e.base.IMEI != sim.IMEI:
			f := e.finding("D10b", ReasonIMEIChanged, SeverityCritical, 5.0, dev,
				"the modem's IMEI differs from the one last accepted: the modem was swapped",
				ev("imei", maskTail(sim.IMEI, 4)), ev("previous", maskTail(e.base.IMEI, 4)))
			f.Response = criticalResponse()
			out = append(out, f)
		}
	}
	changed := (sim.IMSI != "" && d.imsi != "" && sim.IMSI != d.imsi) || (sim.ICCID != "" && d.iccid != "" && sim.ICCID != d.iccid)
	if changed && !e.suppressed {
		score, sev, msg := 1.5, SeverityMedium, "IMSI/ICCID changed without a switch by imsid"
		if site.AutonomousApplet {
			score, sev, msg = 0, SeverityNone, "IMSI/ICCID changed by the autonomous SIM applet"
		}
		out = append(out, e.finding("D10d", ReasonIdentityChanged, sev, score, e.scopeFor(o, ScopeProfile), msg,
			ev("imsi", sim.IMSI), ev("previous_imsi", d.imsi), ev("iccid", sim.ICCID), ev("previous_iccid", d.iccid)))
	}
	if isLocked(sim.State) && d.wasReady {
		f := e.finding("D10e", ReasonSIMLocked, SeverityHigh, 3.0, dev,
			fmt.Sprintf("the SIM went from ready to %s", sim.State), ev("state", sim.State))
		f.Response = Response{Level: SeverityHigh, Actions: ActAlert}
		out = append(out, f)
	}
	d.remember(e, sim)
	return out
}

func (d *d10) remember(_ *env, sim *SIMIdentity) {
	if sim.IMSI != "" {
		d.imsi = sim.IMSI
	}
	if sim.ICCID != "" {
		d.iccid = sim.ICCID
	}
	switch {
	case sim.State == modem.SIMReady:
		d.wasReady = true
	case sim.State != modem.SIMUnknown && !isLocked(sim.State):
		d.wasReady = false
	}
}
