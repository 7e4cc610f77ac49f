package switcher_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/switchertest"
)

// Run ticks on its own timer and on events, and Close stops it; inside a
// synctest bubble the system clock is virtual, so nothing really waits.
func TestRunLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := loadCfg(t, "applet.yaml")
		m := switchertest.NewModem(cfg, "home")
		s, err := switcher.New(cfg, m, switcher.WithClock(switcher.SystemClock{}))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- s.Run(context.Background()) }()
		time.Sleep(time.Minute)
		synctest.Wait()
		if st := s.Status(); st.State != switcher.StateConnected {
			t.Fatalf("state %s", st.State)
		}
		m.SetNet("home", func(n *switchertest.Net) { n.Reg = modem.RegSearching })
		m.Emit(switcher.ModemEvent{Kind: switcher.ModemEventRegistration})
		time.Sleep(4 * time.Minute)
		synctest.Wait()
		if st := s.Status(); st.Active != "roam" {
			t.Fatalf("no failover under Run: %+v", st)
		}
		if err := s.Force("home", "x"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // Force wakes Run at once
		if sel, _, _, _ := m.Counts(); len(sel) != 2 || sel[1] != "home" {
			t.Fatalf("selects %v", sel)
		}
		s.Close()
		s.Close()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if err := s.Tick(context.Background()); err != switcher.ErrClosed {
			t.Fatalf("Tick after Close: %v", err)
		}
	})
}
