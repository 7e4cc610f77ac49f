// Package ptyport serves a connection handler on a pseudo-terminal and
// emulates a USB serial port that can vanish and come back.
//
// The pty master is opened pollable (non-blocking), so closing it makes a
// client's blocked Read on the slave fail at once, the way an unplugged USB
// modem does. While the port is down the stable symlink (the analogue of
// /dev/serial/by-id/...) disappears; when it comes back it may sit on a new
// /dev/pts/N, like ttyUSB2 re-enumerating as ttyUSB5.
//
// Like a real USB serial port, bytes the device sends while no client has the
// port open are lost, and bytes a client leaves unread are discarded when it
// closes the port.
package ptyport
