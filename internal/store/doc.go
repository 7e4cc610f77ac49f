// Package store keeps the daemon's durable device state in one bbolt file:
// the active profile, pin, quarantines, usage, the threat site baseline, the
// switch journal, a bounded decision log and the upstream outbox.
//
// Every logical write is one fsync'd bbolt transaction, so a power cut leaves
// either the old or the new state, never a mix. A file that cannot be read is
// moved aside and a fresh one started, because a gateway must come back up.
// Values the daemon owns (usage ledgers, the baseline, decisions, events) are
// stored as the caller's JSON, opaque to this package.
package store
