package switcher_test

import (
	"testing"
	"time"

	"github.com/imsid/imsid/switcher"
)

func TestStartConnects(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "home")
	var states []switcher.State
	for range 4 {
		states = append(states, r.tick(time.Second).State)
	}
	st := r.s.Status()
	if st.State != switcher.StateConnected || st.Active != "home" {
		t.Fatalf("got %s on %q (states %v)", st.State, st.Active, states)
	}
	if st.IMSI == "" || st.IMSI == "310260000000000" {
		t.Errorf("IMSI not masked in status: %q", st.IMSI)
	}
	if len(st.Scores) != 3 {
		t.Fatalf("scores: %+v", st.Scores)
	}
}
