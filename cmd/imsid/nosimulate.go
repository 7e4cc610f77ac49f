//go:build nosimulate

package main

// A build with -tags nosimulate has no simulator: scripts/cross.sh leaves
// it out of imsid for linux/mipsle, where it is what takes the binary over
// its 10 MiB limit (docs/shipping.md). --simulate and --list-scenarios fail
// here, saying so.

import (
	"context"
	"fmt"
	"io"
)

const noSimulator = "this imsid was built without the simulator (-tags nosimulate, to fit a gateway's flash: docs/shipping.md)\n" +
	"  try imsid out on a PC build (make build; imsid --simulate), or run modemsim beside this imsid and point it at the pty:\n" +
	"  modemsim --scenario FILE --link /tmp/modem & imsid --config FILE --device /tmp/modem"

func runSimulated(_ context.Context, _ *options, _, stderr io.Writer, _ <-chan struct{}) int {
	fmt.Fprintln(stderr, "imsid: --simulate:", noSimulator)
	return exitUsage
}

func listScenarios(_ io.Writer, stderr io.Writer) int {
	fmt.Fprintln(stderr, "imsid: --list-scenarios:", noSimulator)
	return exitUsage
}
