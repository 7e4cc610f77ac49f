package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/imsid/imsid/modem"
)

// report is the stable JSON form of a probe (docs/cli.md). A nil pointer is
// a value the modem did not give; it is printed as null, never omitted, so
// that scripts can rely on every key being present.
type report struct {
	Device       string           `json:"device"`
	Modem        modemJSON        `json:"modem"`
	SIM          simJSON          `json:"sim"`
	Registration registrationJSON `json:"registration"`
	Signal       signalJSON       `json:"signal"`
	ServingCell  *servingJSON     `json:"serving_cell"`
	Neighbours   []neighbourJSON  `json:"neighbours"`
	// Unanswered names the sections whose query failed (their fields are null).
	Unanswered []string `json:"unanswered"`
	Masked     bool     `json:"masked"`
}

type modemJSON struct {
	Manufacturer *string `json:"manufacturer"`
	Model        *string `json:"model"`
	Revision     *string `json:"revision"`
	IMEI         *string `json:"imei"`
	Dialect      string  `json:"dialect"`
}

type simJSON struct {
	State *string `json:"state"`
	ICCID *string `json:"iccid"`
	IMSI  *string `json:"imsi"`
}

type registrationJSON struct {
	Status      *string `json:"status"`
	Tech        *string `json:"tech"`
	PLMN        *string `json:"plmn"`
	Operator    *string `json:"operator"`
	TAC         *string `json:"tac"`
	CellID      *string `json:"cell_id"`
	RejectCause *int    `json:"reject_cause"`
}

type signalJSON struct {
	RSSI *float64 `json:"rssi_dbm"`
	RSRP *float64 `json:"rsrp_dbm"`
	RSRQ *float64 `json:"rsrq_db"`
	SINR *float64 `json:"sinr_db"`
}

type servingJSON struct {
	Tech   *string  `json:"tech"`
	State  *string  `json:"state"`
	PLMN   *string  `json:"plmn"`
	TAC    *string  `json:"tac"`
	CellID *string  `json:"cell_id"`
	PCI    *int     `json:"pci"`
	EARFCN *int     `json:"earfcn"`
	Band   *string  `json:"band"`
	RSSI   *float64 `json:"rssi_dbm"`
	RSRP   *float64 `json:"rsrp_dbm"`
	RSRQ   *float64 `json:"rsrq_db"`
	SINR   *float64 `json:"sinr_db"`
}

type neighbourJSON struct {
	Tech   *string  `json:"tech"`
	EARFCN *int     `json:"earfcn"`
	PCI    *int     `json:"pci"`
	RSSI   *float64 `json:"rssi_dbm"`
	RSRP   *float64 `json:"rsrp_dbm"`
	RSRQ   *float64 `json:"rsrq_db"`
}

func dbmp(v *modem.DBm) *float64 {
	if v == nil {
		return nil
	}
	f := float64(*v)
	return &f
}

func dbp(v *modem.DB) *float64 {
	if v == nil {
		return nil
	}
	f := float64(*v)
	return &f
}

func hexp32(v *uint32) *string {
	if v == nil {
		return nil
	}
	return strp(fmt.Sprintf("%X", *v))
}

func hexp64(v *uint64) *string {
	if v == nil {
		return nil
	}
	return strp(fmt.Sprintf("%X", *v))
}

func signalFrom(s modem.Signal) signalJSON {
	return signalJSON{RSSI: dbmp(s.RSSI), RSRP: dbmp(s.RSRP), RSRQ: dbp(s.RSRQ), SINR: dbp(s.SINR)}
}

func servingFrom(c modem.ServingCell) *servingJSON {
	out := &servingJSON{
		Tech: strp(string(c.Tech)), State: strp(c.State), TAC: hexp32(c.Area), CellID: hexp64(c.CellID),
		PCI: c.PCI, EARFCN: c.EARFCN, Band: strp(c.Band),
		RSSI: dbmp(c.Signal.RSSI), RSRP: dbmp(c.Signal.RSRP), RSRQ: dbp(c.Signal.RSRQ), SINR: dbp(c.Signal.SINR),
	}
	if !c.PLMN.IsZero() {
		out.PLMN = strp(c.PLMN.String())
	}
	return out
}

