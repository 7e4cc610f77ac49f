// Package modemreport is what a probe of a modem shows: one query of each
// kind (identity, SIM, registration, operator, signal, serving cell and
// neighbours) and the report's JSON and table forms. imsictl probe gathers
// it on a port it opened itself; the daemon gathers it through its own
// session's command queue (GET /v1/probe), so both print the same thing.
package modemreport

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/imsid/imsid/modem"
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

func signalFrom(s modem.Signal) Signal {
	return Signal{RSSI: dbmp(s.RSSI), RSRP: dbmp(s.RSRP), RSRQ: dbp(s.RSRQ), SINR: dbp(s.SINR)}
}

func servingFrom(c modem.ServingCell) *ServingCell {
	out := &ServingCell{
		Tech: strp(string(c.Tech)), State: strp(c.State), TAC: hexp32(c.Area), CellID: hexp64(c.CellID),
		PCI: c.PCI, EARFCN: c.EARFCN, Band: strp(c.Band),
		RSSI: dbmp(c.Signal.RSSI), RSRP: dbmp(c.Signal.RSRP), RSRQ: dbp(c.Signal.RSRQ), SINR: dbp(c.Signal.SINR),
	}
	if !c.PLMN.IsZero() {
		out.PLMN = strp(c.PLMN.String())
	}
	return out
}

func neighbourFrom(n modem.Neighbour) Neighbour {
	return Neighbour{Tech: strp(string(n.Tech)), EARFCN: n.EARFCN, PCI: n.PCI,
		RSSI: dbmp(n.Signal.RSSI), RSRP: dbmp(n.Signal.RSRP), RSRQ: dbp(n.Signal.RSRQ)}
}

// Mask hides IMSI and ICCID the way the modem types' String methods do.
func (r *Report) Mask() {
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

// queryTimeout bounds each query so that one command the modem ignores
// cannot use the whole --timeout.
const queryTimeout = 5 * time.Second

func step[T any](ctx context.Context, rep *Report, what string, f func(context.Context) (T, error)) (T, bool) {
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	v, err := f(qctx)
	if err != nil {
		rep.Unanswered = append(rep.Unanswered, what)
		return v, false
	}
	return v, true
}

// Gather asks the modem everything the Report shows. Each query that
// fails leaves its fields null; the probe as a whole still succeeds.
func Gather(ctx context.Context, m *modem.Modem, device string) *Report {
	rep := &Report{Device: device, Neighbours: []Neighbour{}, Unanswered: []string{}}
	rep.Modem.Dialect = string(m.Dialect())
	if id, ok := step(ctx, rep, "modem", m.Identity); ok {
		rep.Modem.Manufacturer = strp(id.Manufacturer)
		rep.Modem.Model = strp(id.Model)
		rep.Modem.Revision = strp(id.Revision)
		rep.Modem.IMEI = strp(id.IMEI)
	}
	if st, ok := step(ctx, rep, "sim.state", m.SIMState); ok {
		rep.SIM.State = strp(st.String())
	}
	// Vendor ICCID commands vary; EF_ICCID over +CRSM works everywhere.
	if c, ok := step(ctx, rep, "sim.iccid", func(ctx context.Context) (modem.ICCID, error) {
		c, err := m.ICCID(ctx)
		if err != nil && ctx.Err() == nil {
			c, err = m.EFICCID(ctx)
		}
		return c, err
	}); ok {
		rep.SIM.ICCID = strp(c.Reveal())
	}
	if i, ok := step(ctx, rep, "sim.imsi", m.IMSI); ok {
		rep.SIM.IMSI = strp(i.Reveal())
	}

	regs, _ := step(ctx, rep, "registration", m.Registrations)
	var tech modem.Tech
	if r, ok := pickRegistration(regs); ok {
		rep.Registration.Status = strp(r.Status.Summary())
		if r.AcT != nil {
			tech = r.AcT.Tech()
		}
		if r.Area != nil {
			rep.Registration.TAC = strp(fmt.Sprintf("%X", *r.Area))
		}
		if r.CellID != nil {
			rep.Registration.CellID = strp(fmt.Sprintf("%X", *r.CellID))
		}
		rep.Registration.RejectCause = r.RejectCause
	}
	if op, ok := step(ctx, rep, "registration.operator", m.Operator); ok {
		if !op.PLMN.IsZero() {
			rep.Registration.PLMN = strp(op.PLMN.String())
		}
		rep.Registration.Operator = strp(op.Name)
		if tech == "" && op.AcT != nil {
			tech = op.AcT.Tech()
		}
	}

	if s, ok := step(ctx, rep, "signal", m.Signal); ok {
		rep.Signal = signalFrom(s)
		if tech == "" {
			tech = s.Tech
		}
	}
	type cellAnswer struct {
		sc modem.ServingCell
		nb []modem.Neighbour
	}
	if ca, ok := step(ctx, rep, "serving_cell", func(ctx context.Context) (cellAnswer, error) {
		sc, nb, err := m.ServingCell(ctx)
		return cellAnswer{sc, nb}, err
	}); ok {
		rep.ServingCell = servingFrom(ca.sc)
		// A modem that refuses +CESQ (SIMCom SIM7600: ERROR, then +CSQ
		// with RSSI only) still measures the serving cell: its own
		// report (+CPSI, +QENG, #RFSTS...) fills what the signal query
		// left empty, so the probe shows RSRP wherever the modem gave it.
		fill(&rep.Signal.RSSI, rep.ServingCell.RSSI)
		fill(&rep.Signal.RSRP, rep.ServingCell.RSRP)
		fill(&rep.Signal.RSRQ, rep.ServingCell.RSRQ)
		fill(&rep.Signal.SINR, rep.ServingCell.SINR)
		for _, n := range ca.nb {
			rep.Neighbours = append(rep.Neighbours, neighbourFrom(n))
		}
		if tech == "" {
			tech = ca.sc.Tech
		}
	}
	rep.Registration.Tech = strp(string(tech))
	return rep
}

// pickRegistration prefers a registered domain, newest technology first.
func pickRegistration(regs []modem.Registration) (modem.Registration, bool) {
	order := []modem.Domain{modem.Domain5GS, modem.DomainEPS, modem.DomainPS, modem.DomainCS}
	for _, d := range order {
		for _, r := range regs {
			if r.Domain == d && r.Status.Registered() {
				return r, true
			}
		}
	}
	for _, d := range order {
		for _, r := range regs {
			if r.Domain == d {
				return r, true
			}
		}
	}
	return modem.Registration{}, false
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// fill sets *dst to v when the signal query left it empty.
func fill(dst **float64, v *float64) {
	if *dst == nil && v != nil {
		x := *v
		*dst = &x
	}
}
