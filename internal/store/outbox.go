package store

import (
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Item is one queued upstream event.
type Item = Record

// Enqueue appends one event (opaque bytes, normally a CloudEvent's JSON) to
// the outbox and returns its sequence number, which only grows, across
// restarts too. Beyond the count or byte bound the oldest items are dropped
// and counted, in the same transaction.
func (s *Store) Enqueue(ev []byte) (uint64, error) {
	if len(ev) == 0 {
		return 0, opErr("enqueue", fmt.Errorf("%w: empty event", ErrInvalid))
	}
	if int64(len(ev)) > s.opts.outboxMaxBytes {
		return 0, opErr("enqueue", fmt.Errorf("%w: event of %d bytes, outbox holds %d", ErrTooLarge, len(ev), s.opts.outboxMaxBytes))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, size, dropped := s.outLen, s.outBytes, s.outDropped
	var seq uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktOutbox)
		var err error
		if seq, err = b.NextSequence(); err != nil {
			return err
		}
		if err := b.Put(u64(seq), slices.Clone(ev)); err != nil {
			return err
		}
		s.outLen++
		s.outBytes += int64(len(ev))
		return s.trimOutbox(tx, 1)
	})
	if err != nil {
		// The transaction rolled back; so do the mirrors.
		s.outLen, s.outBytes, s.outDropped = n, size, dropped
		return 0, opErr("enqueue", err)
	}
	return seq, nil
}

// trimOutbox drops the oldest items while over a bound, keeping at least
// keep items (the one just added). Called with s.mu held or from init.
func (s *Store) trimOutbox(tx *bolt.Tx, keep int) error {
	if s.outLen <= s.opts.outboxMax && s.outBytes <= s.opts.outboxMaxBytes {
		return nil
	}
	b := tx.Bucket(bktOutbox)
	c := b.Cursor()
	var dropped uint64
	for k, v := c.First(); k != nil && s.outLen > keep &&
		(s.outLen > s.opts.outboxMax || s.outBytes > s.opts.outboxMaxBytes); k, v = c.First() {
		size := int64(len(v))
		if err := c.Delete(); err != nil {
			return err
		}
		s.outLen--
		s.outBytes -= size
		dropped++
	}
	if dropped == 0 {
		return nil
	}
	s.outDropped += dropped
	return tx.Bucket(bktMeta).Put(keyDropped, u64(s.outDropped))
}

// Peek returns up to n of the oldest items without removing them.
func (s *Store) Peek(n int) ([]Item, error) {
	var out []Item
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bktOutbox).Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			out = append(out, Item{Seq: binary.BigEndian.Uint64(k), Data: slices.Clone(v)})
		}
		return nil
	})
	return out, opErr("peek", err)
}

// Ack removes delivered items. Sequence numbers no longer queued (dropped,
// or acknowledged before) are ignored, so a repeated Ack is harmless.
func (s *Store) Ack(seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int
	var size int64
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktOutbox)
		for _, seq := range seqs {
			k := u64(seq)
			v := b.Get(k)
			if v == nil {
				continue
			}
			size += int64(len(v))
			n++
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return opErr("ack", err)
	}
	s.outLen -= n
	s.outBytes -= size
	return nil
}

// Len is the number of queued items.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outLen
}

// Bytes is the queued items' total size.
func (s *Store) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outBytes
}

// Dropped is how many items the bound has pushed out, ever; it persists.
func (s *Store) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outDropped
}
