package ptyport

import (
	"errors"
	"fmt"
	"time"
)

// ErrClosed is returned by Serve once the Port has been closed.
var ErrClosed = errors.New("ptyport: closed")

// ErrBusy is returned by Serve while another Serve runs on the same Port.
var ErrBusy = errors.New("ptyport: already serving")

// ErrUnsupported is returned by Open on systems without Linux-style ptys.
var ErrUnsupported = errors.New("ptyport: pseudo-terminals not supported on this system")

// PortDowner is implemented by errors a Handler returns to take the port
// away: Serve closes the pty, waits PortDownFor, and serves again on a new
// one. Any error in the chain may implement it (errors.As is used).
type PortDowner interface {
	PortDownFor() time.Duration
}

// DropError asks Serve to drop the port for Down, wrapping the handler's own
// error (for example one wrapping simulator.ErrPortDropped).
type DropError struct {
	Down time.Duration
	Err  error
}

// Drop returns an error that makes Serve drop the port for d.
func Drop(d time.Duration, cause error) error { return &DropError{Down: d, Err: cause} }

func (e *DropError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("ptyport: port dropped for %v", e.Down)
	}
	return fmt.Sprintf("ptyport: port dropped for %v: %v", e.Down, e.Err)
}

// PortDownFor implements PortDowner.
func (e *DropError) PortDownFor() time.Duration { return e.Down }

func (e *DropError) Unwrap() error { return e.Err }

// OpError records which operation on which path failed.
type OpError struct {
	Op   string // "open", "link", "serve", ...
	Path string
	Err  error
}

func (e *OpError) Error() string {
	if e.Path == "" {
		return "ptyport: " + e.Op + ": " + e.Err.Error()
	}
	return "ptyport: " + e.Op + " " + e.Path + ": " + e.Err.Error()
}

func (e *OpError) Unwrap() error { return e.Err }
