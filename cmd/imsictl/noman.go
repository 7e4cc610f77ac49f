//go:build noman

package main

// A build with -tags noman leaves out the man page generator (the hidden
// __man, internal/manpage): `make man` runs a native build, and the packages
// ship the generated page. scripts/cross.sh uses it for the gateway targets,
// where imsictl is at its size limit (docs/shipping.md).

import (
	"context"
	"fmt"
)

func runMan(_ context.Context, e *env, _ *globals, _ []string) int {
	fmt.Fprintln(e.stderr, "imsictl __man: this imsictl was built without the man page generator (-tags noman); make man uses a native build")
	return exitFail
}
