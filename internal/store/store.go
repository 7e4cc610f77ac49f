package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FileName is the database's name inside the state directory.
const FileName = "state.db"

// Sentinel errors.
var (
	// ErrLocked means another process (or another Store in this one) holds
	// the file; a second daemon must not share the state.
	ErrLocked = errors.New("store: state file is locked by another process")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("store: closed")
	// ErrNotFound means the record asked for does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrTooLarge means one value exceeds a configured bound by itself.
	ErrTooLarge = errors.New("store: value exceeds the bound")
	// ErrInvalid means the caller passed a record that cannot be stored.
	ErrInvalid = errors.New("store: invalid record")
)

// OpError wraps a failure with the operation that hit it.
type OpError struct {
	Op  string
	Err error
}

func (e *OpError) Error() string { return "store: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *OpError) Unwrap() error { return e.Err }

func opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		err = ErrClosed
	}
	return &OpError{Op: op, Err: err}
}

// Defaults for the bounds.
const (
	DefaultOutboxMax      = 10000
	DefaultOutboxMaxBytes = 16 << 20
	DefaultDecisionMax    = 1000
	DefaultJournalMax     = 1000
	DefaultLockTimeout    = 2 * time.Second
)

type options struct {
	lockTimeout    time.Duration
	logger         *slog.Logger
	outboxMax      int
	outboxMaxBytes int64
	decisionMax    int
	journalMax     int
	now            func() time.Time
}

// Option configures Open.
type Option func(*options)

// WithLockTimeout bounds the wait for the file lock (default 2 s).
func WithLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithOutboxLimit bounds the outbox by item count and total bytes; a value
// <= 0 keeps the default. Beyond either bound the oldest items are dropped.
func WithOutboxLimit(count int, bytes int64) Option {
	return func(o *options) {
		if count > 0 {
			o.outboxMax = count
		}
		if bytes > 0 {
			o.outboxMaxBytes = bytes
		}
	}
}

// WithDecisionLimit bounds the decision log (default 1000 entries).
func WithDecisionLimit(n int) Option { return func(o *options) { o.decisionMax = n } }

// WithJournalLimit bounds the finished switch journal entries kept (default
// 1000); unfinished intents are never pruned.
func WithJournalLimit(n int) Option { return func(o *options) { o.journalMax = n } }

// WithClock sets the time source used to name a moved-aside corrupt file.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

var (
	bktMeta      = []byte("meta")
	bktQuar      = []byte("quarantines")
	bktUsage     = []byte("usage")
	bktJournal   = []byte("journal")
	bktDecisions = []byte("decisions")
	bktOutbox    = []byte("outbox")

	allBuckets = [][]byte{bktMeta, bktQuar, bktUsage, bktJournal, bktDecisions, bktOutbox}

	keyActive     = []byte("active")
	keyPin        = []byte("pin")
	keyBaseline   = []byte("baseline")
	keyLedger     = []byte("ledger")
	keySnapshot   = []byte("snapshot")
	keyAdvisories = []byte("advisories")
	keyRequest    = []byte("manual_request")
	keyDeviceID   = []byte("device_id")
	keyDropped    = []byte("outbox_dropped")
	keySchema     = []byte("schema")
)

const schemaVersion = 1

// Store is the device's state file. Its methods are safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
	opts options
	log  *slog.Logger

	recovered string

	closeOnce sync.Once
	closeErr  error

	// mu guards the outbox counters, which mirror the bucket so Len and
	// Dropped never need a transaction.
	mu          sync.Mutex
	outLen      int
	outBytes    int64
	outDropped  uint64
	decisionLen int
}

