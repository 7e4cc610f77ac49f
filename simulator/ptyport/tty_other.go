//go:build !linux

package ptyport

import (
	"log/slog"
	"sync/atomic"
	"time"
)

type tty struct {
	path    string
	dropped atomic.Int64
}

func openTTY(bool, time.Duration, int, *slog.Logger) (*tty, error) { return nil, ErrUnsupported }

func (t *tty) Read([]byte) (int, error)         { return 0, ErrUnsupported }
func (t *tty) Write([]byte) (int, error)        { return 0, ErrUnsupported }
func (t *tty) unblockRead()                     {}
func (t *tty) SetReadDeadline(time.Time) error  { return ErrUnsupported }
func (t *tty) SetWriteDeadline(time.Time) error { return ErrUnsupported }
func (t *tty) resetReadDeadline()               {}
func (t *tty) drain(time.Duration)              {}
func (t *tty) Close() error                     { return nil }
