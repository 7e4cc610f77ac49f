package conformance

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/simulator"
)

func init() {
	// A 27.007 modem without logical-channel commands (Dell DW5821e class):
	// the driver must fall back to MANAGE CHANNEL and SELECT over +CSIM.
	simulator.RegisterDialect(&simulator.Dialect{
		Name:         "conformance-noccho",
		Manufacturer: "Acme Wireless",
		Model:        "AW-200",
		Revision:     "2.0.1",
		IMEI:         "356938035643817",
		CRSMQuoted:   true,
		BootURCs:     []simulator.URCStep{{Delay: 1500 * time.Millisecond, Line: "RDY"}},
		Commands:     map[string]simulator.CommandSpec{"+CCHO": {}, "+CGLA": {}, "+CCHC": {}},
	})
}

// sent reports whether the driver sent a command line starting with cmd.
func (r *rig) sent(cmd string) bool {
	for _, e := range r.sim.Log() {
		if e.Dir == simulator.In && bytes.HasPrefix(bytes.ToUpper(e.Data), []byte("AT"+cmd)) {
			return true
		}
	}
	return false
}

// awaitRegistered waits (scenario time) until the simulator is registered
// again, and returns how long that took.
func (r *rig) awaitRegistered(t *testing.T, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if s := r.sim.Snapshot(); s.RegStat == 1 || s.RegStat == 5 {
			return time.Since(start)
		}
		wait(100 * time.Millisecond)
	}
	t.Fatalf("not registered within %v: %+v", limit, r.sim.Snapshot())
	return 0
}

// checkSwitched holds the driver's view after a switch against Snapshot:
// the RefreshResult, +CIMI, EF_IMSI, the ICCID and, once the modem has
// attached again, the registration.
func checkSwitched(t *testing.T, r *rig, res modem.RefreshResult, before modem.SIMIdentity, wantIMSIChange, wantICCIDChange bool) {
	t.Helper()
	ctx, cancel := r.cctx(2 * time.Minute)
	defer cancel()
	s := r.sim.Snapshot()
	if res.Before != before {
		t.Errorf("RefreshResult.Before = %+v, want %+v", res.Before, before)
	}
	if res.After.IMSI.Reveal() != s.ModemIMSI || res.After.ICCID.Reveal() != s.ICCID {
		t.Errorf("RefreshResult.After = %s/%s, snapshot %s/%s", res.After.IMSI.Reveal(), res.After.ICCID.Reveal(), s.ModemIMSI, s.ICCID)
	}
	if res.IMSIChanged != wantIMSIChange || res.ICCIDChanged != wantICCIDChange {
		t.Errorf("changed IMSI %v ICCID %v, want %v %v (trigger %q)", res.IMSIChanged, res.ICCIDChanged, wantIMSIChange, wantICCIDChange, res.Trigger)
	}
	if res.Trigger == "" {
		t.Errorf("RefreshResult.Trigger empty")
	}
	if got := get(r.drv.EFIMSI(ctx)).must(t, "EFIMSI"); got.Reveal() != s.IMSI {
		t.Errorf("EFIMSI = %s, snapshot %s", got.Reveal(), s.IMSI)
	}
	if got := get(r.drv.IMSI(ctx)).must(t, "IMSI"); got.Reveal() != s.ModemIMSI {
		t.Errorf("IMSI = %s, snapshot %s", got.Reveal(), s.ModemIMSI)
	}
	if got := get(r.drv.ICCID(ctx)).must(t, "ICCID"); got.Reveal() != s.ICCID {
		t.Errorf("ICCID = %s, snapshot %s", got.Reveal(), s.ICCID)
	}
	took := r.awaitRegistered(t, time.Minute)
	s = r.sim.Snapshot()
	reg := get(r.drv.Registration(ctx, modem.DomainEPS)).must(t, "Registration")
	if int(reg.Status) != s.RegStat || reg.Area == nil || uint64(*reg.Area) != s.TAC || reg.CellID == nil || *reg.CellID != s.CI {
		t.Errorf("Registration = %v area %v ci %v, snapshot stat %d tac %#x ci %#x", reg.Status, ptr(reg.Area), ptr(reg.CellID), s.RegStat, s.TAC, s.CI)
	}
	op := get(r.drv.Operator(ctx)).must(t, "Operator")
	if op.PLMN.String() != s.PLMN {
		t.Errorf("Operator = %s, snapshot %s", op.PLMN, s.PLMN)
	}
	t.Logf("re-registered %v after the refresh was reported; now %s on %s", took, s.ModemIMSI, s.PLMN)
}

