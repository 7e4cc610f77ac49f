package sim

import (
	"errors"
	"testing"
)

func TestEnableWithoutRefreshWaitsForReset(t *testing.T) {
	c := mustCard(t, euiccConfig())
	ch, err := c.OpenChannel(unhex(t, ISDRAID))
	if err != nil {
		t.Fatal(err)
	}
	// EnableProfile B, refreshFlag FALSE.
	if got := txc(t, c, ch, "80E2910014BF3111A00C5A0A988812010000000000F1810100"); got != "BF31038001009000" {
		t.Fatalf("enable = %s", got)
	}
	if _, ok := c.TakeRefresh(); ok {
		t.Error("refresh queued without refreshFlag")
	}
	if c.ICCID() != iccidA || c.IMSI() != "310260123456789" {
		t.Errorf("identity changed before reset: %s", c.ICCID())
	}
	if ps := c.Profiles(); ps[0].Enabled || !ps[1].Enabled {
		t.Errorf("ES10c state did not change: %+v", ps)
	}
	c.Reset()
	if c.ICCID() != iccidB || c.IMSI() != "26201123456789" {
		t.Errorf("identity after reset: %s", c.ICCID())
	}
	if _, err := c.TransmitChannel(ch, unhex(t, "80E2910003BF2D00")); !errors.Is(err, ErrInvalidChannel) {
		t.Errorf("channel survived reset: %v", err)
	}
	if got := c.OpenChannels(); len(got) != 0 {
		t.Errorf("OpenChannels after reset = %v", got)
	}
}

func TestPolicyAndGoAPI(t *testing.T) {
	cfg := euiccConfig()
	cfg.Profiles[0].DisallowDisable = true
	c := mustCard(t, cfg)
	ch, _ := c.OpenChannel(unhex(t, ISDRAID))
	if got := txc(t, c, ch, "80E2910014BF3111A00C5A0A988812010000000000F18101FF"); got != "BF31038001039000" {
		t.Errorf("enable over a protected profile = %s", got)
	}
	if got := txc(t, c, ch, "80E2910014BF3211A00C5A0A980010325476981032148101FF"); got != "BF32038001039000" {
		t.Errorf("disable a protected profile = %s", got)
	}
	if code, err := c.EnableProfile(iccidB, true); code != ResultDisallowedByPolicy || err != nil {
		t.Errorf("EnableProfile = %d %v", code, err)
	}
	c = mustCard(t, euiccConfig())
	if code, err := c.EnableProfile("89000000000000000000", true); code != ResultNotFound || !errors.Is(err, ErrNotFound) {
		t.Errorf("EnableProfile unknown = %d %v", code, err)
	}
	c.SetCATBusy(true)
	if code, _ := c.EnableProfile(iccidB, true); code != ResultCATBusy {
		t.Errorf("EnableProfile busy = %d", code)
	}
	c.SetCATBusy(false)
	if code, err := c.EnableProfile(iccidB, true); code != ResultOK || err != nil || c.ICCID() != iccidB {
		t.Errorf("EnableProfile = %d %v %s", code, err, c.ICCID())
	}
	if r, ok := c.TakeRefresh(); !ok || r.Qualifier != RefreshUICCReset || r.Reason != "eUICC EnableProfile" {
		t.Errorf("refresh = %+v %v", r, ok)
	}
	plain := mustCard(t, plainConfig())
	if _, err := plain.EnableProfile(iccidA, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("EnableProfile on a plain SIM = %v", err)
	}
	if _, err := plain.OpenChannel(unhex(t, ISDRAID)); !errors.Is(err, ErrAIDNotFound) {
		t.Errorf("ISD-R on a plain SIM: %v", err)
	}
	if plain.EID() != "" || plain.IsEUICC() {
		t.Error("plain SIM claims an EID")
	}
}

func TestNAAInitKeepsChannels(t *testing.T) {
	c := mustCard(t, plainConfig())
	ch, err := c.OpenChannel(unhex(t, DefaultAppletAID))
	if err != nil {
		t.Fatal(err)
	}
	if got := txc(t, c, ch, "80140200"); got != "9000" {
		t.Fatalf("SET ACTIVE next reset = %s", got)
	}
	c.NAAInit()
	if c.ActiveIndex() != 2 || c.IMSI() != "234150999999999" {
		t.Errorf("NAAInit did not apply the pending index: %d", c.ActiveIndex())
	}
	if got := txc(t, c, ch, "8012000002"); got != "02FF9000" {
		t.Errorf("READ ACTIVE after NAAInit = %s", got)
	}
	// Setting the active index back to itself cancels a pending one.
	_ = c.SetActive(0, false)
	_ = c.SetActive(2, false)
	if got := txc(t, c, ch, "8012000002"); got != "02FF9000" {
		t.Errorf("READ ACTIVE = %s", got)
	}
}

func TestRefreshMerging(t *testing.T) {
	cfg := euiccConfig()
	cfg.Profiles[0].IMSIs = append(cfg.Profiles[0].IMSIs, IMSIConfig{IMSI: "001010000000001"})
	cfg.Applet.Refresh = "naa_init"
	c := mustCard(t, cfg)
	_ = c.SetActive(1, true)
	if r, ok := c.TakeRefresh(); !ok || r.Qualifier != RefreshNAAInit {
		t.Errorf("applet refresh = %+v", r)
	}
	_ = c.SetActive(0, true)
	_, _ = c.EnableProfile(iccidB, true)
	_ = c.SetActive(0, true) // profile B has one IMSI: no-op
	if r, ok := c.TakeRefresh(); !ok || r.Qualifier != RefreshUICCReset {
		t.Errorf("merged refresh = %+v", r)
	}
	if _, ok := c.TakeRefresh(); ok {
		t.Error("TakeRefresh did not clear")
	}
}

