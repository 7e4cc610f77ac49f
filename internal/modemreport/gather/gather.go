// Package gather fills a modemreport.Report from a modem session: the
// daemon does it through its own command queue (POST /v1/probe), imsid's
// helper for imsictl probe --device on a port it opened itself.
package gather

import (
	"context"
	"fmt"
	"time"

	"github.com/imsid/imsid/internal/modemreport"
	"github.com/imsid/imsid/modem"
)

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

func signalFrom(s modem.Signal) modemreport.Signal {
	return modemreport.Signal{RSSI: dbmp(s.RSSI), RSRP: dbmp(s.RSRP), RSRQ: dbp(s.RSRQ), SINR: dbp(s.SINR)}
}

func servingFrom(c modem.ServingCell) *modemreport.ServingCell {
	out := &modemreport.ServingCell{
		Tech: strp(string(c.Tech)), State: strp(c.State), TAC: hexp32(c.Area), CellID: hexp64(c.CellID),
		PCI: c.PCI, EARFCN: c.EARFCN, Band: strp(c.Band),
		RSSI: dbmp(c.Signal.RSSI), RSRP: dbmp(c.Signal.RSRP), RSRQ: dbp(c.Signal.RSRQ), SINR: dbp(c.Signal.SINR),
	}
	if !c.PLMN.IsZero() {
		out.PLMN = strp(c.PLMN.String())
	}
	return out
}

func neighbourFrom(n modem.Neighbour) modemreport.Neighbour {
	return modemreport.Neighbour{Tech: strp(string(n.Tech)), EARFCN: n.EARFCN, PCI: n.PCI,
		RSSI: dbmp(n.Signal.RSSI), RSRP: dbmp(n.Signal.RSRP), RSRQ: dbp(n.Signal.RSRQ)}
}

// Mask hides IMSI and ICCID the way the modem types' String methods do.
func Mask(r *modemreport.Report) {
	r.Masked = true
	if r.SIM.IMSI != nil {
		r.SIM.IMSI = strp(modem.IMSI(*r.SIM.IMSI).String())
	}
	if r.SIM.ICCID != nil {
		r.SIM.ICCID = strp(modem.ICCID(*r.SIM.ICCID).String())
	}
}

// queryTimeout bounds each query so that one command the modem ignores
// cannot use the whole --timeout.
const queryTimeout = 5 * time.Second

func step[T any](ctx context.Context, rep *modemreport.Report, what string, f func(context.Context) (T, error)) (T, bool) {
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	v, err := f(qctx)
	if err != nil {
		rep.Unanswered = append(rep.Unanswered, what)
		return v, false
	}
	return v, true
}

// Gather asks the modem everything the modemreport.Report shows. Each query that
// fails leaves its fields null; the probe as a whole still succeeds.
func Gather(ctx context.Context, m *modem.Modem, device string) *modemreport.Report {
	rep := &modemreport.Report{Device: device, Neighbours: []modemreport.Neighbour{}, Unanswered: []string{}}
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
	if r, ok := modem.ServiceRegistration(regs); ok {
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