// checkRefreshEvents drains Events() and holds the REFRESH sequence a real
// modem shows, in order: SIM down, SIM ready, registration lost before it
// is regained.
func checkRefreshEvents(t *testing.T, r *rig) {
	t.Helper()
	checkRefreshEventsWant(t, r, []string{"sim-down", "lost", "registered"}) // "sim-ready": TestBugCPINURCFoldedIntoReply
}

func checkRefreshEventsWant(t *testing.T, r *rig, want []string) {
	t.Helper()
	var order, lines []string
	for {
		synctest.Wait() // let the driver's event pump hand over what it holds
		select {
		case e := <-r.drv.Events():
			lines = append(lines, fmt.Sprintf("%d %s %q dropped=%d", e.Seq, e.Kind, e.Line, e.Dropped))
			switch {
			case e.Kind == modem.EventSIM && e.SIM != nil && *e.SIM == modem.SIMNotReady:
				order = append(order, "sim-down")
			case e.Kind == modem.EventSIM && e.SIM != nil && *e.SIM == modem.SIMReady:
				order = append(order, "sim-ready")
			case e.Kind == modem.EventRegistration && e.Domain == modem.DomainEPS && e.Registration != nil:
				if e.Registration.Status.Registered() {
					order = append(order, "registered")
				} else {
					order = append(order, "lost")
				}
			}
			continue
		default:
		}
		break
	}
	i := 0
	for _, o := range order {
		if i < len(want) && o == want[i] {
			i++
		}
	}
	if i != len(want) {
		t.Errorf("REFRESH events %v do not contain %v in order; events:\n%s\nwire:\n%s", order, want, strings.Join(lines, "\n"), r.wire())
	}
}

func TestSwitchApplet(t *testing.T) {
	for _, tc := range []struct {
		name, dialect string
		wantCmd       string // the transport the APDUs must have gone over
	}{
		{"cgla/quectel-eg25", "quectel-eg25", "+CGLA="},
		{"cgla/simcom-sim7600", "simcom-sim7600", "+CGLA="},
		{"cgla/telit-le910", "telit-le910", "+CGLA="},
		{"cgla/generic", "generic", "+CGLA="},
		{"csim-fallback", "conformance-noccho", "+CSIM="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, world(t, tc.dialect, cells[0], ""))
				ctx, cancel := r.cctx(5 * time.Minute)
				defer cancel()
				before := get(r.drv.SIMIdentity(ctx)).must(t, "SIMIdentity")
				for _, idx := range []int{1, 2, 0} {
					res := get(r.drv.SwitchAppletProfile(ctx, modem.DefaultAppletTemplate(), idx)).must(t, "SwitchAppletProfile")
					want := []string{"262011234567890", "234150999999999", "310260123456789"}[idx]
					if res.After.IMSI.Reveal() != want {
						t.Errorf("switch to %d: IMSI %s, want %s", idx, res.After.IMSI.Reveal(), want)
					}
					checkSwitched(t, r, res, before, true, false)
					checkRefreshEvents(t, r)
					before = res.After
				}
				if !r.sent(tc.wantCmd) {
					t.Errorf("no AT%s on the wire", tc.wantCmd)
				}
				if tc.wantCmd == "+CSIM=" && r.sent("+CGLA=") {
					t.Errorf("CGLA sent on a modem without it after the fallback was learned")
				}
			})
		})
	}
}

