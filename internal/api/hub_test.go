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
	var pubs, subs sync.WaitGroup
	published := make(chan struct{})
	for range 4 {
		pubs.Go(func() {
			for range 200 {
				h.Publish(EventLink, Link{})
			}
		})
	}
	for n := range 4 {
		subs.Go(func() {
			for i := range 20 {
				ctx, cancel := context.WithCancel(context.Background())
				ch, stop, err := h.Subscribe(ctx, uint64(n*i))
				if err != nil {
					t.Error(err)
					cancel()
					return
				}
				var last uint64
			read:
				for range 5 {
					select {
					case ev, ok := <-ch:
						if !ok {
							break read
						}
						if ev.ID != 0 && ev.ID <= last {
							t.Errorf("ID %d after %d", ev.ID, last)
						}
						last = max(last, ev.ID)
					case <-published:
						break read
					}
				}
				// Both ways of ending a subscription, in both orders.
				if i%2 == 0 {
					cancel()
					stop()
				} else {
					stop()
					cancel()
				}
			}
		})
	}
	pubs.Wait()
	close(published)
	subs.Wait()
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
