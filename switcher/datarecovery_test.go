package switcher_test

import (
	"testing"
	"time"

	"github.com/imsid/imsid/switcher"
)

// A loss of service too short to switch for must not leave the gateway
// registered without data: the next registration brings the PDP context up
// again. (It used to spend its one attempt per network before the loss and
// never try again.)
func TestDataReturnsAfterShortLossOfService(t *testing.T) {
	withWorld(t, `
  - {at: 2m, event: outage, network: "310260", duration: 30s}
  - {at: 2m, event: outage, network: "310410", duration: 30s}
`, func(w *world) {
		w.run(90 * time.Second)
		w.wantOn("home")
		if !w.s.Status().PDPUp {
			w.t.Fatal("no data before the loss")
		}
		w.run(3 * time.Minute)
		st := w.s.Status()
		if _, ok := w.last(switcher.KindSwitch); ok {
			w.t.Fatalf("switched for a 30 s loss:\n%s", dump(w.s.Decisions(0, 0)))
		}
		if !st.PDPUp || st.State != switcher.StateConnected {
			w.t.Fatalf("after the loss: %s, pdp up %v; decisions:\n%s", st.State, st.PDPUp, dump(w.s.Decisions(0, 0)))
		}
		w.wantOn("home")
	})
}
