package conformance

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/simulator"
)

// TestURCOrderUnderLoad: a burst of registration URCs, some sent between
// replies and some spliced into a reply, while the driver runs commands
// (+CEREG? among them). Every URC arrives on Events() once and in order;
// no solicited +CEREG: reply appears as an event; no URC leaks into a
// solicited answer.
func TestURCOrderUnderLoad(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 60
	}
	for _, dname := range []string{"quectel-eg25", "simcom-sim7600", "generic"} {
		t.Run(dname, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { checkURCOrder(t, dname, n) })
		})
	}
}

func checkURCOrder(t *testing.T, dname string, n int) {
	r := newRig(t, world(t, dname, cells[0], ""))
	ctx, cancel := r.cctx(30 * time.Minute)
	defer cancel()
	s := r.sim.Snapshot()

	// The URCs carry their sequence number in the TAC (from 0x1000, so
	// none equals the real one) and alternate the domain.
	urc := func(i int) string {
		dom := []string{"+CEREG", "+CGREG", "+CREG"}[i%3]
		return fmt.Sprintf(`%s: 1,"%04X","%07X",7`, dom, 0x1000+i, s.CI)
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		// Load: solicited registration reads, and other commands, back to back.
		for {
			select {
			case <-stop:
				return
			default:
			}
			g, err := r.drv.Registration(ctx, modem.DomainEPS)
			if err != nil {
				t.Errorf("Registration under load: %v", err)
				return
			}
			if g.Area == nil || uint64(*g.Area) != s.TAC {
				t.Errorf("solicited +CEREG? answered with area %v, want %#x: a URC was taken for the reply", ptr(g.Area), s.TAC)
			}
			if _, err := r.drv.IMSI(ctx); err != nil {
				t.Errorf("IMSI under load: %v", err)
				return
			}
		}
	})
	for i := 0; i < n; i++ {
		if i%4 == 3 {
			r.sim.InjectURCInResponse(urc(i)) // between a reply's info lines and its OK
		} else {
			r.sim.InjectURC(urc(i))
		}
		wait(time.Duration(3+i%11) * time.Millisecond) // lands at every point of a 20 ms command
	}
	wait(time.Second) // the last spliced URC needs a reply to ride on
	close(stop)
	wg.Wait()

	// The order to hold is the wire's: a spliced URC rides on the next
	// reply, so it can follow URCs injected after it.
	var out strings.Builder
	for _, e := range r.sim.Log() {
		if e.Dir == simulator.Out {
			out.Write(e.Data)
		}
	}
	var order []string
	burst := map[string]bool{}
	for i := 0; i < n; i++ {
		burst[urc(i)] = true
	}
	for _, l := range strings.Split(out.String(), "\r\n") {
		if burst[l] {
			order = append(order, l)
		}
	}
	if len(order) != n {
		t.Fatalf("%d of %d URCs on the wire", len(order), n)
	}
	next, lastSeq := 0, uint64(0)
	deadline := time.After(time.Minute)
	for next < n {
		select {
		case e := <-r.drv.Events():
			if e.Seq != lastSeq+1 || e.Dropped != 0 {
				t.Errorf("event seq %d after %d (dropped %d)", e.Seq, lastSeq, e.Dropped)
			}
			lastSeq = e.Seq
			if modem.IsRegistrationRead(e.Line) {
				t.Errorf("solicited reply delivered as an event: %q", e.Line)
				continue
			}
			if e.Kind != modem.EventRegistration {
				continue // +CGEV and the like are not part of the burst
			}
			if e.Line != order[next] {
				t.Fatalf("event %d = %q, want %q (wire order)", next, e.Line, order[next])
			}
			var tac uint32
			fmt.Sscanf(e.Line[strings.Index(e.Line, `"`)+1:], "%X", &tac)
			if e.Registration == nil || e.Registration.Area == nil || *e.Registration.Area != tac {
				t.Errorf("event %d parsed as %+v", next, e.Registration)
			}
			next++
		case <-deadline:
			t.Fatalf("only %d of %d URCs arrived", next, n)
		}
	}
	// Nothing more: no duplicates, no solicited replies after the burst.
	select {
	case e := <-r.drv.Events():
		if e.Kind == modem.EventRegistration {
			t.Errorf("extra registration event %q", e.Line)
		}
	default:
	}
}
