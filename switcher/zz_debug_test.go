package switcher_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/imsid/imsid/switcher/threat"
)

func TestZZDebug(t *testing.T) {
	b, err := os.ReadFile(os.Getenv("DSTW"))
	if err != nil {
		t.Skip()
	}
	var w dstWorld
	json.Unmarshal(b, &w)
	dstDebug = func(r threat.Result) {
		for _, f := range r.Findings {
			t.Logf("%s %s %s %s %s q=%v", f.At.Format("15:04:05"), f.Rule, f.Severity, f.Scope.Key(), f.Message, f.Response.Quarantine)
		}
	}
	defer func() { dstDebug = nil }()
	vs, ds := runDST(t, w)
	t.Logf("%v\n%s", vs, dump(ds))
}
