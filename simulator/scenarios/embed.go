// Package scenarios holds the simulator's scenario files, embedded so
// imsid --simulate runs from any directory and from an installed package.
package scenarios

import (
	"bufio"
	"bytes"
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// Names are the embedded scenarios, without ".yaml", sorted.
func Names() []string {
	ents, _ := fs.ReadDir(files, ".")
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Lookup finds an embedded scenario by name: "basic", "basic.yaml" or the
// repository path "simulator/scenarios/basic.yaml". It returns the file
// name and contents.
func Lookup(name string) (string, []byte, bool) {
	dir, base := path.Split(name)
	if dir != "" && !strings.HasSuffix(dir, "simulator/scenarios/") {
		return "", nil, false
	}
	if !strings.HasSuffix(base, ".yaml") {
		base += ".yaml"
	}
	b, err := files.ReadFile(base)
	if err != nil {
		return "", nil, false
	}
	return base, b, true
}

// Summary is the first sentence of a scenario's leading comment.
func Summary(name string) string {
	_, b, ok := Lookup(name)
	if !ok {
		return ""
	}
	var text []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l, ok := strings.CutPrefix(sc.Text(), "#")
		if !ok {
			break
		}
		text = append(text, strings.TrimSpace(l))
	}
	s := strings.Join(text, " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return s
}
