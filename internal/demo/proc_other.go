//go:build !linux

package demo

import "os/exec"

// dieWithUs: only Linux can tie the daemon's life to the demo's.
func dieWithUs(*exec.Cmd) {}
