package switcher_test

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDebugDump(t *testing.T) {
	r := newRig(t, loadCfg(t, "applet.yaml"), "home")
	r.run(time.Second, 4*time.Second)
	b, _ := json.MarshalIndent(r.s.Status(), "", " ")
	t.Log(string(b))
}
