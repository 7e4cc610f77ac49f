//go:build !unix

package hooks

import (
	"os/exec"
	"time"
)

func setGroup(cmd *exec.Cmd) { cmd.WaitDelay = 2 * time.Second }