func TestCardsAreIndependent(t *testing.T) {
	a, b := mustCard(t, plainConfig()), mustCard(t, plainConfig())
	_ = a.SetActive(1, true)
	if b.ActiveIndex() != 0 {
		t.Error("cards share state")
	}
	cfg := plainConfig()
	c := mustCard(t, cfg)
	cfg.IMSIs[0].FPLMN[0] = "00101"
	if c.FPLMN()[0] == "00101" {
		t.Error("card aliases its config")
	}
}

func TestAppletDisabled(t *testing.T) {
	cfg := plainConfig()
	cfg.Applet.Disabled = true
	c := mustCard(t, cfg)
	if _, err := c.OpenChannel(unhex(t, DefaultAppletAID)); !errors.Is(err, ErrAIDNotFound) {
		t.Errorf("disabled applet selectable: %v", err)
	}
	if _, ok := c.NextDeadline(); ok {
		t.Error("rotation without an applet")
	}
	if _, err := c.OpenChannel([]byte{0xA0}); !errors.Is(err, ErrAIDNotFound) {
		t.Errorf("1-byte AID: %v", err)
	}
}

func TestManageChannel(t *testing.T) {
	cfg := plainConfig()
	cfg.MaxChannels = 5
	c := mustCard(t, cfg)
	for want := 1; want <= 5; want++ {
		if got := tx(t, c, "0070000001"); got != hexU([]byte{byte(want), 0x90, 0}) {
			t.Fatalf("open %d = %s", want, got)
		}
	}
	if got := tx(t, c, "0070000001"); got != "6A81" {
		t.Errorf("open with none free = %s", got)
	}
	if _, err := c.OpenChannel(unhex(t, USIMAID)); !errors.Is(err, ErrNoChannel) {
		t.Errorf("OpenChannel with none free: %v", err)
	}
	// Channel 4 needs the further-interindustry class: 40 (or C0).
	if got := tx(t, c, "40A4040C0AF04D554C5449494D5349"); got != "9000" {
		t.Errorf("select on channel 4 = %s", got)
	}
	if got := tx(t, c, "C012000002"); got != "00FF9000" {
		t.Errorf("READ ACTIVE on channel 4 = %s", got)
	}
	// A channel opened from channel 4 inherits its selection.
	if got := tx(t, c, "0070800200"); got != "9000" {
		t.Fatalf("close 2 = %s", got)
	}
	if got := tx(t, c, "4070000001"); got != "029000" {
		t.Fatalf("open from 4 = %s", got)
	}
	if got := tx(t, c, "8212000002"); got != "00FF9000" {
		t.Errorf("inherited applet on 2 = %s", got)
	}
	// Open a given channel number; close from the channel itself.
	_ = c.CloseChannel(3)
	if got := tx(t, c, "0070000300"); got != "9000" {
		t.Errorf("open 3 by number = %s", got)
	}
	if got := tx(t, c, "0070000300"); got != "6A86" {
		t.Errorf("open 3 twice = %s", got)
	}
	if got := tx(t, c, "03708000"); got != "9000" {
		t.Errorf("close self = %s", got)
	}
	if err := c.CloseChannel(3); !errors.Is(err, ErrInvalidChannel) {
		t.Errorf("CloseChannel(3) twice: %v", err)
	}
	if err := c.CloseChannel(0); !errors.Is(err, ErrInvalidChannel) {
		t.Errorf("CloseChannel(0): %v", err)
	}
	if got := tx(t, c, "0070800000"); got != "6A86" {
		t.Errorf("close basic = %s", got)
	}
}

// The worked example of at-and-sim-mechanics.md §5.2, byte for byte, with
// CLA 80 (27.007) and 81 (lpac), on +CGLA and on +CSIM.
func TestEnableProfileGolden(t *testing.T) {
	const req = "E2910014BF3111A00C5A0A980010325476981032148101FF"
	for _, cla := range []string{"80", "81"} {
		cfg := euiccConfig()
		cfg.EnabledProfile = 1
		c := mustCard(t, cfg)
		ch, err := c.OpenChannel(unhex(t, ISDRAID))
		if err != nil || ch != 1 {
			t.Fatalf("OpenChannel = %d %v", ch, err)
		}
		if got := txc(t, c, ch, cla+req); got != "BF31038001009000" {
			t.Errorf("CLA %s: +CGLA answer %s", cla, got)
		}
	}
	cfg := euiccConfig()
	cfg.EnabledProfile = 1
	c := mustCard(t, cfg)
	for _, step := range [][2]string{
		{"0070000001", "019000"},
		{"01A4040010A0000005591010FFFFFFFF8900000100", "6F128410A0000005591010FFFFFFFF89000001009000"},
		{"81" + req, "BF31038001009000"},
		{"0070800100", "9000"},
	} {
		if got := tx(t, c, step[0]); got != step[1] {
			t.Errorf("+CSIM %s = %s, want %s", step[0], got, step[1])
		}
	}
}
