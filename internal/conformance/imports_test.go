package conformance

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules keeps the import direction the project is built on:
// cmd → internal → switcher → modem/profiles, modem knowing nothing of
// HTTP, policy or serial ports, and simulator and modem never importing
// each other (each side of the wire is written on its own).
func TestImportRules(t *testing.T) {
	const mod = "github.com/imsid/imsid/"
	out, err := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "../../...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	// forbidden[p] lists import prefixes package p (and its subpackages,
	// unless listed themselves) must not use in non-test code.
	forbidden := []struct {
		pkg, why string
		bad      []string
	}{
		{"modem", "the driver knows nothing of policy, HTTP, serial ports or the simulator",
			[]string{mod + "simulator", mod + "switcher", mod + "profiles", mod + "internal", mod + "cmd", "net/http", "go.bug.st/serial", "github.com/creack/pty"}},
		{"simulator", "the simulator is written independently of the driver",
			[]string{mod + "modem", mod + "switcher", mod + "profiles", mod + "internal", mod + "cmd"}},
		{"profiles", "profiles is pure data",
			[]string{mod + "modem", mod + "switcher", mod + "simulator", mod + "internal", mod + "cmd", "net/http"}},
		{"switcher", "the switcher never touches a port, HTTP or the daemon",
			[]string{mod + "internal", mod + "cmd", mod + "simulator", "net/http", "go.bug.st/serial", "github.com/creack/pty"}},
		{"internal/api/wire", "the wire types are what a client links: no server, no HTTP, no metrics",
			[]string{mod + "internal", mod + "switcher", mod + "modem", "net/http"}},
		{"internal", "daemon parts are below the commands",
			[]string{mod + "cmd"}},
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], mod) {
			continue
		}
		p := strings.TrimPrefix(f[0], mod)
		for _, r := range forbidden {
			if p != r.pkg && !strings.HasPrefix(p, r.pkg+"/") {
				continue
			}
			checked++
			for _, imp := range f[1:] {
				for _, b := range r.bad {
					if imp == b || strings.HasPrefix(imp, b+"/") {
						t.Errorf("%s imports %s: %s", f[0], imp, r.why)
					}
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d packages checked; is go list output as expected?\n%s", checked, out)
	}
}

// TestClientLinksNoServer keeps imsictl small (issue 12: ≤ 6 MiB stripped on
// the gateways): it speaks the API through internal/api/wire and
// internal/apiclient and must not link the server or the metrics stack.
func TestClientLinksNoServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../cmd/imsictl").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("only %d dependencies listed; is go list output as expected?\n%s", len(deps), out)
	}
	for _, d := range deps {
		l := strings.ToLower(d)
		if d == "github.com/imsid/imsid/internal/api" || strings.Contains(l, "metrics") || strings.Contains(l, "prometheus") {
			t.Errorf("cmd/imsictl links %s", d)
		}
	}
}
