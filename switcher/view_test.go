package switcher_test

import (
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/switchertest"
)

// Every tick publishes one view and hands it to WithOnView: the status and
// the modem answers of the same tick, never changed afterwards (issue 15,
// item 4).
func TestViewPerTick(t *testing.T) {
	cfg := loadCfg(t, "applet.yaml")
	var got []*switcher.View
	r := newRig(t, cfg, "home", switcher.WithOnView(func(v *switcher.View) { got = append(got, v) }))
	if v := r.s.View(); v == nil || v.Modem.Responding || !v.Modem.Read.IsZero() {
		t.Fatalf("before the first tick: %+v", v)
	}
	r.up()
	if len(got) == 0 || got[len(got)-1] != r.s.View() {
		t.Fatalf("the callback did not carry the published view (%d calls)", len(got))
	}
	v := r.s.View()
	if v.Active != "home" || !v.Modem.Responding || v.Modem.SIM != modem.SIMReady || v.Modem.IMSI == "" ||
		v.Modem.IMSI.String() != v.IMSI || len(v.Modem.Registrations) == 0 || v.Modem.Signal == nil {
		t.Fatalf("view after connecting: %+v", v)
	}
	n := len(got)
	r.tick(time.Second)
	if len(got) != n+1 {
		t.Fatalf("%d views for one tick", len(got)-n)
	}

	// A failover: the view that names the new profile carries its IMSI,
	// and the earlier view still says what it said.
	home := v.Modem.IMSI
	r.m.SetNet("home", func(n *switchertest.Net) { n.Reg = modem.RegSearching })
	for range 60 {
		if st := r.tick(5 * time.Second); st.Active == "roam" && st.State == switcher.StateConnected {
			break
		}
	}
	nv := r.s.View()
	if nv.Active != "roam" || nv.State != switcher.StateConnected || nv.Modem.IMSI == home || nv.Modem.IMSI == "" {
		t.Fatalf("after the failover: active %q, IMSI %q (home's %q)", nv.Active, nv.Modem.IMSI, home)
	}
	if v.Active != "home" || v.Modem.IMSI != home {
		t.Fatalf("an earlier view changed: %+v", v)
	}

	// A hung modem: the view says so at the first poll that times out.
	r.m.SetHung(true)
	r.tick(5 * time.Second)
	if hv := r.s.View(); hv.Modem.Responding {
		t.Fatalf("hung modem still responding: %+v", hv.Modem)
	}
}
