package sim

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

func TestRotation(t *testing.T) {
	c := mustCard(t, plainConfig())
	if _, ok := c.NextDeadline(); ok {
		t.Fatal("timer runs before any observation")
	}
	c.Tick(t0.Add(time.Hour))
	if c.ActiveIndex() != 0 {
		t.Fatal("rotated without an observation")
	}
	c.ObserveRegistration(t0, false)
	c.ObserveRegistration(t0.Add(time.Minute), false) // does not restart the timer
	if d, ok := c.NextDeadline(); !ok || !d.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("deadline = %v %v", d, ok)
	}
	c.Tick(t0.Add(2*time.Minute - time.Nanosecond))
	if c.ActiveIndex() != 0 {
		t.Fatal("rotated early")
	}
	c.Tick(t0.Add(2 * time.Minute))
	if c.ActiveIndex() != 1 || c.IMSI() != "26201123456789" {
		t.Fatalf("no rotation: %d", c.ActiveIndex())
	}
	if r, ok := c.TakeRefresh(); !ok || r.Qualifier != RefreshUICCReset || r.Reason != "rotation" {
		t.Errorf("refresh = %+v %v", r, ok)
	}
	imsi, _ := c.ReadBinary(FidIMSI, 0, 9)
	if hexU(imsi) != "0821261021436587F9" {
		t.Errorf("EF_IMSI after rotation = %s", hexU(imsi))
	}
	// The next IMSI gets a full period, and the list wraps.
	if d, _ := c.NextDeadline(); !d.Equal(t0.Add(4 * time.Minute)) {
		t.Errorf("second deadline = %v", d)
	}
	c.Tick(t0.Add(4 * time.Minute))
	c.Tick(t0.Add(6 * time.Minute))
	if c.ActiveIndex() != 0 {
		t.Errorf("no wrap: %d", c.ActiveIndex())
	}
	// An acceptable registration stops the timer.
	c.ObserveRegistration(t0.Add(7*time.Minute), true)
	if _, ok := c.NextDeadline(); ok {
		t.Error("timer runs while registered")
	}
	c.Tick(t0.Add(time.Hour))
	if c.ActiveIndex() != 0 {
		t.Error("rotated while registered")
	}
}

func TestRotationPausedWhilePoweredOff(t *testing.T) {
	c := mustCard(t, plainConfig())
	c.ObserveRegistration(t0, false)
	c.PowerOff(t0.Add(30 * time.Second))
	c.PowerOff(t0.Add(40 * time.Second)) // idempotent
	if _, ok := c.NextDeadline(); ok {
		t.Error("deadline while powered off")
	}
	c.Tick(t0.Add(10 * time.Minute))
	if c.ActiveIndex() != 0 {
		t.Fatal("rotated while powered off")
	}
	c.PowerOn(t0.Add(10 * time.Minute))
	c.PowerOn(t0.Add(11 * time.Minute)) // idempotent
	// 30 s were used before power-off: 90 s remain.
	if d, ok := c.NextDeadline(); !ok || !d.Equal(t0.Add(10*time.Minute+90*time.Second)) {
		t.Errorf("deadline after power-on = %v %v", d, ok)
	}
	c.Tick(t0.Add(10*time.Minute + 90*time.Second))
	if c.ActiveIndex() != 1 {
		t.Error("no rotation after resuming")
	}
	// Observed while off, the timer starts at power-on.
	c.ObserveRegistration(t0.Add(12*time.Minute), true)
	c.PowerOff(t0.Add(13 * time.Minute))
	c.ObserveRegistration(t0.Add(14*time.Minute), false)
	c.PowerOn(t0.Add(20 * time.Minute))
	if d, _ := c.NextDeadline(); !d.Equal(t0.Add(22 * time.Minute)) {
		t.Errorf("deadline = %v", d)
	}
}

