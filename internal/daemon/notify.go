package daemon

import (
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
)

// Notifier receives sd_notify(3) states: READY=1, STATUS=..., WATCHDOG=1,
// STOPPING=1.
type Notifier interface {
	Notify(state string) error
}

// SystemdNotifier writes to $NOTIFY_SOCKET; without it (not under systemd)
// every call is a no-op.
type SystemdNotifier struct{}

// Notify implements Notifier.
func (SystemdNotifier) Notify(state string) error {
	_, err := sd.SdNotify(false, state)
	return err
}

// systemdWatchdog is the ping deadline systemd asked for (WatchdogSec), or 0.
func systemdWatchdog() time.Duration {
	d, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		return 0
	}
	return d
}
