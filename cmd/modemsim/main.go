// Command modemsim runs the simulated modem on a pseudo-terminal, so any AT
// client (imsid, picocom, warthog618's modeminfo) can talk to it as to a
// USB modem. See docs/modemsim.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, a second one kills at once, should a clean
	// shutdown ever hang.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
