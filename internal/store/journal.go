package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Intent is a switch about to be made, written before the modem is touched.
type Intent struct {
	// ID is assigned by BeginSwitch: monotonic across restarts.
	ID      uint64    `json:"id"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Reason  string    `json:"reason"`
	Started time.Time `json:"started"`
	// Ref is the caller's own identifier (e.g. the switcher's sequence
	// number), kept so an adapter can map back after a restart.
	Ref    uint64          `json:"ref,omitempty"`
	Detail json.RawMessage `json:"detail,omitempty"`
}

// Outcome is how a journalled switch ended.
type Outcome struct {
	ID uint64 `json:"id"`
	// Result is the caller's word for the end: "ok", "failed", "rolled_back",
	// "reconciled".
	Result   string    `json:"result"`
	Finished time.Time `json:"finished"`
	// Active is the profile in use afterwards ("" unknown).
	Active string          `json:"active,omitempty"`
	Detail json.RawMessage `json:"detail,omitempty"`
}

// JournalEntry is an intent with its outcome, nil while unfinished.
type JournalEntry struct {
	Intent  Intent   `json:"intent"`
	Outcome *Outcome `json:"outcome,omitempty"`
}

// BeginSwitch durably records in before the caller acts and returns its ID.
// The caller's in.ID is ignored.
func (s *Store) BeginSwitch(in Intent) (uint64, error) {
	if in.To == "" {
		return 0, opErr("begin switch", fmt.Errorf("%w: intent has no target profile", ErrInvalid))
	}
	if in.Detail != nil && !json.Valid(in.Detail) {
		return 0, opErr("begin switch", fmt.Errorf("%w: intent detail is not JSON", ErrInvalid))
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktJournal)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		in.ID = id
		v, err := json.Marshal(JournalEntry{Intent: in})
		if err != nil {
			return err
		}
		if err := b.Put(u64(id), v); err != nil {
			return err
		}
		return s.trimJournal(b)
	})
	if err != nil {
		return 0, opErr("begin switch", err)
	}
	return in.ID, nil
}

// EndSwitch records the outcome of the intent out.ID. An unknown ID is
// ErrNotFound; a second outcome for the same ID replaces the first, so a
// reconciliation may be repeated safely.
func (s *Store) EndSwitch(out Outcome) error {
	if out.Detail != nil && !json.Valid(out.Detail) {
		return opErr("end switch", fmt.Errorf("%w: outcome detail is not JSON", ErrInvalid))
	}
	return opErr("end switch", s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktJournal)
		k := u64(out.ID)
		v := b.Get(k)
		if v == nil {
			return fmt.Errorf("switch %d: %w", out.ID, ErrNotFound)
		}
		var e JournalEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("switch %d: stored entry is malformed: %w", out.ID, err)
		}
		e.Outcome = &out
		nv, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return b.Put(k, nv)
	}))
}

// EndSwitchRef records out for the newest unfinished intent whose Ref is
// ref, so an adapter keyed on the caller's own sequence numbers needs no map
// of its own (and survives a restart). out.ID is filled in; no match is
// ErrNotFound.
func (s *Store) EndSwitchRef(ref uint64, out Outcome) error {
	un, err := s.Unfinished()
	if err != nil {
		return err
	}
	for i := len(un) - 1; i >= 0; i-- {
		if un[i].Ref == ref {
			out.ID = un[i].ID
			return s.EndSwitch(out)
		}
	}
	return opErr("end switch", fmt.Errorf("no unfinished switch with ref %d: %w", ref, ErrNotFound))
}

// Unfinished returns the intents without an outcome, oldest first: the
// switches a crash interrupted, for reconciliation at start-up.
func (s *Store) Unfinished() ([]Intent, error) {
	var out []Intent
	err := s.forJournal(func(e JournalEntry) {
		if e.Outcome == nil {
			out = append(out, e.Intent)
		}
	})
	return out, opErr("unfinished", err)
}

// Journal returns up to limit most recent entries, oldest first; limit <= 0
// returns them all.
func (s *Store) Journal(limit int) ([]JournalEntry, error) {
	var out []JournalEntry
	err := s.forJournal(func(e JournalEntry) { out = append(out, e) })
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, opErr("journal", err)
}

func (s *Store) forJournal(f func(JournalEntry)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktJournal).ForEach(func(k, v []byte) error {
			var e JournalEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("journal entry %d is malformed: %w", binary.BigEndian.Uint64(k), err)
			}
			f(e)
			return nil
		})
	})
}

// trimJournal drops the oldest finished entries beyond the bound; unfinished
// intents stay until reconciled whatever their age.
func (s *Store) trimJournal(b *bolt.Bucket) error {
	n := b.Stats().KeyN
	excess := n - s.opts.journalMax
	if excess <= 0 {
		return nil
	}
	var dead [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil && len(dead) < excess; k, v = c.Next() {
		var e JournalEntry
		if json.Unmarshal(v, &e) == nil && e.Outcome == nil {
			continue
		}
		dead = append(dead, append([]byte(nil), k...))
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
