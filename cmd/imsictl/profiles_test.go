package main

import (
	"testing"

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
