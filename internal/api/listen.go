package api

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrSocketInUse: another live process answers on the socket path.
var ErrSocketInUse = errors.New("api: another daemon is listening on the socket")

// listenUnix binds path with mode. A stale socket file (nobody answering) is
// removed; a live one, or a path that is not a socket, is refused rather
// than stolen, so a second daemon cannot cut the first one off from
// imsictl.
func listenUnix(path string, mode fs.FileMode) (*net.UnixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("api: socket directory: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("api: %s exists and is not a socket (%s); refusing to replace it", path, fi.Mode().Type())
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("%w: %s (stop it first, or configure another api.socket)", ErrSocketInUse, path)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("api: %s: cannot tell whether it is stale: %w", path, err)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("api: removing stale socket: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("api: socket: %w", err)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("api: listen %s: %w", path, err)
	}
	// Between bind and chmod the file has the umask's mode; a socket needs
	// write permission to connect, and the usual umasks (022, 027, 077) deny
	// it to others, so that window grants nothing the final mode does not.
	if err := os.Chmod(path, mode); err != nil {
		l.Close()
		return nil, fmt.Errorf("api: chmod %s %04o: %w", path, mode, err)
	}
	return l, nil
}
