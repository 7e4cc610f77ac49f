package conformance

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/simulator"
)

// TestRegistrationShapes: every domain at every <n> (0..3) as the
// simulator formats the read, through the driver's parser, against
// Snapshot: stat always, LAC/TAC, CI and AcT from n=2, the reject cause
// at n=3 when denied.
func TestRegistrationShapes(t *testing.T) {
	for _, d := range simDialects {
		for _, c := range cells {
			if testing.Short() && c.name != "lte-mid" && c.name != "denied" {
				continue
			}
			t.Run(d.name+"/"+c.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					r, sm := newRaw(t, world(t, d.name, c, ""))
					time.Sleep(time.Second)
					s := sm.Snapshot()
					for _, dom := range []modem.Domain{modem.DomainCS, modem.DomainPS, modem.DomainEPS} {
						carries := (dom == modem.DomainEPS) == (s.RAT == simulator.RATLTE)
						for n := 0; n <= 3; n++ {
							r.cmd(fmt.Sprintf("AT%s=%d", dom.Command(), n))
							line := first(t, r.cmd("AT"+dom.Command()+"?"), dom.Command()+":")
							g, err := modem.ParseRegistrationRead(line)
							if err != nil {
								t.Errorf("%q: %v", line, err)
								continue
							}
							checkReg(t, line, g, s, n, carries)
						}
					}
				})
			})
		}
	}
}

func checkReg(t *testing.T, line string, g modem.Registration, s simulator.State, n int, carries bool) {
	t.Helper()
	if !carries {
		// The other domain: 27.007 leaves it to the modem (CEREG on GSM is
		// 0, CREG on LTE follows the combined attach); only the shape is held.
		return
	}
	if int(g.Status) != s.RegStat {
		t.Errorf("%q: stat %d, snapshot %d", line, g.Status, s.RegStat)
	}
	located := s.RegStat == 1 || s.RegStat == 5 || s.RegStat == 3
	if n >= 2 && located {
		if g.Area == nil || uint64(*g.Area) != s.TAC || g.CellID == nil || *g.CellID != s.CI || g.AcT == nil || *g.AcT != wantAcT(s.RAT) {
			t.Errorf("%q: area %v ci %v act %v, snapshot %#x %#x %d", line, ptr(g.Area), ptr(g.CellID), ptr(g.AcT), s.TAC, s.CI, wantAcT(s.RAT))
		}
	}
	if n < 2 && (g.Area != nil || g.CellID != nil) {
		t.Errorf("%q: location at n=%d", line, n)
	}
	if n == 3 && s.RegStat == 3 {
		if g.RejectCause == nil || *g.RejectCause != s.RejectCause {
			t.Errorf("%q: cause %v, snapshot %d", line, ptr(g.RejectCause), s.RejectCause)
		}
	} else if g.RejectCause != nil {
		t.Errorf("%q: reject cause at n=%d stat %d", line, n, g.Status)
	}
}

// TestSignalSweep moves the serving cell's radio across its range with
// timeline signal events and reads it back through Signal() each step.
func TestSignalSweep(t *testing.T) {
	steps := 30
	if testing.Short() {
		steps = 8
	}
	for _, dname := range []string{"quectel-eg25", "simcom-sim7600", "generic"} {
		t.Run(dname, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, world(t, dname, cells[0], ""))
				ctx, cancel := r.cctx(time.Hour)
				defer cancel()
				for i := 0; i <= steps; i++ {
					f := float64(i) / float64(steps)
					rsrp := -124 + f*(-44+124) // coverage edge to CESQ's top
					rsrq := -19.5 + f*16       // half-dB steps land on CESQ's grid
					sinr := -10 + f*40         // QCSQ raw 50..250
					rssi := -125 + f*(-40+125) // both CSQ clamps
					rsrp, rsrq = float64(int(rsrp)), float64(int(rsrq*2))/2
					ev := simulator.Event{Kind: "signal", Network: "26201",
						Signal: &simulator.SignalConfig{RSRP: &rsrp, RSRQ: &rsrq, SINR: &sinr, RSSI: &rssi}}
					if err := r.sim.RunEvent(ev); err != nil {
						t.Fatal(err)
					}
					x := r.sim.Snapshot().Signal
					if x.RSRP != rsrp || x.RSSI != rssi {
						t.Fatalf("step %d: snapshot %+v, event set rsrp %v rssi %v", i, x, rsrp, rssi)
					}
					sig := get(r.drv.Signal(ctx)).must(t, "Signal")
					near(t, fmt.Sprintf("step %d RSRP", i), sig.RSRP, clampf(x.RSRP, -141, -44), 0.5)
					near(t, fmt.Sprintf("step %d RSRQ", i), sig.RSRQ, clampf(x.RSRQ, -20, -3), 0.25)
					if dname == "quectel-eg25" {
						near(t, fmt.Sprintf("step %d SINR", i), sig.SINR, clampf(x.SINR, -20, 30), 0.1)
					}
				}
			})
		})
	}
}
