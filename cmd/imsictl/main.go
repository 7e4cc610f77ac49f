// Command imsictl is the operator's CLI for imsid: it shows and drives the
// daemon over its HTTP API (unix socket by default, TCP with a token), and
// probes a modem directly when the daemon is not running.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// version is set by the build (-X main.version=...).
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
