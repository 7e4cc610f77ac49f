package daemon

import (
	"testing"
	"time"

	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
)

// A threat quarantines networks; a profile whose every network is
// quarantined is as good as quarantined itself, until the first ends.
func TestNetworksQuarantined(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	q := func(plmn string, until time.Duration) switcher.QuarantineEntry {
		return switcher.QuarantineEntry{Key: switcher.QuarantineKey("plmn:" + plmn), Since: now.Add(-time.Minute), Until: now.Add(until), Count: 1,
			Reason: switcher.Reason{Code: "threat_critical", Message: "left on a Critical threat"}}
	}
	one := &profiles.Profile{Name: "home", PLMNs: []profiles.PLMN{"26201"}}
	two := &profiles.Profile{Name: "multi", PLMNs: []profiles.PLMN{"26201", "26202"}}
	country := &profiles.Profile{Name: "de", MCCs: []profiles.MCC{"262"}}
	cell := switcher.QuarantineEntry{Key: "cell:26201/F1E", Until: now.Add(time.Hour)}

	got, ok := networksQuarantined(one, []switcher.QuarantineEntry{cell, q("26201", time.Hour)}, now)
	if !ok || !got.Until.Equal(now.Add(time.Hour)) || got.Key != switcher.ProfileKey("home") ||
		got.Reason.Code != "threat_critical" || got.Reason.Message != "network 26201 quarantined: left on a Critical threat" {
		t.Errorf("one network quarantined: %v %+v", ok, got)
	}
	if _, ok := networksQuarantined(one, []switcher.QuarantineEntry{q("26201", -time.Second)}, now); ok {
		t.Error("an expired quarantine counts")
	}
	if _, ok := networksQuarantined(two, []switcher.QuarantineEntry{q("26201", time.Hour)}, now); ok {
		t.Error("a profile with a network left is covered")
	}
	got, ok = networksQuarantined(two, []switcher.QuarantineEntry{q("26202", 2*time.Hour), q("26201", time.Hour)}, now)
	if !ok || !got.Until.Equal(now.Add(time.Hour)) || got.Reason.Message != "networks 26201, 26202 quarantined: left on a Critical threat" {
		t.Errorf("both networks: %v %+v (want until the first ends)", ok, got)
	}
	if _, ok := networksQuarantined(country, []switcher.QuarantineEntry{q("26201", time.Hour)}, now); ok {
		t.Error("a whole country is covered by one PLMN")
	}
}

// A smoothed signal is shown to a tenth of a dB, never as
// -59.418498840103375.
func TestTenth(t *testing.T) {
	for in, want := range map[float64]float64{-59.418498840103375: -59.4, -88: -88, -95.25: -95.3, 11.04: 11} {
		if got := *tenth(in); got != want {
			t.Errorf("tenth(%v) = %v, want %v", in, got, want)
		}
	}
}
