package profiles

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEConfig keeps the configuration the README shows a newcomer
// valid: it is the first thing they copy.
func TestREADMEConfig(t *testing.T) {
	doc, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md shows no yaml block")
	}
	for _, b := range blocks {
		// The README indents the block inside a numbered list.
		var lines []string
		for _, l := range strings.Split(string(b[1]), "\n") {
			lines = append(lines, strings.TrimPrefix(l, "   "))
		}
		if _, err := Parse("README.md", []byte(strings.Join(lines, "\n"))); err != nil {
			t.Errorf("README config does not load:\n%v", err)
		}
	}
}