func TestSwitchEUICC(t *testing.T) {
	uk := modem.ProfileRef{ICCID: "89441000000000000013"}
	t.Run("refresh", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newRig(t, loadScenario(t, "euicc.yaml"))
			ctx, cancel := r.cctx(5 * time.Minute)
			defer cancel()
			before := get(r.drv.SIMIdentity(ctx)).must(t, "SIMIdentity")
			ps := get(r.drv.GetProfilesInfo(ctx)).must(t, "GetProfilesInfo")
			if len(ps) != 2 || ps[0].State != modem.ProfileEnabled || ps[1].ICCID != uk.ICCID {
				t.Errorf("profiles = %+v", ps)
			}
			if eid := get(r.drv.GetEID(ctx)).must(t, "GetEID"); eid != "89049032123451234512345678901235" {
				t.Errorf("EID = %s", eid)
			}
			res := get(r.drv.SwitchEUICCProfile(ctx, uk, true)).must(t, "SwitchEUICCProfile")
			if res.After.ICCID != uk.ICCID || res.After.IMSI.Reveal() != "234150999999999" {
				t.Errorf("after = %s/%s", res.After.ICCID.Reveal(), res.After.IMSI.Reveal())
			}
			checkSwitched(t, r, res, before, true, true)
		})
	})
	t.Run("no-refresh", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newRig(t, loadScenario(t, "euicc.yaml"))
			ctx, cancel := r.cctx(5 * time.Minute)
			defer cancel()
			before := get(r.drv.SIMIdentity(ctx)).must(t, "SIMIdentity")
			if err := r.drv.EnableProfile(ctx, uk, false); err != nil {
				t.Fatal(err)
			}
			// Without refresh nothing the modem reports may change until
			// the UICC is reset: a switch "seen" here would be a lie.
			wait(30 * time.Second)
			s := r.sim.Snapshot()
			if s.ICCID != before.ICCID.Reveal() || s.ModemIMSI != before.IMSI.Reveal() {
				t.Errorf("identity changed without a refresh: snapshot %s/%s", s.ICCID, s.ModemIMSI)
			}
			if id := get(r.drv.SIMIdentity(ctx)).must(t, "SIMIdentity"); id != before {
				t.Errorf("SIMIdentity changed without a refresh: %+v", id)
			}
			if err := r.drv.SetFunctionality(ctx, 0); err != nil {
				t.Fatal(err)
			}
			if err := r.drv.SetFunctionality(ctx, 1); err != nil {
				t.Fatal(err)
			}
			res := get(r.drv.AwaitSIMRefresh(ctx, before)).must(t, "AwaitSIMRefresh")
			checkSwitched(t, r, res, before, true, true)
		})
	})
	t.Run("no-refresh-primitive", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newRig(t, loadScenario(t, "euicc.yaml"))
			ctx, cancel := r.cctx(5 * time.Minute)
			defer cancel()
			before := get(r.drv.SIMIdentity(ctx)).must(t, "SIMIdentity")
			res := get(r.drv.SwitchEUICCProfile(ctx, uk, false)).must(t, "SwitchEUICCProfile")
			if !r.sent("+CFUN=0") {
				t.Errorf("no CFUN cycle on the wire")
			}
			checkSwitched(t, r, res, before, true, true)
		})
	})
}

func TestSwitchSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, loadScenario(t, "dual-slot.yaml"))
		ctx, cancel := r.cctx(5 * time.Minute)
		defer cancel()
		before := get(r.drv.SIMIdentity(ctx)).must(t, "SIMIdentity")
		res := get(r.drv.SwitchSlot(ctx, 2)).must(t, "SwitchSlot")
		if res.After.ICCID.Reveal() != "8901260886258128535" || res.After.IMSI.Reveal() != "310260987654321" {
			t.Errorf("after = %s/%s", res.After.ICCID.Reveal(), res.After.IMSI.Reveal())
		}
		if got := get(r.drv.SIMSlot(ctx)).must(t, "SIMSlot"); got != 2 || r.sim.Snapshot().Slot != 2 {
			t.Errorf("SIMSlot = %d, snapshot %d", got, r.sim.Snapshot().Slot)
		}
		checkSwitched(t, r, res, before, true, true)
		checkRefreshEvents(t, r)
		back := get(r.drv.SwitchSlot(ctx, 1)).must(t, "SwitchSlot back")
		checkSwitched(t, r, back, res.After, true, true)
	})
}

// TestSwitchAutonomous: the applet rotates by itself; the driver sees it
// only through its events, and AwaitSIMRefresh reports what changed.
func TestSwitchAutonomous(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, loadScenario(t, "autonomous.yaml"))
		ctx, cancel := r.cctx(10 * time.Minute)
		defer cancel()
		before := get(r.drv.SIMIdentity(ctx)).must(t, "SIMIdentity")
		// The scenario rejects IMSI 0 at 30 s; rotation follows 2 min later.
		var sawSIM bool
		evCtx, evCancel := context.WithTimeout(ctx, 4*time.Minute)
		defer evCancel()
	loop:
		for {
			select {
			case e := <-r.drv.Events():
				if e.Kind == modem.EventSIM && e.SIM != nil && *e.SIM == modem.SIMNotReady {
					sawSIM = true
					break loop
				}
			case <-evCtx.Done():
				break loop
			}
		}
		if !sawSIM {
			t.Fatalf("no +CPIN: NOT READY event within 4 min; snapshot %+v", r.sim.Snapshot())
		}
		res := get(r.drv.AwaitSIMRefresh(ctx, before)).must(t, "AwaitSIMRefresh")
		if res.After.IMSI.Reveal() != "234150999999999" {
			t.Errorf("rotated to %s, want the next IMSI 234150999999999", res.After.IMSI.Reveal())
		}
		checkSwitched(t, r, res, before, true, false)
	})
}
