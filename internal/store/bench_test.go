package store

import (
	"testing"

	bolt "go.etcd.io/bbolt"
)

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

// BenchmarkOpenFull measures start-up with a full default outbox: Open runs
// bbolt's consistency check over the whole file.
func BenchmarkOpenFull(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	ev := make([]byte, 300)
	for i := range ev {
		ev[i] = 'x'
	}
	ev[0], ev[len(ev)-1] = '"', '"'
	err = s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bktOutbox)
		for range DefaultOutboxMax {
			seq, _ := bk.NextSequence()
			if err := bk.Put(u64(seq), ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	_ = s.Close()
	for b.Loop() {
		s, err := Open(dir)
		if err != nil || s.Len() != DefaultOutboxMax {
			b.Fatal(err)
		}
		_ = s.Close()
	}
}
