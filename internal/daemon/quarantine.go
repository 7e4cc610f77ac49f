package daemon

import (
	"fmt"
	"strings"
	"time"

	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
)

// networksQuarantined reports whether every network p may use is
// quarantined (a threat response quarantines PLMNs, not profiles): the
// switcher then keeps p out of selection ("plmn_quarantined"), and a
// manual switch to it would only camp on a network just left on a threat.
// The answer is what the profile's own quarantine would say: until the
// first of those quarantines ends, and why. A profile allowed a whole
// country (mccs) is never covered by PLMN quarantines.
func networksQuarantined(p *profiles.Profile, qs []switcher.QuarantineEntry, now time.Time) (switcher.QuarantineEntry, bool) {
	if p == nil || len(p.MCCs) > 0 || len(p.PLMNs) == 0 {
		return switcher.QuarantineEntry{}, false
	}
	var out switcher.QuarantineEntry
	var names []string
	for _, plmn := range p.PLMNs {
		found := false
		for _, q := range qs {
			if q.Key.Kind() == switcher.QuarantinePLMN && q.Key.Name() == string(plmn) && now.Before(q.Until) {
				// The first to end frees the profile.
				if out.Until.IsZero() || q.Until.Before(out.Until) {
					out.Until, out.Since, out.Count, out.Reason = q.Until, q.Since, q.Count, q.Reason
				}
				found = true
				names = append(names, string(plmn))
				break
			}
		}
		if !found {
			return switcher.QuarantineEntry{}, false
		}
	}
	out.Key = switcher.ProfileKey(p.Name)
	what := "network " + names[0]
	if len(names) > 1 {
		what = "networks " + strings.Join(names, ", ")
	}
	out.Reason.Message = fmt.Sprintf("%s quarantined: %s", what, firstNonEmptyText(out.Reason.Message, string(out.Reason.Code)))
	return out, true
}

func firstNonEmptyText(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
