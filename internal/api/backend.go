package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/imsid/imsid/internal/api/wire"
)

// Backend is what the API needs from the daemon. Reads must not wait for the
// modem: they should answer from a view the daemon keeps up to date.
type Backend interface {
	Status(ctx context.Context) (Status, error)
	Profiles(ctx context.Context) ([]ProfileView, error)
	// Decisions returns, oldest first, at most q.Limit decisions with
	// Seq > q.After and Time >= q.Since (zero Since: no time bound).
	Decisions(ctx context.Context, q DecisionQuery) ([]Decision, error)
	// Subscribe streams events with ID > after, first replaying those it still
	// holds (after 0: only new events). The channel is closed when ctx ends,
	// cancel is called or the subscriber falls too far behind; it must never
	// block the daemon. Hub implements it.
	Subscribe(ctx context.Context, after uint64) (events <-chan Event, cancel func(), err error)
	// Switch, Pin and Unpin return a *RefusedError when the request is not
	// allowed now, saying why and, where it applies, from when.
	Switch(ctx context.Context, profile, reason string) (Ack, error)
	// Pin holds profile for d; 0 means until Unpin.
	Pin(ctx context.Context, profile string, d time.Duration) (Ack, error)
	Unpin(ctx context.Context) (Ack, error)
	// AckThreat is a person's acknowledgement of a latched tamper-class
	// Critical (an unprovisioned ICCID, a changed IMEI: a modem or SIM
	// swapped on purpose): the current IMEI and ICCID are accepted and the
	// episode ends. With nothing latched it is a no-op ("done").
	AckThreat(ctx context.Context, reason string) (Ack, error)
	// Ready is nil once the daemon can serve its purpose (modem initialised).
	Ready() error
}

// Errors a Backend may return (wrapped or not); the API maps them to status
// codes. Anything else is a 500.
var (
	// ErrRefused is wrapped by every *RefusedError (wire.ErrRefused).
	ErrRefused = wire.ErrRefused
	// ErrUnavailable: the daemon cannot answer now (starting, shutting down,
	// modem lost). 503.
	ErrUnavailable = errors.New("api: unavailable")
	// ErrClosed is returned by a closed Server or Hub.
	ErrClosed = errors.New("api: closed")
)

// ValidationError is a request field the API or the Backend rejects. 400.
type ValidationError struct {
	Field   string // JSON field or query parameter
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "invalid request: " + e.Message
	}
	return fmt.Sprintf("invalid request: %s: %s", e.Field, e.Message)
}

func profileList(ps []ProfileView) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func joinNames(names []string) string { return strings.Join(names, ", ") }
