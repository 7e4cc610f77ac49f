package demo

import (
	"os/exec"
	"syscall"
)

// dieWithUs makes the kernel stop the daemon if the demo dies without
// stopping it (killed, or a closed pipe on its output).
func dieWithUs(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
