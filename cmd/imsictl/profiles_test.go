package main

import (
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/api/wire"
)

// The WHY NOT column names what keeps a profile out, not the first
// informational reason (its signal's age) that happens to come first.
func TestWhyNotNamesTheBar(t *testing.T) {
	r := func(code, msg string) wire.Reason { return wire.Reason{Code: code, Message: msg} }
	info := []wire.Reason{r("signal_history", "last measured 1m47s ago"), r("cost_tariff", "0.002 EUR per MB")}
	for _, tc := range []struct {
		name string
		v    wire.ProfileView
		want string
	}{
		{"eligible: the first reason", wire.ProfileView{Eligible: true, Reasons: info}, "last measured 1m47s ago"},
		{"networks quarantined", wire.ProfileView{Reasons: append(info, r("plmn_quarantined", "every allowed network it could use is quarantined"))},
			"every allowed network it could use is quarantined"},
		{"not in scan", wire.ProfileView{Reasons: append(info, r("not_in_scan", "no allowed network of this profile in the last scan"))},
			"no allowed network of this profile in the last scan"},
		{"over cap", wire.ProfileView{Reasons: append(info, r("over_cap", "data cap 5GB used up this period"))}, "data cap 5GB used up this period"},
		{"quarantine wins", wire.ProfileView{Reasons: info, Quarantine: &wire.Quarantine{Reason: r("threat_critical", "network 26201 quarantined: left on a Critical threat")}},
			"network 26201 quarantined: left on a Critical threat"},
		{"active", wire.ProfileView{Active: true, Reasons: info}, ""},
	} {
		if got := whyNot(tc.v); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Money and data in status (#15 item 3): one usage line per profile that
// used data or has a cap, with the spend and the cap's run-out date.
func TestStatusUsageLines(t *testing.T) {
	now := docNow
	out := new(strings.Builder)
	st := wire.Status{State: "connected", Ready: true, ActiveProfile: wire.Ptr("telekom"), Threat: wire.Threat{Level: "none"},
		Usage: []wire.Usage{
			{Profile: "telekom", UsedBytes: 1_234_000_000, CapBytes: wire.Ptr[int64](5_000_000_000), Spend: "9.90 EUR",
				CapRunsOutAt: wire.Ptr(now.Add(20*24*time.Hour + 6*time.Hour))},
			{Profile: "vodafone", UsedBytes: 310_000_000, Spend: "6.20 EUR"},
			{Profile: "o2", Spend: "0 EUR"},
		}}
	printStatus(out, palette{}, st, now)
	for _, want := range []string{
		"usage        telekom 1.2 GB / 5.0 GB this period, 9.90 EUR; the cap runs out Sat 21 Mar 18:00 UTC (in 20d6h)\n",
		"usage        vodafone 310.0 MB this period, 6.20 EUR\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out.String(), "o2") {
		t.Errorf("a profile with no data and no cap has a usage line:\n%s", out)
	}
}
