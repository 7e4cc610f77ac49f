package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Record is one entry of a sequenced log: the decision log or the outbox.
type Record struct {
	Seq  uint64          `json:"seq"`
	Data json.RawMessage `json:"data"`
}

// AppendDecision adds one decision (the caller's JSON) and returns its
// sequence number; beyond the bound the oldest are forgotten.
func (s *Store) AppendDecision(data json.RawMessage) (uint64, error) {
	if !json.Valid(data) {
		return 0, opErr("append decision", fmt.Errorf("%w: decision is not JSON", ErrInvalid))
	}
	var seq uint64
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.decisionLen
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktDecisions)
		var err error
		if seq, err = b.NextSequence(); err != nil {
			return err
		}
		if err := b.Put(u64(seq), slices.Clone(data)); err != nil {
			return err
		}
		n++
		c := b.Cursor()
		for k, _ := c.First(); k != nil && n > s.opts.decisionMax; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
			n--
		}
		return nil
	})
	if err != nil {
		return 0, opErr("append decision", err)
	}
	s.decisionLen = n
	return seq, nil
}

// Decisions returns up to limit decisions with a sequence number above
// after, oldest first (limit <= 0: all).
func (s *Store) Decisions(after uint64, limit int) ([]Record, error) {
	var out []Record
	if after == math.MaxUint64 {
		return nil, nil
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bktDecisions).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			out = append(out, Record{Seq: binary.BigEndian.Uint64(k), Data: slices.Clone(v)})
		}
		return nil
	})
	return out, opErr("decisions", err)
}
