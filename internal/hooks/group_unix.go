//go:build unix

package hooks

import (
	"os/exec"
	"syscall"
	"time"
)

// setGroup puts the hook in its own process group and makes the timeout
// kill the whole group: a hook that started a child (udhcpc, nmcli) does
// not leave it running, nor holding the output pipe open.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	// A grandchild that escaped the group may still hold the pipes: stop
	// waiting for them soon after the kill.
	cmd.WaitDelay = 2 * time.Second
}
