//go:build unix

package main

import (
	"net"
	"syscall"
)

// listenPrivate listens on a unix socket that is 0600 from its creation:
// the umask leaves no window in which another user could connect. Nothing
// else creates files while modemsim starts up.
func listenPrivate(path string) (net.Listener, error) {
	old := syscall.Umask(0o177)
	defer syscall.Umask(old)
	return net.Listen("unix", path)
}
