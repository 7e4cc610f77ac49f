package conformance

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/simulator"
)

// near checks one reported level against the truth within tol (the half
// step of the scale that carried it, or the clamp of the scale's range).
func near[T ~float64](t *testing.T, what string, got *T, want, tol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: nil, want %.1f", what, want)
		return
	}
	if math.Abs(float64(*got)-want) > tol+1e-9 {
		t.Errorf("%s = %.2f, want %.2f ±%.2f", what, float64(*got), want, tol)
	}
}

func isNil[T any](t *testing.T, what string, got *T) {
	t.Helper()
	if got != nil {
		t.Errorf("%s = %v, want nil (unknown)", what, *got)
	}
}

func clampf(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// wantAcT is the 27.007 AcT the serving RAT must be reported as.
func wantAcT(rat simulator.RAT) modem.AcT {
	switch rat {
	case simulator.RATGSM:
		return modem.ActGSM
	case simulator.RATWCDMA:
		return modem.ActUTRAN
	}
	return modem.ActEUTRAN
}

func wantTech(rat simulator.RAT) modem.Tech {
	switch rat {
	case simulator.RATGSM:
		return modem.TechGSM
	case simulator.RATWCDMA:
		return modem.TechUMTS
	}
	return modem.TechLTE
}

// TestQueries: for every simulator dialect and every home cell, each typed
// query returns what the scenario and Snapshot say.
func TestQueries(t *testing.T) {
	for _, d := range simDialects {
		for _, c := range cells {
			if testing.Short() && c.name != "lte-mid" && c.name != "lte-weak-edge" {
				continue
			}
			t.Run(d.name+"/"+c.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) { checkQueries(t, d.name, d.want, c) })
			})
		}
	}
}

func checkQueries(t *testing.T, dname string, wantD modem.Dialect, c cell) {
	r := newRig(t, world(t, dname, c, ""))
	ctx, cancel := r.cctx(10 * time.Minute)
	defer cancel()
	defer func() {
		if t.Failed() {
			t.Logf("wire:\n%s", r.wire())
		}
	}()
	s := r.sim.Snapshot()
	if got := r.drv.Dialect(); got != wantD {
		t.Errorf("Dialect = %s, want %s", got, wantD)
	}

	// Identity.
	for _, sd := range simDialects {
		if sd.name != dname {
			continue
		}
		id := get(r.drv.Identity(ctx)).must(t, "Identity")
		want := modem.Identity{Manufacturer: sd.manufacturer, Model: sd.model, Revision: sd.revision, IMEI: testIMEI}
		if id != want {
			t.Errorf("Identity = %+v, want %+v", id, want)
		}
	}

	// SIM.
	if st := get(r.drv.SIMState(ctx)).must(t, "SIMState"); st != modem.SIMReady || s.SIM != "ready" {
		t.Errorf("SIMState = %v, snapshot SIM %q", st, s.SIM)
	}
	if imsi := get(r.drv.IMSI(ctx)).must(t, "IMSI"); imsi.Reveal() != s.ModemIMSI {
		t.Errorf("IMSI = %s, want %s", imsi.Reveal(), s.ModemIMSI)
	}
	if id := get(r.drv.ICCID(ctx)).must(t, "ICCID"); id.Reveal() != s.ICCID {
		t.Errorf("ICCID = %s, want %s", id.Reveal(), s.ICCID)
	}
	if imsi := get(r.drv.EFIMSI(ctx)).must(t, "EFIMSI"); imsi.Reveal() != s.IMSI {
		t.Errorf("EFIMSI = %s, want %s", imsi.Reveal(), s.IMSI)
	}
	if id := get(r.drv.EFICCID(ctx)).must(t, "EFICCID"); id.Reveal() != s.ICCID {
		t.Errorf("EFICCID = %s, want %s", id.Reveal(), s.ICCID)
	}
	si := get(r.drv.SIMIdentity(ctx)).must(t, "SIMIdentity")
	if si.IMSI.Reveal() != s.ModemIMSI || si.ICCID.Reveal() != s.ICCID {
		t.Errorf("SIMIdentity = %s/%s, want %s/%s", si.IMSI.Reveal(), si.ICCID.Reveal(), s.ModemIMSI, s.ICCID)
	}

	checkSignal(t, r, dname, c, s)
	checkRegistration(t, r, c, s)
	checkOperator(t, r, c, s)
	checkServingCell(t, r, dname, wantD, c, s)
	checkPDP(t, r, dname, wantD, c)
	checkRATLock(t, r, wantD)
	checkSlot(t, r, wantD)
	if !c.down && !c.denied && !testing.Short() {
		checkScan(t, r, c)
	}
}

