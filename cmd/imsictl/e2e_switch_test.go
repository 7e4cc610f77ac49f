package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.bug.st/serial"

	"github.com/imsid/imsid/modem"
)

// The switching primitives against the simulator's SIM, which was written
// independently from docs/sim-card.md: the applet template selects IMSI
// index 2, and the refresh that follows is seen and reported.
func TestE2EAppletSwitch(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e")
	}
	_, modemsim := buildBinaries(t)
	link, _ := startSim(t, modemsim, "../../simulator/scenarios/basic.yaml")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	port, err := serial.Open(link, &serial.Mode{BaudRate: 115200})
	if err != nil {
		t.Fatal(err)
	}
	m, err := modem.New(ctx, port)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	imsi, err := m.EFIMSI(ctx)
	if err != nil || imsi.Reveal() != "262011234567890" {
		t.Fatalf("EF_IMSI = %s, %v", imsi.Reveal(), err)
	}
	res, err := m.SwitchAppletProfile(ctx, modem.DefaultAppletTemplate(), 2)
	if err != nil {
		t.Fatalf("switch: %v", err)
	}
	if res.After.IMSI.Reveal() != "310260123456789" || !res.IMSIChanged || res.ICCIDChanged {
		t.Fatalf("result %+v", res)
	}
	t.Logf("refresh seen via %q", res.Trigger)
	if imsi, err := m.EFIMSI(ctx); err != nil || imsi.Reveal() != "310260123456789" {
		t.Fatalf("EF_IMSI after = %s, %v", imsi.Reveal(), err)
	}
}

func session(t *testing.T, ctx context.Context, scenario string) *modem.Modem {
	t.Helper()
	_, modemsim := buildBinaries(t)
	link, _ := startSim(t, modemsim, scenario)
	port, err := serial.Open(link, &serial.Mode{BaudRate: 115200})
	if err != nil {
		t.Fatal(err)
	}
	m, err := modem.New(ctx, port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestE2EEUICCSwitch(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := session(t, ctx, "../../simulator/scenarios/euicc.yaml")
	eid, err := m.GetEID(ctx)
	if err != nil || eid != "89049032123451234512345678901235" {
		t.Fatalf("EID = %q, %v", eid, err)
	}
	ps, err := m.GetProfilesInfo(ctx)
	if err != nil || len(ps) != 2 || ps[0].ICCID != "89000123456789012341" || ps[0].State != modem.ProfileEnabled ||
		ps[1].ICCID != "89441000000000000013" || ps[1].State != modem.ProfileDisabled || ps[1].Name != "UK local" {
		t.Fatalf("profiles = %+v, %v", ps, err)
	}
	res, err := m.SwitchEUICCProfile(ctx, modem.ProfileRef{ICCID: "89441000000000000013"}, true)
	if err != nil {
		t.Fatalf("switch: %v", err)
	}
	if res.After.ICCID != "89441000000000000013" || res.After.IMSI != "234150999999999" || !res.ICCIDChanged || !res.IMSIChanged {
		t.Fatalf("result %+v", res)
	}
	// Enabling it again is refused with a typed error.
	if err := m.EnableProfile(ctx, modem.ProfileRef{ICCID: "89441000000000000013"}, true); !errors.Is(err, modem.ErrProfileState) {
		t.Fatalf("re-enable: %v", err)
	}
}

func TestE2ESlotSwitch(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := session(t, ctx, "../../simulator/scenarios/dual-slot.yaml")
	res, err := m.SwitchSlot(ctx, 2)
	if err != nil {
		t.Fatalf("switch: %v", err)
	}
	if !res.ICCIDChanged || res.After.IMSI.Reveal() == "" {
		t.Fatalf("result %+v", res)
	}
	t.Logf("slot 2: %v / %v via %q", res.After.IMSI, res.After.ICCID, res.Trigger)
}
