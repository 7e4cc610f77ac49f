package switcher_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/imsid/imsid/switcher"
)

// FuzzRestore feeds arbitrary persisted state (a corrupted or hand-edited
// state file) to New: it must never panic or wedge the loop.
func FuzzRestore(f *testing.F) {
	f.Add(`{"active":"home","pending":{"seq":3,"from":"home","to":"roam"}}`)
	f.Add(`{"active":"nope","pin":{"profile":"gone"},"quarantines":[{"key":"profile:roam","until":"2999-01-01T00:00:00Z","count":-5}]}`)
	f.Add(`{"switches":["2026-11-02T10:00:00Z","0001-01-01T00:00:00Z"],"last_switch":"2999-01-01T00:00:00Z","signal":{"home":{"rsrp":-1e308,"have_rsrp":true}}}`)
	cfg := loadCfg(f, "applet.yaml")
	f.Fuzz(func(t *testing.T, data string) {
		var snap switcher.Snapshot
		if json.Unmarshal([]byte(data), &snap) != nil {
			return
		}
		r := newRig(t, cfg, "home", switcher.WithRestore(snap))
		r.run(30*time.Second, 5*time.Minute)
		_ = r.s.Force("roam", "fuzz")
		_ = r.s.Pin("last", time.Minute)
		r.run(30*time.Second, 5*time.Minute)
		if st := r.s.Status(); st.State == "" {
			t.Fatal("no state")
		}
	})
}