func checkSignal(t *testing.T, r *rig, dname string, c cell, s simulator.State) {
	t.Helper()
	ctx, cancel := r.cctx(time.Minute)
	defer cancel()
	sig, err := r.drv.Signal(ctx)
	if c.down {
		// No cell: every standard scale says unknown (99/255).
		if err == nil {
			isNil(t, "RSSI", sig.RSSI)
			isNil(t, "RSRP", sig.RSRP)
			isNil(t, "RSRQ", sig.RSRQ)
			isNil(t, "RSCP", sig.RSCP)
		}
		return
	}
	if err != nil {
		t.Errorf("Signal: %v", err)
		return
	}
	x := s.Signal
	if !c.denied && (x.RSRP != c.rsrp || x.RSSI != c.rssi) {
		t.Fatalf("snapshot radio %+v is not the scenario's cell %+v", x, c)
	}
	switch s.RAT {
	case simulator.RATLTE:
		// CESQ: RSRP -141+n (n 0..97, 1 dB), RSRQ -20+n/2 (n 0..34).
		near(t, "RSRP (CESQ)", sig.RSRP, clampf(x.RSRP, -141, -44), 0.5)
		near(t, "RSRQ (CESQ)", sig.RSRQ, clampf(x.RSRQ, -20, -3), 0.25)
		if sig.Tech != modem.TechLTE && sig.Tech != modem.TechUnknown {
			t.Errorf("Signal.Tech = %s", sig.Tech)
		}
	case simulator.RATWCDMA:
		near(t, "RSCP (CESQ)", sig.RSCP, clampf(x.RSRP, -121, -25), 0.5)
		near(t, "EcIo (CESQ)", sig.EcIo, clampf(x.RSRQ, -24.5, 0), 0.25)
	case simulator.RATGSM:
		near(t, "RSSI (CESQ rxlev)", sig.RSSI, clampf(x.RSSI, -111, -48), 0.5)
	}
	// SINR comes from the vendor command where the dialect has one.
	switch dname {
	case "quectel-eg25", "quectel-ec25":
		if s.RAT == simulator.RATLTE {
			// QCSQ raw = (dB+20)*5, 0..250: 0.2 dB steps.
			near(t, "SINR (QCSQ)", sig.SINR, clampf(x.SINR, -20, 30), 0.1)
		}
	case "simcom-sim7600":
		if s.RAT == simulator.RATLTE {
			near(t, "SINR (CPSI)", sig.SINR, x.SINR, 0.5)
		}
	}
}

func checkRegistration(t *testing.T, r *rig, c cell, s simulator.State) {
	t.Helper()
	ctx, cancel := r.cctx(time.Minute)
	defer cancel()
	regs := get(r.drv.Registrations(ctx)).must(t, "Registrations")
	seen := map[modem.Domain]modem.Registration{}
	for _, g := range regs {
		seen[g.Domain] = g
	}
	// Which domain must carry the registration: EPS on LTE, CS and PS on
	// GSM/WCDMA (27.007: +CEREG shows 0 there).
	domains := []modem.Domain{modem.DomainEPS}
	if s.RAT != simulator.RATLTE {
		domains = []modem.Domain{modem.DomainCS, modem.DomainPS}
	}
	for _, dom := range []modem.Domain{modem.DomainCS, modem.DomainPS, modem.DomainEPS} {
		g, ok := seen[dom]
		if !ok {
			t.Errorf("Registrations: no %s", dom)
			continue
		}
		one := get(r.drv.Registration(ctx, dom)).must(t, "Registration "+dom.String())
		if diff := cmp.Diff(g, one); diff != "" {
			t.Errorf("Registration(%s) differs from Registrations (-all +one):\n%s", dom, diff)
		}
		carries := false
		for _, cd := range domains {
			carries = carries || cd == dom
		}
		if !carries {
			continue
		}
		if int(g.Status) != s.RegStat {
			t.Errorf("%s stat = %d, snapshot %d", dom, g.Status, s.RegStat)
		}
		if s.RegStat == 3 {
			if g.RejectCause == nil || *g.RejectCause != s.RejectCause || g.RejectCauseType == nil || *g.RejectCauseType != 0 {
				t.Errorf("%s reject cause = %v (type %v), snapshot %d", dom, ptr(g.RejectCause), ptr(g.RejectCauseType), s.RejectCause)
			}
		} else if g.RejectCause != nil {
			t.Errorf("%s reject cause %d while stat %d", dom, *g.RejectCause, s.RegStat)
		}
		if !g.Status.Registered() && s.RegStat != 3 {
			continue
		}
		if g.Area == nil || uint64(*g.Area) != s.TAC {
			t.Errorf("%s area = %v, want %X", dom, ptr(g.Area), s.TAC)
		}
		if g.CellID == nil || *g.CellID != s.CI {
			t.Errorf("%s ci = %v, want %X", dom, ptr(g.CellID), s.CI)
		}
		if g.AcT == nil || *g.AcT != wantAcT(s.RAT) {
			t.Errorf("%s act = %v, want %d", dom, ptr(g.AcT), wantAcT(s.RAT))
		}
	}
}

