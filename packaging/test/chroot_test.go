package packagetest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDebInChroot installs the .deb into a clean Debian (debootstrap
// --variant=minbase bookworm) with dpkg and checks what an operator gets:
// the maintainer scripts succeed without systemd running (a chroot), the
// user exists and owns the state directory, deb-systemd-helper knows the
// unit, and the shipped config is either valid or refused with its reason
// by `imsictl config validate` (the .ipk's config too, with the chroot's
// imsictl). Then the daemon is started as user imsid with that config, and
// the package is reinstalled (upgrade path), removed and purged.
//
// Needs root, debootstrap and the Debian mirror, and takes minutes the first
// time, so it runs only with IMSID_CHROOT_TEST=1. The base system is cached
// in IMSID_CHROOT_CACHE (default /tmp/imsid-chroot-cache/bookworm-minbase)
// and copied for each run; IMSID_CHROOT_MIRROR overrides the mirror.
func TestDebInChroot(t *testing.T) {
	if os.Getenv("IMSID_CHROOT_TEST") != "1" {
		t.Skip("set IMSID_CHROOT_TEST=1 to install the .deb into a debootstrap'd Debian chroot (root, network, minutes)")
	}
	if os.Geteuid() != 0 {
		t.Skip("IMSID_CHROOT_TEST=1 needs root (chroot, dpkg)")
	}
	for _, c := range []string{"debootstrap", "chroot", "cp"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("IMSID_CHROOT_TEST=1 needs %s (apt-get install debootstrap)", c)
		}
	}
	deb := builtPackage(t, ".deb")
	ipk := builtPackage(t, ".ipk")

	base := os.Getenv("IMSID_CHROOT_CACHE")
	if base == "" {
		base = "/tmp/imsid-chroot-cache/bookworm-minbase"
	}
	if _, err := os.Stat(filepath.Join(base, "usr/bin/dpkg")); err != nil {
		mirror := os.Getenv("IMSID_CHROOT_MIRROR")
		if mirror == "" {
			mirror = "http://deb.debian.org/debian"
		}
		t.Logf("debootstrap --variant=minbase bookworm %s %s (minutes)", base, mirror)
		tmp := base + ".tmp"
		_ = os.RemoveAll(tmp)
		if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "debootstrap", "--variant=minbase", "bookworm", tmp, mirror).CombinedOutput()
		if err != nil {
			t.Fatalf("debootstrap: %v\n%s", err, tail(out, 40))
		}
		if err := os.Rename(tmp, base); err != nil {
			t.Fatal(err)
		}
	}
	scratch, err := os.MkdirTemp("", "imsid-chroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(scratch) })
	root := filepath.Join(scratch, "root")
	if out, err := exec.Command("cp", "-a", base, root).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s: %v\n%s", base, err, out)
	}
	// in runs a command in the chroot and returns its output and exit code.
	in := func(args ...string) (string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "chroot", append([]string{root}, args...)...)
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive"}
		out, err := cmd.CombinedOutput()
		code := 0
		if err != nil {
			code = -1
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
		}
		t.Logf("chroot# %s  -> exit %d\n%s", strings.Join(args, " "), code, indent(out))
		return string(out), code
	}
	copyIn := func(src, dst string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyIn(deb, "tmp/imsid.deb")

	if _, code := in("dpkg", "-i", "/tmp/imsid.deb"); code != 0 {
		t.Fatalf("dpkg -i in a clean Debian chroot: exit %d", code)
	}
	if out, code := in("dpkg-query", "-W", "-f", "${Status} ${Version}", "imsid"); code != 0 || out != "install ok installed "+version {
		t.Errorf("dpkg-query: %q, want installed %s", out, version)
	}
	if out, code := in("getent", "passwd", "imsid"); code != 0 || !strings.HasPrefix(out, "imsid:") {
		t.Errorf("no imsid user after install: %q", out)
	}
	if out, _ := in("stat", "-c", "%U:%G %a", "/var/lib/imsid", "/etc/imsid", "/etc/imsid/imsid.yaml"); out != "imsid:imsid 750\nroot:imsid 750\nroot:imsid 640\n" {
		t.Errorf("ownership after install:\n%s", out)
	}
	// deb-systemd-helper's state (it refuses to answer outside dpkg).
	dshState := filepath.Join(root, "var/lib/systemd/deb-systemd-helper-enabled/imsid.service.dsh-also")
	if _, err := os.Stat(dshState); err != nil {
		t.Errorf("deb-systemd-helper does not know imsid.service (update-state): %v", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/imsid.service")); err == nil {
		t.Error("the install enabled imsid.service; the config must be edited first")
	}

	// The completion loads in the chroot's bash; the docs are where dpkg put them.
	if _, code := in("bash", "-c", ". /usr/share/bash-completion/completions/imsictl && complete -p imsictl"); code != 0 {
		t.Error("the installed bash completion does not load")
	}
	for _, doc := range []string{"usr/share/doc/imsid/copyright", "usr/share/doc/imsid/changelog.gz", "usr/share/man/man8/imsid.8.gz", "usr/share/man/man1/imsictl.1.gz"} {
		if _, err := os.Stat(filepath.Join(root, doc)); err != nil {
			t.Errorf("/%s: %v", doc, err)
		}
	}

	// The shipped config: valid, or refused with a reason naming the line.
	out, code := in("imsictl", "config", "validate", "/etc/imsid/imsid.yaml")
	switch {
	case code == 0 && strings.Contains(out, "valid"):
		t.Logf("RESULT .deb config: valid: %s", strings.TrimSpace(out))
	case code != 0 && strings.Contains(out, "imsid.yaml:"):
		t.Logf("RESULT .deb config: refused with a reason: %s", strings.TrimSpace(out))
	default:
		t.Errorf("imsictl config validate /etc/imsid/imsid.yaml: exit %d, neither valid nor a reason at a line:\n%s", code, out)
	}
	// The .ipk's config, with the same imsictl.
	ipkConf := extractIPKConfig(t, ipk)
	if err := os.WriteFile(filepath.Join(root, "tmp/imsid-openwrt.yaml"), ipkConf, 0o640); err != nil {
		t.Fatal(err)
	}
	out, code = in("imsictl", "config", "validate", "/tmp/imsid-openwrt.yaml")
	switch {
	case code == 0 && strings.Contains(out, "valid"):
		t.Logf("RESULT .ipk config: valid: %s", strings.TrimSpace(out))
	case code != 0 && strings.Contains(out, "imsid-openwrt.yaml:"):
		t.Logf("RESULT .ipk config: refused with a reason: %s", strings.TrimSpace(out))
	default:
		t.Errorf("imsictl config validate (the .ipk's config): exit %d, neither valid nor a reason at a line:\n%s", code, out)
	}

	// Start it as the unit would (user imsid, the shipped config): with no
	// modem in the chroot it must either run (waiting for the modem) or stop
	// with a reason, not crash.
	started := startInChroot(t, root)
	t.Logf("RESULT start as imsid: %s", started)

	// Reinstall (dpkg runs the upgrade path: prerm upgrade, postinst
	// configure <old-version>), remove, purge.
	if _, code := in("dpkg", "-i", "/tmp/imsid.deb"); code != 0 {
		t.Errorf("dpkg -i over the installed package: exit %d", code)
	}
	if _, code := in("dpkg", "-r", "imsid"); code != 0 {
		t.Errorf("dpkg -r imsid: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/imsid/imsid.yaml")); err != nil {
		t.Errorf("remove deleted the conffile: %v", err)
	}
	// Removed but not purged: masked, so the leftover config is not started.
	mask := filepath.Join(root, "etc/systemd/system/imsid.service")
	if l, err := os.Readlink(mask); err != nil || l != "/dev/null" {
		t.Errorf("after remove imsid.service is not masked: %q %v", l, err)
	}
	if _, code := in("dpkg", "-P", "imsid"); code != 0 {
		t.Errorf("dpkg -P imsid: exit %d", code)
	}
	for _, gone := range []string{"var/lib/imsid", "etc/imsid/imsid.yaml", "usr/bin/imsid"} {
		if _, err := os.Lstat(filepath.Join(root, gone)); err == nil {
			t.Errorf("/%s still there after purge", gone)
		}
	}
	if _, err := os.Lstat(dshState); err == nil {
		t.Error("deb-systemd-helper still knows imsid.service after purge")
	}
	if _, err := os.Lstat(mask); err == nil {
		t.Error("imsid.service still masked after purge")
	}
}

// startInChroot runs /usr/bin/imsid --config /etc/imsid/imsid.yaml in the
// chroot as user imsid for up to 8 s and says what happened.
func startInChroot(t *testing.T, root string) string {
	t.Helper()
	// The daemon's runtime directory (the unit's RuntimeDirectory=).
	_ = os.MkdirAll(filepath.Join(root, "run/imsid"), 0o750)
	if out, err := exec.Command("chroot", root, "chown", "imsid:imsid", "/run/imsid").CombinedOutput(); err != nil {
		t.Logf("chown /run/imsid: %v %s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "chroot", "--userspec=imsid:imsid", root, "/usr/bin/imsid", "--config", "/etc/imsid/imsid.yaml")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	out := strings.TrimSpace(buf.String())
	t.Logf("chroot --userspec=imsid:imsid imsid --config /etc/imsid/imsid.yaml:\n%s", indent([]byte(out)))
	if ctx.Err() != nil {
		return "still running after 8 s (waiting for the modem), stopped by the test"
	}
	if err == nil {
		return "exited 0"
	}
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if out == "" {
		t.Errorf("imsid exited %d without saying why", code)
	}
	lines := strings.Split(out, "\n")
	return "exited " + strconv.Itoa(code) + ": " + lines[len(lines)-1]
}

func extractIPKConfig(t *testing.T, ipk string) []byte {
	t.Helper()
	raw, err := os.ReadFile(ipk)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := readTGZ(raw)
	if err != nil {
		t.Fatal(err)
	}
	data, err := readTGZ(outer["data.tar.gz"].body)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := data["etc/imsid/imsid.yaml"]
	if !ok {
		t.Fatal("the .ipk has no /etc/imsid/imsid.yaml")
	}
	return e.body
}

func tail(b []byte, n int) string {
	l := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func indent(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
