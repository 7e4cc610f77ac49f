package upstream

import (
	"context"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/store"
)

// A simulated day without the fleet server: heartbeats keep queueing every
// 5 minutes, the Reporter backs off, and when the server is back everything
// within the outbox bound arrives once, in order, and the rest is counted.
func TestDayLongOutage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bound int
	}{
		{"within bound", 1000},
		{"beyond bound", 150},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFleet(t)
			f.Down()
			outage := 24 * time.Hour
			clk := &instantClock{now: t0, limit: t0.Add(outage + 12*time.Minute), parked: make(chan struct{})}
			rb := &recordingBackoff{}
			rb.hook = func(resp *http.Response) {
				if resp == nil && !clk.Now().Before(t0.Add(outage)) {
					f.mu.Lock()
					down := f.srv == nil
					f.mu.Unlock()
					if down {
						f.Up()
					}
				}
			}
			ob := newOutbox(t, store.WithOutboxLimit(tc.bound, 0))
			cfg := baseConfig(f.URL())
			hbs := 0
			r, err := New(cfg, "gw-day", ob, WithClock(clk), WithRetryMax(1),
				WithHeartbeat(5*time.Minute, func() Heartbeat { hbs++; return Heartbeat{Active: "home"} }))
			if err != nil {
				t.Fatal(err)
			}
			jb := &jitterBackoff{now: clk.Now, rng: rand.New(rand.NewPCG(7, 7))}
			rb.policy = jb.backoff
			r.client.Backoff, r.o.backoff = rb.backoff, rb.outer

			const switches = 20
			for i := range switches {
				_, _ = r.Publish(TypeSwitch, seqData{N: i})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx) }()
			select {
			case <-clk.parked:
			case <-ctx.Done():
				t.Fatalf("the Reporter never went idle; clock at %s, %d waits, %d queued, %d reqs", clk.Now(), len(clk.waited), ob.Len(), f.reqs)
			}
			_ = r.Close()
			<-done

			total := switches + hbs
			evs, _ := f.received()
			dropped := int(ob.Dropped())
			if len(evs)+dropped != total || ob.Len() != 0 {
				t.Fatalf("%d events published, bound %d: server got %d, %d dropped, %d still queued",
					total, tc.bound, len(evs), dropped, ob.Len())
			}
			if wantDrops := tc.bound < total; (dropped > 0) != wantDrops {
				t.Errorf("Dropped = %d with bound %d and %d events", dropped, tc.bound, total)
			}
			if dropped > 0 && len(evs) < tc.bound {
				t.Errorf("only %d delivered: the bound (%d) should have been kept full", len(evs), tc.bound)
			}
			seen := map[string]bool{}
			for i, ev := range evs {
				if seen[ev.ID] {
					t.Fatalf("event %s delivered twice", ev.ID)
				}
				seen[ev.ID] = true
				if i > 0 && ev.Time.Before(evs[i-1].Time) {
					t.Fatalf("event %d is older than event %d: order broken", i, i-1)
				}
			}
			if !evs[len(evs)-1].Time.After(t0.Add(outage)) {
				t.Errorf("last event at %s, expected one after the outage", evs[len(evs)-1].Time)
			}
			var maxWait time.Duration
			for _, d := range clk.waited {
				maxWait = max(maxWait, d)
			}
			if maxWait > 5*time.Minute {
				t.Errorf("a wait of %s exceeds the 5 min cap", maxWait)
			}
			t.Logf("%d heartbeats + %d switches; delivered %d, dropped %d; %d requests",
				hbs, switches, len(evs), ob.Dropped(), f.reqs)
		})
	}
}
