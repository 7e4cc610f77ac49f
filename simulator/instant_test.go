package simulator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
)

// A command whose latency runs out at the instant a timeline event falls
// on is answered from the world after the event, every time. The reply's
// wait and the event were two clock timers due at one instant, and which
// ran first was up to the runtime: a benchmark seed answered "registered"
// in one run and "searching" in the next.
func TestReplyAtAnEventsInstantSeesTheEvent(t *testing.T) {
	base, err := os.ReadFile(filepath.Join("scenarios", "basic.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	world := strings.Replace(string(base), "  latency: 20ms", "  latency: 1s", 1)
	world += "timeline:\n  - {at: 3s, event: outage, network: \"26201\", duration: 1m}\n"
	for i := range 100 {
		synctest.Test(t, func(t *testing.T) {
			sc, err := ParseScenario("instant.yaml", []byte(world))
			if err != nil {
				t.Fatal(err)
			}
			r := newRig(t, sc)
			r.send("ATE0\r") // answered at 1 s
			r.readUntil("OK\r\n")
			r.send("AT+CMEE=1\r") // 2 s
			r.readUntil("OK\r\n")
			r.send("AT+CREG?\r") // 3 s: the outage's instant
			got := r.readUntil("OK\r\n")
			if !strings.Contains(got, "+CREG: 0,2") && !strings.Contains(got, "+CREG: 0,0") {
				t.Fatalf("run %d: AT+CREG? answered at the outage's instant = %q, want not registered", i, got)
			}
		})
	}
}
