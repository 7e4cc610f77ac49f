//go:build !linux

package probe

import (
	"errors"
	"syscall"
)

func bindToDevice(string) func(network, address string, c syscall.RawConn) error {
	return func(string, string, syscall.RawConn) error {
		return errors.New("probe: binding to an interface needs Linux")
	}
}
