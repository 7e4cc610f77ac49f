package store

import bolt "go.etcd.io/bbolt"

// peekNextSeq is the sequence the next Enqueue will get; the crash child is
// the only writer, so it cannot change in between.
func (s *Store) peekNextSeq() uint64 {
	var n uint64
	_ = s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bktOutbox).Sequence() + 1
		return nil
	})
	return n
}
