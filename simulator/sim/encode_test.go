package sim

import (
	"testing"
)

func TestEncIMSI(t *testing.T) {
	// pySim ts_51_011 EF_IMSI vectors and the reference's worked examples.
	for _, tc := range []struct{ imsi, want string }{
		{"228062800000208", "082982608200002080"},
		{"262011106487504", "082926101160845740"},
		{"310260123456789", "083901621032547698"},
		{"234150999999999", "082943519099999999"},
		{"26201123456789", "0821261021436587F9"},
		{"001010", "04011010F0FFFFFFFF"},
	} {
		if got := hexU(encIMSI(tc.imsi)); got != tc.want {
			t.Errorf("encIMSI(%s) = %s, want %s", tc.imsi, got, tc.want)
		}
	}
}

func TestEncICCID(t *testing.T) {
	for _, tc := range []struct{ iccid, want string }{
		{"89000123456789012341", "98001032547698103214"},
		{"8949000000000000123", "989400000000000021F3"},
		{"8988211000000000001F", "988812010000000000F1"},
		{"898821100000000000AB", "988812010000000000BA"},
	} {
		got := hexU(encTBCD(tc.iccid, 10))
		if got != tc.want {
			t.Errorf("encTBCD(%s) = %s, want %s", tc.iccid, got, tc.want)
		}
	}
	if got := decTBCD(unhex(t, "989400000000000021F3")); got != "8949000000000000123" {
		t.Errorf("decTBCD = %s", got)
	}
}

func TestEncPLMNAndFPLMN(t *testing.T) {
	for _, tc := range []struct{ plmn, want string }{
		{"26201", "62F210"},
		{"310410", "130014"},
		{"23415", "32F451"},
	} {
		if got := hexU(encPLMN(tc.plmn)); got != tc.want {
			t.Errorf("encPLMN(%s) = %s, want %s", tc.plmn, got, tc.want)
		}
	}
	f := encFPLMN([]string{"26201"})
	if got := hexU(f); got != "62F210FFFFFFFFFFFFFFFFFF" {
		t.Errorf("encFPLMN = %s", got)
	}
	list := []string{"26201", "310410", "23415", "20404", "00101"}
	if got := decFPLMN(encFPLMN(list)); len(got) != 5 || got[1] != "310410" || got[4] != "00101" {
		t.Errorf("decFPLMN round trip = %v", got)
	}
}

func TestEncSPNAndAD(t *testing.T) {
	if got := hexU(encSPN("Op_$@ 1")); got != "004F701102002031FFFFFFFFFFFFFFFFFF" {
		t.Errorf("encSPN = %s", got)
	}
	if got := hexU(encAD(3)); got != "00000003" {
		t.Errorf("encAD = %s", got)
	}
	if got := hexU(encEID(eidA)); got != eidA {
		t.Errorf("encEID = %s", got)
	}
}

func TestDefaultMNCLength(t *testing.T) {
	for imsi, want := range map[string]int{"310260123456789": 3, "302720123456789": 3, "26201123456789": 2, "234150999999999": 2} {
		if got := defaultMNCLength(imsi); got != want {
			t.Errorf("defaultMNCLength(%s) = %d, want %d", imsi[:5], got, want)
		}
	}
}
