// Package modemreport is what a probe of a modem shows: one query of each
// kind (identity, SIM, registration, operator, signal, serving cell and
// neighbours) and the report's JSON and table forms. Gathering it from a
// modem is package gather: this one links no modem driver, so imsictl can
// print a report without carrying one. imsictl probe gathers
// it on a port it opened itself; the daemon gathers it through its own
// session's command queue (GET /v1/probe), so both print the same thing.
package modemreport

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Report is the stable JSON form of a probe (docs/cli.md). A nil pointer is
// a value the modem did not give; it is printed as null, never omitted, so
// that scripts can rely on every key being present.
type Report struct {
	Device       string       `json:"device"`
	Modem        ModemInfo    `json:"modem"`
	SIM          SIM          `json:"sim"`
	Registration Registration `json:"registration"`
	Signal       Signal       `json:"signal"`
	ServingCell  *ServingCell `json:"serving_cell"`
	Neighbours   []Neighbour  `json:"neighbours"`
	// Unanswered names the sections whose query failed (their fields are null).
	Unanswered []string `json:"unanswered"`
	Masked     bool     `json:"masked"`
}

type ModemInfo struct {
	Manufacturer *string `json:"manufacturer"`
	Model        *string `json:"model"`
	Revision     *string `json:"revision"`
	IMEI         *string `json:"imei"`
	Dialect      string  `json:"dialect"`
}

type SIM struct {
	State *string `json:"state"`
	ICCID *string `json:"iccid"`
	IMSI  *string `json:"imsi"`
}

type Registration struct {
	Status      *string `json:"status"`
	Tech        *string `json:"tech"`
	PLMN        *string `json:"plmn"`
	Operator    *string `json:"operator"`
	TAC         *string `json:"tac"`
	CellID      *string `json:"cell_id"`
	RejectCause *int    `json:"reject_cause"`
}

type Signal struct {
	RSSI *float64 `json:"rssi_dbm"`
	RSRP *float64 `json:"rsrp_dbm"`
	RSRQ *float64 `json:"rsrq_db"`
	SINR *float64 `json:"sinr_db"`
}

type ServingCell struct {
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

type Neighbour struct {
	Tech   *string  `json:"tech"`
	EARFCN *int     `json:"earfcn"`
	PCI    *int     `json:"pci"`
	RSSI   *float64 `json:"rssi_dbm"`
	RSRP   *float64 `json:"rsrp_dbm"`
	RSRQ   *float64 `json:"rsrq_db"`
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

// WriteTable prints the Report for people: one section per block, "-" for
// what the modem did not say.
func WriteTable(w io.Writer, r *Report) {
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
