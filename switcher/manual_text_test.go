package switcher

import (
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/profiles"
)

// A refusal is read by people: its window is written as the config
// writes it ("1h"), not as Go prints a duration ("1h0m0s").
func TestSwitchCapRefusalWording(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := &profiles.Config{Profiles: []profiles.Profile{{Name: "a"}, {Name: "b"}}}
	cfg.Policy.SwitchCap = profiles.SwitchCap{Max: 3, Window: profiles.Duration(time.Hour)}
	v := view{cfg: cfg, state: StateConnected, active: "a", capRetry: now.Add(12 * time.Minute)}
	re := v.refuse("switch", "b", now, true)
	if re == nil || re.Reason.Code != CodeSwitchCap || !strings.Contains(re.Reason.Message, "(3 per 1h)") {
		t.Fatalf("%+v", re)
	}
	for d, want := range map[time.Duration]string{time.Hour: "1h", 90 * time.Minute: "1h30m", 30 * time.Minute: "30m", 90 * time.Second: "1m30s", 24 * time.Hour: "24h"} {
		if got := windowText(d); got != want {
			t.Errorf("windowText(%v) = %q, want %q", d, got, want)
		}
	}
}
