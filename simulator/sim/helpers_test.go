package sim

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// Test identities: the worked example ICCID of the reference (§5.2) and
// IMSIs from its pySim vectors.
const (
	iccidA = "89000123456789012341"
	iccidB = "8988211000000000001F"
	eidA   = "89049032123451234512345678901235"
)

func plainConfig() CardConfig {
	return CardConfig{
		ICCID: iccidA,
		IMSIs: []IMSIConfig{
			{IMSI: "310260123456789", SPN: "Home", FPLMN: []string{"310410", "26201"}},
			{IMSI: "26201123456789", SPN: "Roam DE"},
			{IMSI: "234150999999999", SPN: "Roam UK", MNCLength: 2},
		},
		Applet: AppletConfig{Rotation: RotationConfig{Enabled: true, RotateAfter: 2 * time.Minute}},
	}
}

func euiccConfig() CardConfig {
	return CardConfig{
		ICCID: "89049032000000000001",
		EID:   eidA,
		Profiles: []ProfileConfig{
			{ICCID: iccidA, Name: "Travel", Provider: "Op A", Nickname: "work", IMSIs: []IMSIConfig{{IMSI: "310260123456789"}}},
			{ICCID: iccidB, Name: "Local", Provider: "Op B", IMSIs: []IMSIConfig{{IMSI: "26201123456789"}}},
		},
	}
}

func mustCard(t testing.TB, cfg CardConfig) *Card {
	t.Helper()
	c, err := NewCard(cfg)
	if err != nil {
		t.Fatalf("NewCard: %v", err)
	}
	return c
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func hexU(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// tx sends a hex APDU on the basic channel and returns the hex answer.
func tx(t testing.TB, c *Card, apdu string) string {
	t.Helper()
	return hexU(c.Transmit(unhex(t, apdu)))
}

// txc sends a hex APDU on logical channel ch.
func txc(t testing.TB, c *Card, ch int, apdu string) string {
	t.Helper()
	r, err := c.TransmitChannel(ch, unhex(t, apdu))
	if err != nil {
		t.Fatalf("TransmitChannel(%d, %s): %v", ch, apdu, err)
	}
	return hexU(r)
}