// Open opens (creating if needed) the state file in dir. A file that is not
// a readable bbolt database is renamed to state.db.corrupt-<time> and a fresh
// one is created; Recovered reports it. A file held by another process fails
// with ErrLocked after the lock timeout instead of hanging.
func Open(dir string, opts ...Option) (*Store, error) {
	o := options{
		lockTimeout:    DefaultLockTimeout,
		logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		outboxMax:      DefaultOutboxMax,
		outboxMaxBytes: DefaultOutboxMaxBytes,
		decisionMax:    DefaultDecisionMax,
		journalMax:     DefaultJournalMax,
		now:            time.Now,
	}
	for _, f := range opts {
		f(&o)
	}
	if o.lockTimeout <= 0 {
		// bbolt treats 0 as "wait forever", which would wedge start-up.
		o.lockTimeout = DefaultLockTimeout
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, opErr("open", err)
	}
	s := &Store{path: filepath.Join(dir, FileName), opts: o, log: o.logger}

	db, err := s.openChecked()
	if err != nil && isCorrupt(err) {
		aside := fmt.Sprintf("%s.corrupt-%s", s.path, o.now().UTC().Format("20060102T150405.000000000Z"))
		s.log.Error("state file is unreadable; moving it aside and starting fresh",
			"path", s.path, "moved_to", aside, "err", err)
		if rerr := os.Rename(s.path, aside); rerr != nil {
			return nil, opErr("open", fmt.Errorf("%w (and moving it aside failed: %v)", err, rerr))
		}
		syncDir(dir)
		s.recovered = aside
		db, err = s.openChecked()
	}
	if err != nil {
		return nil, opErr("open", err)
	}
	s.db = db
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, opErr("open", err)
	}
	return s, nil
}

// corruptError marks a failure that means the file's content is bad, as
// opposed to a lock or permission problem the operator must fix.
type corruptError struct{ err error }

func (e corruptError) Error() string { return "corrupt state file: " + e.err.Error() }
func (e corruptError) Unwrap() error { return e.err }

func isCorrupt(err error) bool {
	var c corruptError
	return errors.As(err, &c)
}

func (s *Store) openChecked() (db *bolt.DB, err error) {
	defer func() {
		// bbolt can panic on some malformed pages; that is a corrupt file.
		if r := recover(); r != nil {
			if db != nil {
				_ = db.Close()
			}
			db, err = nil, corruptError{fmt.Errorf("panic while opening: %v", r)}
		}
	}()
	db, err = bolt.Open(s.path, 0o600, &bolt.Options{Timeout: s.opts.lockTimeout})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("%w: %s (timeout %s)", ErrLocked, s.path, s.opts.lockTimeout)
	case errors.Is(err, os.ErrPermission), errors.Is(err, os.ErrNotExist):
		return nil, err
	case err != nil:
		return nil, corruptError{err}
	}
	if err := db.View(func(tx *bolt.Tx) error {
		for cerr := range tx.Check() {
			return cerr
		}
		return nil
	}); err != nil {
		_ = db.Close()
		return nil, corruptError{err}
	}
	return db, nil
}

func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bktMeta)
		if v := meta.Get(keySchema); v == nil {
			if err := meta.Put(keySchema, u64(schemaVersion)); err != nil {
				return err
			}
		} else if len(v) != 8 || binary.BigEndian.Uint64(v) > schemaVersion {
			return fmt.Errorf("state file schema %x is newer than this build understands (%d)", v, schemaVersion)
		}
		if v := meta.Get(keyDropped); len(v) == 8 {
			s.outDropped = binary.BigEndian.Uint64(v)
		}
		c := tx.Bucket(bktOutbox).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			s.outLen++
			s.outBytes += int64(len(v))
		}
		s.decisionLen = tx.Bucket(bktDecisions).Stats().KeyN
		// Apply bounds that may have shrunk since the last run.
		return s.trimOutbox(tx, 0)
	})
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Recovered is the path a corrupt file was moved to by Open, or "".
func (s *Store) Recovered() string { return s.recovered }

// Close closes the file. It is idempotent and waits for running
// transactions to finish.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.db != nil {
			s.closeErr = opErr("close", s.db.Close())
		}
	})
	return s.closeErr
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}
