package apiclient

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/imsid/imsid/internal/api/wire"
)

// Sentinels a caller tests with errors.Is.
var (
	// ErrUnreachable: no connection to the daemon (not running, wrong socket
	// or URL, permission denied on the socket, no answer in time).
	ErrUnreachable = errors.New("apiclient: daemon unreachable")
	// ErrUnauthorized: the daemon wants a (different) bearer token.
	ErrUnauthorized = errors.New("apiclient: unauthorized")
	// ErrRefused: the daemon will not carry out the request now (the cap, a
	// quarantine, a pin, an unknown profile).
	ErrRefused = errors.New("apiclient: refused")
)

// UnreachableError says which target was tried and why it failed.
type UnreachableError struct {
	// Target is the socket path or URL tried.
	Target string
	// Reason classifies the failure: "not_running" (no socket file or
	// connection refused), "permission" (socket not accessible),
	// "timeout", or "network".
	Reason string
	Err    error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach imsid at %s: %v", e.Target, e.Err)
}

// Unwrap exposes the cause to errors.Is.
func (e *UnreachableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnreachable) hold.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// APIError is an error response from the daemon: the HTTP status and the
// body's wire.ErrorInfo.
type APIError struct {
	Op     string // "status", "switch", ...
	Status int
	Info   wire.ErrorInfo
}

func (e *APIError) Error() string {
	msg := e.Info.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Info.Code != "" {
		return fmt.Sprintf("%s: %s (%d %s)", e.Op, msg, e.Status, e.Info.Code)
	}
	return fmt.Sprintf("%s: %s (%d)", e.Op, msg, e.Status)
}

// Is maps the status onto the package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrRefused:
		return e.Refused()
	}
	return false
}

// Refused reports a request the daemon understood but will not carry out
// now (409, or 422 for an unknown profile).
func (e *APIError) Refused() bool {
	return e.Status == http.StatusConflict || e.Status == http.StatusUnprocessableEntity
}

// RetryAt is when the daemon said the request will be allowed, or zero.
func (e *APIError) RetryAt() time.Time {
	if e.Info.RetryAt == nil {
		return time.Time{}
	}
	return *e.Info.RetryAt
}
