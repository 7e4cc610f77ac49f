package main

import (
	"context"
	"io"

	"go.bug.st/serial"
)

// portOpener opens the modem's AT port.
type portOpener func(ctx context.Context, path string, baud int) (io.ReadWriteCloser, error)

// openSerial opens a real serial port. No read timeout is set: a timed-out
// read returns (0, nil), which the driver tolerates but which would make
// warthog618's own reader give up after 100 of them (reference §6.1).
func openSerial(_ context.Context, path string, baud int) (io.ReadWriteCloser, error) {
	return serial.Open(path, &serial.Mode{BaudRate: baud})
}
