// Command imsid is the device-side connectivity manager: it drives the
// cellular modem, picks the IMSI profile and serves the local API.
// `imsid --config FILE` runs against a real modem; `imsid --simulate
// [SCENARIO]` runs the same service against the built-in simulator on a
// pseudo-terminal. See docs/operations.md.
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
	// After the first signal, a second one kills at once, should a clean
	// shutdown ever hang.
	context.AfterFunc(ctx, stop)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, reload)
	stop()
	os.Exit(code)
}
