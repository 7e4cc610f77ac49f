package api

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// Hub fans events out to subscribers and keeps the newest ones for resuming.
// Publish never blocks: a subscriber whose buffer is full is dropped (its
// channel closed) and resumes from the replay buffer when it reconnects.
// It implements Backend.Subscribe for the daemon.
type Hub struct {
	now    func() time.Time
	buffer int

	mu     sync.Mutex
	ring   []Event // oldest first, at most cap(ring)
	last   uint64
	subs   map[*hubSub]struct{}
	closed bool
}

type hubSub struct {
	ch   chan Event
	stop func() bool
}

// NewHub keeps the newest replay events and gives every subscriber a buffer
// of buffer events. IDs start from now's Unix microseconds so a client
// resuming across a daemon restart is not confused by reused IDs (as long as
// the clock moves forward). now nil means time.Now.
func NewHub(replay, buffer int, now func() time.Time) *Hub {
	if now == nil {
		now = time.Now
	}
	return &Hub{
		now:    now,
		buffer: max(buffer, 1),
		ring:   make([]Event, 0, max(replay, 1)),
		last:   uint64(max(now().UnixMicro(), 0)),
		subs:   map[*hubSub]struct{}{},
	}
}

// Publish marshals data and sends it to every subscriber; it returns the
// event as sent.
func (h *Hub) Publish(typ string, data any) (Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("api: publish %s: %w", typ, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return Event{}, ErrClosed
	}
	h.last++
	ev := Event{ID: h.last, Time: h.now(), Type: typ, Data: raw}
	if len(h.ring) == cap(h.ring) {
		copy(h.ring, h.ring[1:])
		h.ring = h.ring[:len(h.ring)-1]
	}
	h.ring = append(h.ring, ev)
	for s := range h.subs {
		select {
		case s.ch <- ev:
		default:
			h.dropLocked(s)
		}
	}
	return ev, nil
}

func (h *Hub) dropLocked(s *hubSub) {
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	s.stop()
	close(s.ch)
}

// Subscribe implements Backend.Subscribe.
func (h *Hub) Subscribe(ctx context.Context, after uint64) (<-chan Event, func(), error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, ErrClosed
	}
	var backlog []Event
	if after > 0 {
		oldest := uint64(0)
		if len(h.ring) > 0 {
			oldest = h.ring[0].ID
		}
		switch {
		case after > h.last:
			backlog = append(backlog, gapEvent(h.now(), after, oldest, "unknown event ID (from another daemon run?): streaming from now"))
		case oldest == 0 && after < h.last, oldest > after+1:
			backlog = append(backlog, gapEvent(h.now(), after, oldest, "events after this ID were dropped from the replay buffer"))
		}
		for _, ev := range h.ring {
			if ev.ID > after {
				backlog = append(backlog, ev)
			}
		}
	}
	s := &hubSub{ch: make(chan Event, len(backlog)+h.buffer)}
	for _, ev := range backlog {
		s.ch <- ev
	}
	h.subs[s] = struct{}{}
	s.stop = context.AfterFunc(ctx, func() { h.unsubscribe(s) })
	return s.ch, func() { h.unsubscribe(s) }, nil
}

func gapEvent(now time.Time, after, oldest uint64, msg string) Event {
	raw, _ := json.Marshal(Gap{After: after, Oldest: oldest, Message: msg})
	return Event{Time: now, Type: EventGap, Data: raw}
}

func (h *Hub) unsubscribe(s *hubSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dropLocked(s)
}

// Subscribers is the number of live subscriptions.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Close ends every subscription; later Publish and Subscribe fail with
// ErrClosed. It is idempotent.
func (h *Hub) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	for s := range h.subs {
		h.dropLocked(s)
	}
	return nil
}
