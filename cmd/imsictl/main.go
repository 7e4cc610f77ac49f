// Command imsictl is the operator's CLI for imsid: it inspects and drives a
// cellular modem (today: probe) without the service running.
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
