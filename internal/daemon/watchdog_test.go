package daemon

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"
)

// The watchdog is pinged only while something makes progress: a wedged
// control loop must get the service restarted.
func TestWatchdogWithheldWithoutProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &recNotifier{}
		d := &Daemon{o: Options{Notifier: n, WatchdogInterval: 3 * time.Second}, log: slog.New(slog.DiscardHandler)}
		d.alive()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); d.watchdogLoop(ctx) }()

		time.Sleep(2 * time.Second)
		synctest.Wait()
		if !n.has("WATCHDOG=1") {
			t.Fatal("no ping while making progress")
		}
		// Nothing moves for a while: pings stop.
		time.Sleep(4 * time.Second)
		synctest.Wait()
		n.mu.Lock()
		n.states = nil
		n.mu.Unlock()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if n.has("WATCHDOG=1") {
			t.Fatal("pinged without progress")
		}
		// Progress again: pings resume.
		d.alive()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if !n.has("WATCHDOG=1") {
			t.Fatal("no ping after progress resumed")
		}
		cancel()
		<-done
	})
}

// Without a watchdog requested, the loop returns at once.
func TestWatchdogOff(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "")
	d := &Daemon{o: Options{Notifier: &recNotifier{}}, log: slog.New(slog.DiscardHandler)}
	d.watchdogLoop(context.Background())
}
