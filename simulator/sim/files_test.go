package sim

import "testing"

func TestCRSM(t *testing.T) {
	c := mustCard(t, plainConfig())
	for _, tc := range []struct {
		name       string
		cmd        int
		fid        uint16
		p1, p2, p3 int
		data       string
		want       string
		sw         SW
	}{
		// AT+CRSM=176,28423,0,0,9 -> +CRSM: 144,0,"083901621032547698"
		{"imsi", 176, 0x6F07, 0, 0, 9, "", "083901621032547698", SWOK},
		{"imsi whole", 176, 0x6F07, 0, 0, 0, "", "083901621032547698", SWOK},
		{"imsi offset", 176, 0x6F07, 0, 1, 2, "", "3901", SWOK},
		{"imsi past end", 176, 0x6F07, 0, 5, 9, "", "32547698", SWEndOfFile},
		{"imsi bad offset", 176, 0x6F07, 0, 9, 1, "", "", SWWrongOffset},
		{"imsi sfi-like p1", 176, 0x6F07, 0x80, 0, 1, "", "", SWWrongOffset},
		// AT+CRSM=176,12258,0,0,10
		{"iccid", 176, 0x2FE2, 0, 0, 10, "", "98001032547698103214", SWOK},
		{"spn", 176, 0x6F46, 0, 0, 17, "", "00486F6D65FFFFFFFFFFFFFFFFFFFFFFFF", SWOK},
		{"fplmn", 176, 0x6F7B, 0, 0, 12, "", "130014" + "62F210" + "FFFFFFFFFFFF", SWOK},
		{"ad", 176, 0x6FAD, 0, 0, 4, "", "00000003", SWOK},
		{"unknown", 176, 0x6F40, 0, 0, 4, "", "", SWFileNotFound},
		{"dir record", 178, 0x2F00, 1, 4, 32, "", "61184F10A0000000871002FF86FFFF89FFFFFFFF50045553494DFFFFFFFFFFFF", SWOK},
		{"dir record 2", 178, 0x2F00, 2, 4, 32, "", "", SWRecordNotFound},
		{"dir wrong len", 178, 0x2F00, 1, 4, 10, "", "", 0x6C20},
		{"dir mode", 178, 0x2F00, 1, 2, 32, "", "", SWWrongP1P2},
		{"record on transparent", 178, 0x6F07, 1, 4, 9, "", "", SWIncompatibleFile},
		{"binary on linear", 176, 0x2F00, 0, 0, 9, "", "", SWIncompatibleFile},
		{"get response imsi", 192, 0x6F07, 0, 0, 0, "", "621282024121" + "83026F07" + "8A0105" + "80020009" + "880138", SWOK},
		{"get response truncated", 192, 0x6F07, 0, 0, 4, "", "62128202", SWOK},
		{"status", 242, 0, 0, 0, 0, "", "621D82027821" + "83027FFF" + "8410A0000000871002FF86FFFF89FFFFFFFF" + "8A0105", SWOK},
		{"update imsi refused", 214, 0x6F07, 0, 0, 1, "07", "", SWSecurityNotSatisfied},
		{"update fplmn", 214, 0x6F7B, 0, 6, 3, "32F451", "", SWOK},
		{"update fplmn length", 214, 0x6F7B, 0, 6, 4, "32F451", "", SWWrongLength},
		{"update fplmn overflow", 214, 0x6F7B, 0, 11, 3, "32F451", "", SWWrongLength},
		{"update record", 220, 0x2F00, 1, 4, 1, "00", "", SWSecurityNotSatisfied},
		{"unknown command", 200, 0x6F07, 0, 0, 0, "", "", SWINSNotSupported},
		{"bad p3", 176, 0x6F07, 0, 0, 300, "", "", SWWrongLength},
		{"bad p1", 176, 0x6F07, -1, 0, 9, "", "", SWWrongP1P2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, sw := c.CRSM(tc.cmd, tc.fid, tc.p1, tc.p2, tc.p3, unhex(t, tc.data))
			if sw != tc.sw || hexU(got) != tc.want {
				t.Errorf("CRSM = %s %s, want %s %s", hexU(got), sw, tc.want, tc.sw)
			}
		})
	}
	if got := c.FPLMN(); len(got) != 3 || got[2] != "23415" {
		t.Errorf("FPLMN after update = %v", got)
	}
}

// EF_IMSI, EF_SPN, EF_FPLMN and EF_AD follow the active IMSI.
func TestFilesFollowActiveIMSI(t *testing.T) {
	c := mustCard(t, plainConfig())
	want := []struct{ imsi, spn, ad, fplmn string }{
		{"083901621032547698", "00486F6D65", "00000003", "13001462F210"},
		{"0821261021436587F9", "00526F616D204445", "00000002", "FFFFFF"},
		{"082943519099999999", "00526F616D20554B", "00000002", "FFFFFF"},
	}
	for i, w := range want {
		if err := c.SetActive(i, true); err != nil {
			t.Fatal(err)
		}
		imsi, _ := c.ReadBinary(FidIMSI, 0, 9)
		spn, _ := c.ReadBinary(FidSPN, 0, len(w.spn)/2)
		ad, _ := c.ReadBinary(FidAD, 0, 4)
		fp, _ := c.ReadBinary(FidFPLMN, 0, len(w.fplmn)/2)
		if hexU(imsi) != w.imsi || hexU(spn) != w.spn || hexU(ad) != w.ad || hexU(fp) != w.fplmn {
			t.Errorf("index %d: IMSI %s SPN %s AD %s FPLMN %s", i, hexU(imsi), hexU(spn), hexU(ad), hexU(fp))
		}
		if c.ActiveIndex() != i || c.IMSI() != plainConfig().IMSIs[i].IMSI {
			t.Errorf("index %d: ActiveIndex %d", i, c.ActiveIndex())
		}
	}
	if err := c.SetActive(3, true); err != ErrIndex {
		t.Errorf("SetActive(3) = %v, want ErrIndex", err)
	}
}

func TestNoProfileFiles(t *testing.T) {
	cfg := euiccConfig()
	cfg.EnabledProfile = -1
	c := mustCard(t, cfg)
	if _, sw := c.CRSM(176, FidIMSI, 0, 0, 9, nil); sw != SWFileNotFound {
		t.Errorf("EF_IMSI with no profile: %s", sw)
	}
	if got, sw := c.CRSM(176, FidICCID, 0, 0, 10, nil); sw != SWOK || hexU(got) != "98400923000000000010" {
		t.Errorf("EF_ICCID with no profile: %s %s", hexU(got), sw)
	}
	if got, sw := c.CRSM(242, 0, 0, 0, 0, nil); sw != SWOK || hexU(got) != "620B8202782183023F008A0105" {
		t.Errorf("STATUS with no profile: %s %s", hexU(got), sw)
	}
	cfg.ICCID = ""
	c = mustCard(t, cfg)
	if _, sw := c.CRSM(176, FidICCID, 0, 0, 10, nil); sw != SWFileNotFound {
		t.Errorf("EF_ICCID with nothing to show: %s", sw)
	}
}