func neighbourFrom(n modem.Neighbour) neighbourJSON {
	return neighbourJSON{Tech: strp(string(n.Tech)), EARFCN: n.EARFCN, PCI: n.PCI,
		RSSI: dbmp(n.Signal.RSSI), RSRP: dbmp(n.Signal.RSRP), RSRQ: dbp(n.Signal.RSRQ)}
}

// mask hides IMSI and ICCID the way the modem types' String methods do.
func (r *report) mask() {
	r.Masked = true
	if r.SIM.IMSI != nil {
		r.SIM.IMSI = strp(modem.IMSI(*r.SIM.IMSI).String())
	}
	if r.SIM.ICCID != nil {
		r.SIM.ICCID = strp(modem.ICCID(*r.SIM.ICCID).String())
	}
}

func sv(p *string) string {
	if p == nil {
		return "-"
	}
	return *p
}

func iv(p *int) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

func fv(p *float64, unit string) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%g %s", *p, unit)
}

// writeTable prints the report for people: one section per block, "-" for
// what the modem did not say.
func writeTable(w io.Writer, r *report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, v) }
	fmt.Fprintf(tw, "device\t%s\n", r.Device)
	fmt.Fprintln(tw, "modem")
	row("manufacturer", sv(r.Modem.Manufacturer))
	row("model", sv(r.Modem.Model))
	row("revision", sv(r.Modem.Revision))
	row("imei", sv(r.Modem.IMEI))
	row("dialect", r.Modem.Dialect)
	fmt.Fprintln(tw, "sim")
	row("state", sv(r.SIM.State))
	row("iccid", sv(r.SIM.ICCID))
	row("imsi", sv(r.SIM.IMSI))
	fmt.Fprintln(tw, "registration")
	row("status", sv(r.Registration.Status))
	row("tech", sv(r.Registration.Tech))
	row("plmn", sv(r.Registration.PLMN))
	row("operator", sv(r.Registration.Operator))
	row("tac", sv(r.Registration.TAC))
	row("cell_id", sv(r.Registration.CellID))
	row("reject_cause", iv(r.Registration.RejectCause))
	fmt.Fprintln(tw, "signal")
	row("rssi", fv(r.Signal.RSSI, "dBm"))
	row("rsrp", fv(r.Signal.RSRP, "dBm"))
	row("rsrq", fv(r.Signal.RSRQ, "dB"))
	row("sinr", fv(r.Signal.SINR, "dB"))
	fmt.Fprintln(tw, "serving_cell")
	if c := r.ServingCell; c != nil {
		row("tech", sv(c.Tech))
		row("state", sv(c.State))
		row("plmn", sv(c.PLMN))
		row("tac", sv(c.TAC))
		row("cell_id", sv(c.CellID))
		row("pci", iv(c.PCI))
		row("earfcn", iv(c.EARFCN))
		row("band", sv(c.Band))
		row("rsrp", fv(c.RSRP, "dBm"))
		row("rsrq", fv(c.RSRQ, "dB"))
		row("sinr", fv(c.SINR, "dB"))
	} else {
		row("-", "")
	}
	tw.Flush()
	fmt.Fprintf(w, "neighbours (%d)\n", len(r.Neighbours))
	if len(r.Neighbours) > 0 {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  tech\tearfcn\tpci\trsrp\trsrq\trssi")
		for _, n := range r.Neighbours {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", sv(n.Tech), iv(n.EARFCN), iv(n.PCI), fv(n.RSRP, "dBm"), fv(n.RSRQ, "dB"), fv(n.RSSI, "dBm"))
		}
		tw.Flush()
	}
	if len(r.Unanswered) > 0 {
		fmt.Fprintf(w, "unanswered: %s\n", strings.Join(r.Unanswered, ", "))
	}
}
