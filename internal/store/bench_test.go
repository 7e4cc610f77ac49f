package store

import "testing"

// BenchmarkOutbox measures one delivery cycle: enqueue a batch of events,
// peek it, ack it. Each operation is an fsync'd transaction.
func BenchmarkOutbox(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ev := []byte(`{"specversion":"1.0","id":"x","source":"imsid/dev","type":"io.imsid.heartbeat","data":{}}`)
	b.Run("Enqueue", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Enqueue(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Peek50", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Peek(50); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Ack", func(b *testing.B) {
		for b.Loop() {
			items, _ := s.Peek(1)
			if len(items) == 0 {
				if _, err := s.Enqueue(ev); err != nil {
					b.Fatal(err)
				}
				continue
			}
			if err := s.Ack(items[0].Seq); err != nil {
				b.Fatal(err)
			}
		}
	})
}
