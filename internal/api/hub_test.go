package api

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
)

// Publishers and subscribers racing: every subscriber that is not dropped
// sees IDs strictly increasing, and nothing deadlocks.
func TestHubConcurrent(t *testing.T) {
	h := NewHub(16, 8, nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				h.Publish(EventLink, Link{})
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 20 {
				ctx, cancel := context.WithCancel(context.Background())
				ch, stop, err := h.Subscribe(ctx, 0)
				if err != nil {
					t.Error(err)
					return
				}
				var last uint64
				for i := 0; i < 5; i++ {
					ev, ok := <-ch
					if !ok {
						break
					}
					if ev.ID <= last {
						t.Errorf("ID %d after %d", ev.ID, last)
					}
					last = ev.ID
				}
				if i := len(ch); i%2 == 0 {
					cancel()
				} else {
					stop()
				}
				cancel()
			}
		})
	}
	wg.Wait()
	h.Close()
	if h.Subscribers() != 0 {
		t.Fatal("subscribers after Close")
	}
}

func TestHubContextEndsSubscription(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHub(4, 4, nil)
		ctx, cancel := context.WithCancel(context.Background())
		ch, stop, _ := h.Subscribe(ctx, 0)
		defer stop()
		cancel()
		synctest.Wait()
		if _, ok := <-ch; ok || h.Subscribers() != 0 {
			t.Fatal("subscription outlived its context")
		}
	})
}
