// Command fsmdiagram regenerates the lifecycle diagram in docs/switcher.md
// from the switcher's transition table.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/imsid/imsid/switcher"
)

func main() {
	doc := flag.String("doc", "docs/switcher.md", "the document holding the generated diagram")
	flag.Parse()
	old, err := os.ReadFile(*doc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fsmdiagram:", err)
		os.Exit(1)
	}
	out, err := switcher.SpliceDiagram(old)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fsmdiagram:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*doc, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "fsmdiagram:", err)
		os.Exit(1)
	}
}
