package packagetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// unitValues returns the values of key in section of a systemd unit file
// (or drop-in), in order.
func unitValues(t *testing.T, path, section, key string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	cur := ""
	for i, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "["):
			if !strings.HasSuffix(l, "]") {
				t.Errorf("%s:%d: bad section header %q", path, i+1, l)
			}
			cur = strings.Trim(l, "[]")
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				t.Errorf("%s:%d: not key=value: %q", path, i+1, l)
				continue
			}
			if cur == "" {
				t.Errorf("%s:%d: %s outside a section", path, i+1, k)
			}
			if cur == section && strings.TrimSpace(k) == key {
				out = append(out, strings.TrimSpace(v))
			}
		}
	}
	return out
}

var deviceAllowRE = regexp.MustCompile(`^(char-[A-Za-z0-9_]+|/dev/\S+) [rwm]+$`)

// allows: would these DeviceAllow= entries let the service open dev
// read-write? A char-NAME class covers the driver's nodes NAME<n>.
func allows(entries []string, dev string) bool {
	name := strings.TrimRight(filepath.Base(dev), "0123456789")
	for _, e := range entries {
		what, rights, _ := strings.Cut(e, " ")
		if !strings.Contains(rights, "r") || !strings.Contains(rights, "w") {
			continue
		}
		if what == dev || what == "char-"+name {
			return true
		}
	}
	return false
}

// TestUnitDeviceAllow: the unit opens USB modems only; the shipped drop-in
// (packaging/imsid-uart.conf) lets it open UART modems too (ttyS, ttymxc,
// ttyAMA, ttyHS), and systemd-analyze verifies the unit with it.
func TestUnitDeviceAllow(t *testing.T) {
	const unit, dropin = "../imsid.service", "../imsid-uart.conf"
	if p := unitValues(t, unit, "Service", "DevicePolicy"); len(p) != 1 || p[0] != "closed" {
		t.Errorf("DevicePolicy = %v, want closed", p)
	}
	base := unitValues(t, unit, "Service", "DeviceAllow")
	extra := unitValues(t, dropin, "Service", "DeviceAllow")
	for _, e := range append(append([]string{}, base...), extra...) {
		if !deviceAllowRE.MatchString(e) {
			t.Errorf("DeviceAllow=%s: want char-CLASS or /dev/PATH and rights", e)
		}
	}
	uarts := []string{"/dev/ttyS1", "/dev/ttymxc2", "/dev/ttyAMA0", "/dev/ttyHS1"}
	for _, d := range []string{"/dev/ttyUSB2", "/dev/ttyACM0"} {
		if !allows(base, d) {
			t.Errorf("the unit does not allow %s", d)
		}
	}
	for _, d := range uarts {
		if allows(base, d) {
			t.Errorf("the unit itself allows %s; UARTs are opt-in through the drop-in", d)
		}
		if !allows(append(base, extra...), d) {
			t.Errorf("with the drop-in, %s is still not allowed", d)
		}
	}
	if len(extra) == 0 {
		t.Fatal("the drop-in has no DeviceAllow= in [Service]")
	}
	// nfpm ships it where the unit's comment says.
	nfpm, _ := os.ReadFile("../nfpm.yaml")
	unitText, _ := os.ReadFile(unit)
	const where = "/usr/share/doc/imsid/examples/imsid.service.d/uart.conf"
	if !strings.Contains(string(nfpm), "dst: "+where) || !strings.Contains(string(unitText), where) {
		t.Errorf("the drop-in is not shipped as %s or the unit does not point at it", where)
	}

	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: the unit and the drop-in were parsed, not verified")
		return
	}
	sh, _ := exec.LookPath("sh")
	dir := t.TempDir()
	u, _ := os.ReadFile(unit)
	// verify checks that ExecStart= is executable: point it at one.
	fixed := strings.Replace(string(u), "ExecStart=/usr/bin/imsid", "ExecStart="+sh, 1)
	d, _ := os.ReadFile(dropin)
	if err := os.MkdirAll(filepath.Join(dir, "imsid.service.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "imsid.service"), []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "imsid.service.d", "uart.conf"), d, 0o644); err != nil {
		t.Fatal(err)
	}
	// SYSTEMD_UNIT_PATH makes verify read the drop-in directory beside the unit.
	cmd := exec.Command(sa, "verify", "--man=no", filepath.Join(dir, "imsid.service"))
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":")
	out, err := cmd.CombinedOutput()
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l == "" {
			continue
		}
		t.Logf("systemd-analyze: %s", l)
		if strings.Contains(l, "uart.conf") || strings.Contains(l, "imsid.service:") {
			t.Errorf("systemd-analyze verify: %s", l)
		}
	}
	if err != nil {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
