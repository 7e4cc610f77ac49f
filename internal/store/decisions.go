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
	return s.putDecision("append decision", 0, data)
}

// PutDecision stores a decision under the number its maker gave it
// (switcher.WithDecisionSeq continues from LastDecisionSeq, so the API's
// numbers are the store's); a number at or below the last one replaces
// that entry. Beyond the bound the oldest are forgotten.
func (s *Store) PutDecision(seq uint64, data json.RawMessage) error {
	if seq == 0 {
		return opErr("put decision", fmt.Errorf("%w: sequence number 0", ErrInvalid))
	}
	_, err := s.putDecision("put decision", seq, data)
	return err
}

// LastDecisionSeq is the highest decision number ever stored (0: none),
// including ones already forgotten.
func (s *Store) LastDecisionSeq() (uint64, error) {
	var seq uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		seq = tx.Bucket(bktDecisions).Sequence()
		return nil
	})
	return seq, opErr("last decision", err)
}

func (s *Store) putDecision(op string, seq uint64, data json.RawMessage) (uint64, error) {
	if !json.Valid(data) {
		return 0, opErr(op, fmt.Errorf("%w: decision is not JSON", ErrInvalid))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.decisionLen
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktDecisions)
		var err error
		if seq == 0 {
			if seq, err = b.NextSequence(); err != nil {
				return err
			}
		} else if seq > b.Sequence() {
			if err := b.SetSequence(seq); err != nil {
				return err
			}
		}
		if b.Get(u64(seq)) == nil {
			n++
		}
		if err := b.Put(u64(seq), slices.Clone(data)); err != nil {
			return err
		}
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
		return 0, opErr(op, err)
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
