package modem

import "testing"

// Each family's data-call command as the reference (§7.1) and the vendors'
// manuals write it; families without one have none.
func TestDataCallCommands(t *testing.T) {
	for _, tc := range []struct {
		d        Dialect
		cid      int
		up, down string
	}{
		{DialectQuectel, 1, "+QNETDEVCTL=1,1,1", "+QNETDEVCTL=0,1,0"},
		{DialectQuectel, 3, "+QNETDEVCTL=1,3,1", "+QNETDEVCTL=0,3,0"},
		{DialectSIMCom, 1, "$QCRMCALL=1,1", "$QCRMCALL=0,1"},
		{DialectSIMCom, 2, "$QCRMCALL=1,1,1,2,2", "$QCRMCALL=0,1,1,2,2"},
		{DialectTelit, 1, "#ECM=1,0", "#ECMD=0"},
		{DialectUBlox, 1, "+UCEDATA=1,1", "+UCEDATA=1,0"},
	} {
		f := vendorOf(tc.d).dataCall
		if f == nil {
			t.Errorf("%s: no data-call command", tc.d)
			continue
		}
		if got := f(tc.cid, true); got != tc.up {
			t.Errorf("%s up cid %d = %q, want %q", tc.d, tc.cid, got, tc.up)
		}
		if got := f(tc.cid, false); got != tc.down {
			t.Errorf("%s down cid %d = %q, want %q", tc.d, tc.cid, got, tc.down)
		}
	}
	for _, d := range []Dialect{DialectGeneric, DialectHuawei, DialectSierra} {
		if vendorOf(d).dataCall != nil {
			t.Errorf("%s: unexpected data-call command", d)
		}
	}
}
