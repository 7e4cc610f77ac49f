package daemon

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/api"
)

// One clock per mode (#15 item 8): under a simulated clock the event
// stream's times are the daemon's clock, like the decisions', never the
// wall clock.
func TestEventsUseTheDaemonsClock(t *testing.T) {
	h := start(t, t.TempDir())
	h.waitFor("connected", 20*time.Second, h.on(""))
	// At 40x the scenario clock is a minute ahead after 1.5 s.
	time.Sleep(1500 * time.Millisecond)
	h.d.hub.Publish(api.EventPin, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ch, stop, err := h.d.hub.Subscribe(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	var last api.Event
	for ev := range ch {
		last = ev
		if ev.Type == api.EventPin {
			break
		}
	}
	now := h.d.o.Clock.Now()
	if d := now.Sub(last.Time); d < 0 || d > 10*time.Second {
		raw, _ := json.Marshal(last)
		t.Fatalf("event at %s, the daemon's clock says %s (wall %s): %s", last.Time, now, time.Now(), raw)
	}
}