func ptr[T any](p *T) any {
	if p == nil {
		return "nil"
	}
	return fmt.Sprintf("%v", *p)
}

func checkOperator(t *testing.T, r *rig, c cell, s simulator.State) {
	t.Helper()
	ctx, cancel := r.cctx(time.Minute)
	defer cancel()
	op := get(r.drv.Operator(ctx)).must(t, "Operator")
	if c.down || c.denied {
		if !op.PLMN.IsZero() {
			t.Errorf("Operator with no service = %+v", op)
		}
		return
	}
	if op.PLMN.String() != s.PLMN || op.Name != "Telekom.de" {
		t.Errorf("Operator = %s %q, want %s %q", op.PLMN, op.Name, s.PLMN, "Telekom.de")
	}
	if op.AcT == nil || *op.AcT != wantAcT(s.RAT) {
		t.Errorf("Operator AcT = %v, want %d", ptr(op.AcT), wantAcT(s.RAT))
	}
}

func checkScan(t *testing.T, r *rig, c cell) {
	t.Helper()
	ctx, cancel := r.cctx(5 * time.Minute)
	defer cancel()
	start := time.Now()
	nets := get(r.drv.ScanNetworks(ctx)).must(t, "ScanNetworks")
	if took := time.Since(start); took < 45*time.Second {
		t.Errorf("COPS=? took %v of scenario time, want the scenario's cops_scan 45s", took)
	}
	want := map[string]struct {
		stat        int
		long, short string
		act         modem.AcT
	}{
		"26201":  {2, "Telekom.de", "TDG", wantAcT(simulator.RAT(c.rat))},
		"23415":  {1, "vodafone UK", "voda UK", modem.ActEUTRAN},
		"310260": {1, "T-Mobile", "TMO", modem.ActEUTRAN},
	}
	got := map[string]bool{}
	for _, n := range nets {
		w, ok := want[n.PLMN.String()]
		if !ok {
			t.Errorf("scan lists %+v, not in the scenario", n)
			continue
		}
		got[n.PLMN.String()] = true
		if n.Stat != w.stat || n.LongName != w.long || n.ShortName != w.short || n.AcT == nil || *n.AcT != w.act {
			t.Errorf("scan entry %s = {%d %q %q %v}, want %+v", n.PLMN, n.Stat, n.LongName, n.ShortName, ptr(n.AcT), w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("scan found %d networks, want %d", len(got), len(want))
	}
}

func checkServingCell(t *testing.T, r *rig, dname string, wantD modem.Dialect, c cell, s simulator.State) {
	t.Helper()
	ctx, cancel := r.cctx(time.Minute)
	defer cancel()
	sc, nbs, err := r.drv.ServingCell(ctx)
	if wantD == modem.DialectGeneric {
		if !errors.Is(err, modem.ErrNotSupported) {
			t.Errorf("ServingCell on generic: %v, want ErrNotSupported", err)
		}
		return
	}
	if err != nil {
		t.Errorf("ServingCell: %v", err)
		return
	}
	if wantD == modem.DialectTelit && (c.rat != "LTE" || c.down) {
		return // TestBugTelitRFSTSNonLTE
	}
	if c.down {
		if sc.PLMN != (modem.PLMN{}) || sc.CellID != nil {
			t.Errorf("ServingCell with no service = %+v", sc)
		}
		return
	}
	if sc.Tech != wantTech(s.RAT) {
		t.Errorf("ServingCell.Tech = %q, want %q", sc.Tech, wantTech(s.RAT))
	}
	if sc.PLMN.String() != s.PLMN {
		t.Errorf("ServingCell.PLMN = %s, want %s", sc.PLMN, s.PLMN)
	}
	if sc.Area == nil || uint64(*sc.Area) != s.TAC {
		t.Errorf("ServingCell.Area = %v, want %#x", ptr(sc.Area), s.TAC)
	}
	if sc.CellID == nil || *sc.CellID != s.CI {
		t.Errorf("ServingCell.CellID = %v, want %#x", ptr(sc.CellID), s.CI)
	}
	if (wantD == modem.DialectQuectel || wantD == modem.DialectSIMCom) && !c.denied {
		if sc.EARFCN == nil || *sc.EARFCN != c.earfcn {
			t.Errorf("ServingCell.EARFCN = %v, want %d", ptr(sc.EARFCN), c.earfcn)
		}
		if c.rat != "GSM" && (sc.PCI == nil || *sc.PCI != c.pci) {
			t.Errorf("ServingCell.PCI = %v, want %d", ptr(sc.PCI), c.pci)
		}
	}
	x := s.Signal
	tol := 0.5 // QENG and RFSTS print whole dB
	if wantD == modem.DialectSIMCom && s.RAT == simulator.RATLTE {
		tol = 0.05 // CPSI prints LTE levels in tenths
	}
	switch s.RAT {
	case simulator.RATLTE:
		near(t, "ServingCell RSRP", sc.Signal.RSRP, x.RSRP, tol)
		near(t, "ServingCell RSRQ", sc.Signal.RSRQ, x.RSRQ, tol)
		if wantD != modem.DialectTelit {
			near(t, "ServingCell RSSI", sc.Signal.RSSI, x.RSSI, tol)
			// SINR is whole dB in QENG and in CPSI (RSSNR) alike.
			near(t, "ServingCell SINR", sc.Signal.SINR, x.SINR, 0.5)
		}
	case simulator.RATWCDMA:
		near(t, "ServingCell RSCP", sc.Signal.RSCP, x.RSRP, tol)
		near(t, "ServingCell EcIo", sc.Signal.EcIo, x.RSRQ, tol)
	case simulator.RATGSM:
		near(t, "ServingCell RSSI", sc.Signal.RSSI, x.RSSI, tol)
	}
	if wantD == modem.DialectQuectel && !c.denied {
		want := 0
		if c.rat == "LTE" {
			want = 2
		}
		if len(nbs) != want {
			t.Errorf("neighbours = %d, want %d", len(nbs), want)
		}
		for i, nb := range nbs {
			wp, wq, we := []int{276, 41}[i], []float64{-97, -104}[i], []float64{-11, -13}[i]
			if nb.PCI == nil || *nb.PCI != wp {
				t.Errorf("neighbour %d PCI = %v, want %d", i, ptr(nb.PCI), wp)
			}
			wantE := []int{c.earfcn, c.earfcn + 100}[i]
			if nb.EARFCN == nil || *nb.EARFCN != wantE {
				t.Errorf("neighbour %d EARFCN = %v, want %d", i, ptr(nb.EARFCN), wantE)
			}
			near(t, fmt.Sprintf("neighbour %d RSRP", i), nb.Signal.RSRP, wq, 0.5)
			near(t, fmt.Sprintf("neighbour %d RSRQ", i), nb.Signal.RSRQ, we, 0.5)
		}
	}
}

func checkPDP(t *testing.T, r *rig, dname string, wantD modem.Dialect, c cell) {
	t.Helper()
	ctx, cancel := r.cctx(5 * time.Minute)
	defer cancel()
	want := modem.PDPContext{CID: 2, Type: "IP", APN: "iot.example"}
	if err := r.drv.DefinePDP(ctx, want); err != nil {
		t.Errorf("DefinePDP: %v", err)
		return
	}
	defs := get(r.drv.PDPContexts(ctx)).must(t, "PDPContexts")
	found := map[int]modem.PDPContext{}
	for _, p := range defs {
		found[p.CID] = p
	}
	if found[2] != want {
		t.Errorf("PDPContexts cid 2 = %+v, want %+v", found[2], want)
	}
	if found[1].APN != "internet" {
		t.Errorf("PDPContexts cid 1 = %+v, want APN internet", found[1])
	}
	err := r.drv.SetPDPActive(ctx, 1, true)
	if c.down || c.denied {
		if err == nil {
			t.Errorf("CGACT without service succeeded")
		}
		return
	}
	if err != nil {
		t.Errorf("SetPDPActive: %v", err)
		return
	}
	act := get(r.drv.PDPActive(ctx)).must(t, "PDPActive")
	if !act[1] {
		t.Errorf("PDPActive = %v, want cid 1 active", act)
	}
	s := r.sim.Snapshot()
	addr := get(r.drv.PDPAddress(ctx, 1)).must(t, "PDPAddress")
	wantAddr, perr := netip.ParseAddr(s.PDP[1])
	if perr != nil || len(addr.Addrs) != 1 || addr.Addrs[0] != wantAddr || addr.CID != 1 {
		t.Errorf("PDPAddress = %+v, snapshot %q", addr, s.PDP[1])
	}
	wait(10 * time.Second)
	dc, err := r.drv.DataCounters(ctx)
	s = r.sim.Snapshot()
	switch wantD {
	case modem.DialectQuectel:
		if err != nil {
			t.Errorf("DataCounters: %v", err)
		} else if int64(dc.Sent) != s.TxBytes || int64(dc.Received) != s.RxBytes || s.TxBytes == 0 {
			t.Errorf("DataCounters = %+v, snapshot tx %d rx %d", dc, s.TxBytes, s.RxBytes)
		}
	default:
		if err == nil {
			t.Logf("DataCounters on %s = %+v, snapshot tx %d rx %d", dname, dc, s.TxBytes, s.RxBytes)
		}
	}
	if err := r.drv.SetPDPActive(ctx, 1, false); err != nil {
		t.Errorf("SetPDPActive off: %v", err)
	}
	if act := get(r.drv.PDPActive(ctx)).must(t, "PDPActive"); act[1] {
		t.Errorf("PDPActive after deactivation = %v", act)
	}
}

func checkRATLock(t *testing.T, r *rig, wantD modem.Dialect) {
	t.Helper()
	ctx, cancel := r.cctx(time.Minute)
	defer cancel()
	if wantD != modem.DialectQuectel && wantD != modem.DialectSIMCom {
		if _, err := r.drv.RATLock(ctx); !errors.Is(err, modem.ErrNotSupported) {
			t.Logf("RATLock on %s: %v", wantD, err)
		}
		return
	}
	if m := get(r.drv.RATLock(ctx)).must(t, "RATLock"); m != modem.RATAuto {
		t.Errorf("RATLock at boot = %s, want auto", m)
	}
	for _, m := range []modem.RATMode{modem.RATLTEOnly, modem.RATUMTSOnly, modem.RATGSMOnly, modem.RATAuto} {
		if err := r.drv.SetRATLock(ctx, m); err != nil {
			t.Errorf("SetRATLock(%s): %v", m, err)
			continue
		}
		if got := get(r.drv.RATLock(ctx)).must(t, "RATLock"); got != m {
			t.Errorf("RATLock after SetRATLock(%s) = %s", m, got)
		}
	}
}

func checkSlot(t *testing.T, r *rig, wantD modem.Dialect) {
	t.Helper()
	ctx, cancel := r.cctx(time.Minute)
	defer cancel()
	slot, err := r.drv.SIMSlot(ctx)
	if wantD != modem.DialectQuectel {
		if err == nil {
			t.Logf("SIMSlot on %s = %d", wantD, slot)
		}
		return
	}
	if err != nil {
		t.Errorf("SIMSlot: %v", err)
	} else if slot != r.sim.Snapshot().Slot {
		t.Errorf("SIMSlot = %d, snapshot %d", slot, r.sim.Snapshot().Slot)
	}
}
