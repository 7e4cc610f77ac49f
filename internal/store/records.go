package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SetActive records the profile in use.
func (s *Store) SetActive(profile string) error {
	return opErr("set active", s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bktMeta).Put(keyActive, []byte(profile))
	}))
}

// Active returns the recorded profile, or "" if none was ever recorded.
func (s *Store) Active() (string, error) {
	var v string
	err := s.db.View(func(tx *bolt.Tx) error {
		v = string(tx.Bucket(bktMeta).Get(keyActive))
		return nil
	})
	return v, opErr("active", err)
}

// Pin holds the device on one profile.
type Pin struct {
	Profile string    `json:"profile"`
	Since   time.Time `json:"since,omitzero"`
	// Until is when the pin lapses; zero holds until cleared.
	Until  time.Time `json:"until,omitzero"`
	Reason string    `json:"reason,omitempty"`
}

// SetPin records the pin, replacing any previous one.
func (s *Store) SetPin(p Pin) error {
	if p.Profile == "" {
		return opErr("set pin", fmt.Errorf("%w: pin profile is empty", ErrInvalid))
	}
	return putJSON(s.db, "set pin", bktMeta, keyPin, p)
}

// ClearPin removes the pin.
func (s *Store) ClearPin() error {
	return opErr("clear pin", s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bktMeta).Delete(keyPin)
	}))
}

// GetPin returns the pin, or ErrNotFound.
func (s *Store) GetPin() (Pin, error) {
	var p Pin
	return p, getJSON(s.db, "pin", bktMeta, keyPin, &p)
}

// Quarantine keeps a profile, PLMN, cell or region out of use until Until.
type Quarantine struct {
	// Scope is the kind of key: "profile", "plmn", "cell", "region".
	Scope string    `json:"scope"`
	Key   string    `json:"key"`
	Until time.Time `json:"until"`
	// Count is the consecutive quarantines of this target (TTL doubling).
	Count  int       `json:"count"`
	Since  time.Time `json:"since,omitzero"`
	Reason string    `json:"reason,omitempty"`
}

func quarKey(scope, key string) ([]byte, error) {
	if scope == "" || key == "" || strings.ContainsRune(scope, 0) {
		return nil, fmt.Errorf("%w: quarantine needs a scope and a key (got scope %q)", ErrInvalid, scope)
	}
	return []byte(scope + "\x00" + key), nil
}

// PutQuarantine records q, replacing the entry for the same scope and key.
func (s *Store) PutQuarantine(q Quarantine) error {
	k, err := quarKey(q.Scope, q.Key)
	if err != nil {
		return opErr("put quarantine", err)
	}
	return putJSON(s.db, "put quarantine", bktQuar, k, q)
}

// DeleteQuarantine removes one entry; a missing entry is not an error.
func (s *Store) DeleteQuarantine(scope, key string) error {
	k, err := quarKey(scope, key)
	if err != nil {
		return opErr("delete quarantine", err)
	}
	return opErr("delete quarantine", s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bktQuar).Delete(k)
	}))
}

// Quarantines returns every entry, expired ones included, ordered by scope
// then key.
func (s *Store) Quarantines() ([]Quarantine, error) {
	var out []Quarantine
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktQuar).ForEach(func(k, v []byte) error {
			var q Quarantine
			if err := json.Unmarshal(v, &q); err != nil {
				return fmt.Errorf("quarantine %q: %w", k, err)
			}
			out = append(out, q)
			return nil
		})
	})
	return out, opErr("quarantines", err)
}

// ReplaceQuarantines swaps the whole set in one transaction, for callers
// that persist an exported snapshot.
func (s *Store) ReplaceQuarantines(qs []Quarantine) error {
	return opErr("replace quarantines", s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bktQuar); err != nil {
			return err
		}
		b, err := tx.CreateBucket(bktQuar)
		if err != nil {
			return err
		}
		for _, q := range qs {
			k, err := quarKey(q.Scope, q.Key)
			if err != nil {
				return err
			}
			v, err := json.Marshal(q)
			if err != nil {
				return err
			}
			if err := b.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	}))
}

// PruneQuarantines deletes entries whose Until is before now and returns how
// many went. Callers that need the repeat Count to survive expiry keep them.
func (s *Store) PruneQuarantines(now time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktQuar)
		var dead [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var q Quarantine
			if err := json.Unmarshal(v, &q); err != nil || q.Until.Before(now) {
				dead = append(dead, slices.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(dead)
		return nil
	})
	return n, opErr("prune quarantines", err)
}

// UsageRecord is one profile's usage for one billing period; Data is the
// caller's JSON.
type UsageRecord struct {
	Profile string          `json:"profile"`
	Period  string          `json:"period"`
	Data    json.RawMessage `json:"data"`
}

func usageKey(profile, period string) ([]byte, error) {
	if profile == "" || period == "" || strings.ContainsRune(profile, 0) {
		return nil, fmt.Errorf("%w: usage needs a profile and a period", ErrInvalid)
	}
	return []byte(profile + "\x00" + period), nil
}

