package conformance

import (
	"testing"
	"testing/synctest"
	"time"
)

func TestSmoke(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, loadScenario(t, "basic.yaml"))
		ctx, cancel := r.cctx(time.Minute)
		defer cancel()
		id := get(r.drv.Identity(ctx)).must(t, "Identity")
		imsi := get(r.drv.IMSI(ctx)).must(t, "IMSI")
		t.Logf("%+v %s %s", id, imsi.Reveal(), r.drv.Dialect())
		t.Logf("%s", r.wire())
	})
}