func TestRotationPolicyKnobs(t *testing.T) {
	cfg := plainConfig()
	cfg.Applet.Rotation.Enabled = false
	c := mustCard(t, cfg)
	c.ObserveRegistration(t0, false)
	if _, ok := c.NextDeadline(); ok {
		t.Error("deadline with rotation disabled")
	}
	// SET ROTATION on, 60 s, over the applet.
	ch, _ := c.OpenChannel(unhex(t, DefaultAppletAID))
	if got := txc(t, c, ch, "80180100040000003C"); got != "9000" {
		t.Fatalf("SET ROTATION = %s", got)
	}
	if d, ok := c.NextDeadline(); !ok || !d.Equal(t0.Add(time.Minute)) {
		t.Errorf("deadline = %v %v", d, ok)
	}
	cfg = plainConfig()
	cfg.IMSIs = cfg.IMSIs[:1]
	c = mustCard(t, cfg)
	c.ObserveRegistration(t0, false)
	if _, ok := c.NextDeadline(); ok {
		t.Error("deadline with a single IMSI")
	}
	cfg = plainConfig()
	cfg.Applet.Refresh = "naa_init"
	c = mustCard(t, cfg)
	c.ObserveRegistration(t0, false)
	c.Tick(t0.Add(time.Hour))
	if r, _ := c.TakeRefresh(); r.Qualifier != RefreshNAAInit {
		t.Errorf("qualifier = %02X", r.Qualifier)
	}
}

// Rotation works on the live profile: after an eUICC switch it walks the
// new profile's IMSIs, and it stops with no profile enabled.
func TestRotationFollowsLiveProfile(t *testing.T) {
	cfg := euiccConfig()
	cfg.Profiles[1].IMSIs = append(cfg.Profiles[1].IMSIs, IMSIConfig{IMSI: "001010000000001"})
	cfg.Applet.Rotation = RotationConfig{Enabled: true, RotateAfter: time.Minute}
	c := mustCard(t, cfg)
	c.ObserveRegistration(t0, false)
	if _, ok := c.NextDeadline(); ok {
		t.Error("profile A has one IMSI, yet a deadline")
	}
	if code, _ := c.EnableProfile(iccidB, true); code != ResultOK {
		t.Fatal(code)
	}
	c.TakeRefresh()
	c.Reset()
	c.Tick(t0.Add(time.Minute))
	if c.IMSI() != "001010000000001" {
		t.Errorf("IMSI after rotation on B = %s", c.IMSI())
	}
	if r, ok := c.TakeRefresh(); !ok || r.Reason != "rotation" {
		t.Errorf("refresh = %+v", r)
	}
	ch, _ := c.OpenChannel(unhex(t, ISDRAID))
	if got := txc(t, c, ch, "80E2910014BF3211A00C5A0A988812010000000000F18101FF"); got != "BF32038001009000" {
		t.Fatalf("disable = %s", got)
	}
	if _, ok := c.NextDeadline(); ok {
		t.Error("deadline with no profile enabled")
	}
	if c.IMSI() != "" || c.ICCID() != cfg.ICCID {
		t.Errorf("identity with no profile: %q", c.ICCID())
	}
}

// TestRotationPollGranularity: an applet that reads EF_LOCI every PollEvery
// rotates at the first poll at or after RotateAfter without registration.
func TestRotationPollGranularity(t *testing.T) {
	cfg := plainConfig()
	cfg.Applet.Rotation.RotateAfter = 3 * time.Minute
	cfg.Applet.Rotation.PollEvery = 3 * time.Minute
	c := mustCard(t, cfg)
	c.ObserveRegistration(t0, true) // the polling grid starts here
	c.ObserveRegistration(t0.Add(100*time.Second), false)
	// 100 s + 3 min = 280 s, noticed at the poll at 360 s.
	if d, ok := c.NextDeadline(); !ok || !d.Equal(t0.Add(6*time.Minute)) {
		t.Fatalf("deadline = %v %v, want the poll at 6 min", d, ok)
	}
	c.Tick(t0.Add(280 * time.Second))
	if c.ActiveIndex() != 0 {
		t.Fatal("rotated between polls")
	}
	c.Tick(t0.Add(6 * time.Minute))
	if c.ActiveIndex() != 1 {
		t.Fatal("no rotation at the poll")
	}
	// On the grid already: the next deadline is a full period later.
	if d, _ := c.NextDeadline(); !d.Equal(t0.Add(9 * time.Minute)) {
		t.Errorf("second deadline = %v", d)
	}
}