// PutUsage stores data for profile in period (e.g. "2026-11-01"; periods
// sort as strings, so use a sortable form).
func (s *Store) PutUsage(profile, period string, data json.RawMessage) error {
	k, err := usageKey(profile, period)
	if err != nil {
		return opErr("put usage", err)
	}
	if !json.Valid(data) {
		return opErr("put usage", fmt.Errorf("%w: usage data for %q is not JSON", ErrInvalid, profile))
	}
	return opErr("put usage", s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bktUsage).Put(k, slices.Clone(data))
	}))
}

// GetUsage returns the data stored for profile in period, or ErrNotFound.
func (s *Store) GetUsage(profile, period string) (json.RawMessage, error) {
	k, err := usageKey(profile, period)
	if err != nil {
		return nil, opErr("usage", err)
	}
	var out json.RawMessage
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bktUsage).Get(k)
		if v == nil {
			return ErrNotFound
		}
		out = slices.Clone(v)
		return nil
	})
	return out, opErr("usage", err)
}

// Usage returns every stored record for profile ("" for all), ordered by
// profile then period.
func (s *Store) Usage(profile string) ([]UsageRecord, error) {
	var out []UsageRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bktUsage).Cursor()
		prefix := []byte(nil)
		if profile != "" {
			prefix = []byte(profile + "\x00")
		}
		for k, v := c.Seek(prefix); k != nil; k, v = c.Next() {
			if prefix != nil && !strings.HasPrefix(string(k), string(prefix)) {
				break
			}
			p, per, _ := strings.Cut(string(k), "\x00")
			out = append(out, UsageRecord{Profile: p, Period: per, Data: slices.Clone(v)})
		}
		return nil
	})
	return out, opErr("usage", err)
}

// SetLedger stores the running usage ledger (profiles.Ledger as JSON).
func (s *Store) SetLedger(data json.RawMessage) error {
	return s.putBlob("set ledger", keyLedger, data)
}

// Ledger returns the stored ledger, or ErrNotFound.
func (s *Store) Ledger() (json.RawMessage, error) { return s.getBlob("ledger", keyLedger) }

// SetBaseline stores the threat site baseline.
func (s *Store) SetBaseline(data json.RawMessage) error {
	return s.putBlob("set baseline", keyBaseline, data)
}

// Baseline returns the stored site baseline, or ErrNotFound.
func (s *Store) Baseline() (json.RawMessage, error) { return s.getBlob("baseline", keyBaseline) }

// SetSnapshot stores the switcher's exported state as one value, so a
// restart restores a consistent whole.
func (s *Store) SetSnapshot(data json.RawMessage) error {
	return s.putBlob("set snapshot", keySnapshot, data)
}

// Snapshot returns the stored switcher state, or ErrNotFound.
func (s *Store) Snapshot() (json.RawMessage, error) { return s.getBlob("snapshot", keySnapshot) }

// SetAdvisories stores the fleet advisories in force (their signed
// envelopes, so they are verified again when loaded).
func (s *Store) SetAdvisories(data json.RawMessage) error {
	return s.putBlob("set advisories", keyAdvisories, data)
}

// Advisories returns the stored advisories, or ErrNotFound.
func (s *Store) Advisories() (json.RawMessage, error) { return s.getBlob("advisories", keyAdvisories) }

// SetManualRequest journals an operator's switch request the API accepted
// (202) but the switcher has not acted on yet, so a restart in between does
// not lose it.
func (s *Store) SetManualRequest(data json.RawMessage) error {
	return s.putBlob("set manual request", keyRequest, data)
}

// ManualRequest returns the journalled request, or ErrNotFound.
func (s *Store) ManualRequest() (json.RawMessage, error) {
	return s.getBlob("manual request", keyRequest)
}

// ClearManualRequest forgets the journalled request (acted on, refused or
// stale).
func (s *Store) ClearManualRequest() error {
	return opErr("clear manual request", s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bktMeta).Delete(keyRequest)
	}))
}

// SetDeviceID keeps the device id generated for a device without a machine
// id.
func (s *Store) SetDeviceID(data json.RawMessage) error {
	return s.putBlob("set device id", keyDeviceID, data)
}

// DeviceID returns the kept device id, or ErrNotFound.
func (s *Store) DeviceID() (json.RawMessage, error) { return s.getBlob("device id", keyDeviceID) }

func (s *Store) putBlob(op string, key []byte, data json.RawMessage) error {
	if !json.Valid(data) {
		return opErr(op, fmt.Errorf("%w: value is not JSON", ErrInvalid))
	}
	return opErr(op, s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bktMeta).Put(key, slices.Clone(data))
	}))
}

func (s *Store) getBlob(op string, key []byte) (json.RawMessage, error) {
	var out json.RawMessage
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bktMeta).Get(key)
		if v == nil {
			return ErrNotFound
		}
		out = slices.Clone(v)
		return nil
	})
	return out, opErr(op, err)
}

func putJSON(db *bolt.DB, op string, bucket, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return opErr(op, err)
	}
	return opErr(op, db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key, b) }))
}

func getJSON(db *bolt.DB, op string, bucket, key []byte, v any) error {
	return opErr(op, db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket).Get(key)
		if b == nil {
			return ErrNotFound
		}
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("%s: stored value is malformed: %w", key, err)
		}
		return nil
	}))
}
