// Package packagetest checks the packages that `make package` builds: the
// amd64 .deb (unpacked into a scratch root: files, modes, maintainer
// scripts, the systemd unit) and the OpenWrt .ipk (read with archive/tar:
// files, modes, control fields, the procd init script and the maintainer
// scripts run against stand-ins for OpenWrt's rc.common and functions.sh).
package packagetest

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const version = "9.8.7-test"

// One build of both amd64 packages serves every test in the binary.
var build struct {
	once sync.Once
	dist string
	out  []byte
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dist != "" {
		_ = os.RemoveAll(build.dist)
	}
	os.Exit(code)
}

// builtPackage runs scripts/package.sh for amd64 (deb and ipk) into a
// scratch DIST, once, and returns the path of the package whose name ends
// in ext (".deb", ".ipk").
func builtPackage(t *testing.T, ext string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds binaries and packages (~30 s); skipped with -short")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	build.once.Do(func() {
		build.dist, build.err = os.MkdirTemp("", "imsid-package-test-")
		if build.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts/package.sh"), version, "amd64")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "DIST="+build.dist, "PACKAGERS=deb ipk")
		build.out, build.err = cmd.CombinedOutput()
	})
	if build.err != nil {
		// nfpm comes through the module proxy; offline, that is not the
		// package's fault.
		if bytes.Contains(build.out, []byte("proxy.golang.org")) || bytes.Contains(build.out, []byte("dial tcp")) {
			t.Skipf("nfpm could not be fetched (offline?):\n%s", build.out)
		}
		t.Fatalf("scripts/package.sh: %v\n%s", build.err, build.out)
	}
	pkgs, _ := filepath.Glob(filepath.Join(build.dist, "packages", "*"+ext))
	if len(pkgs) != 1 {
		t.Fatalf("want one %s in %s/packages, got %v\n%s", ext, build.dist, pkgs, build.out)
	}
	return pkgs[0]
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestDeb(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not installed")
	}
	deb := builtPackage(t, ".deb")

	t.Run("control", func(t *testing.T) {
		fields := map[string]string{}
		sc := bufio.NewScanner(strings.NewReader(run(t, "dpkg-deb", "-f", deb)))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ": "); ok && !strings.HasPrefix(k, " ") {
				fields[k] = v
			}
		}
		for k, want := range map[string]string{"Package": "imsid", "Architecture": "amd64", "Version": version} {
			if fields[k] != want {
				t.Errorf("control %s = %q, want %q", k, fields[k], want)
			}
		}
		ctl := t.TempDir()
		run(t, "dpkg-deb", "-e", deb, ctl)
		conf, err := os.ReadFile(filepath.Join(ctl, "conffiles"))
		if err != nil || !strings.Contains(string(conf), "/etc/imsid/imsid.yaml") {
			t.Errorf("conffiles = %q (%v), want /etc/imsid/imsid.yaml: an upgrade must keep the operator's config", conf, err)
		}
		for _, s := range []string{"postinst", "prerm", "postrm"} {
			p := filepath.Join(ctl, s)
			fi, err := os.Stat(p)
			if err != nil {
				t.Errorf("maintainer script %s: %v", s, err)
				continue
			}
			if fi.Mode().Perm()&0o111 == 0 {
				t.Errorf("%s mode %v, want executable", s, fi.Mode())
			}
			if out, err := exec.Command("sh", "-n", p).CombinedOutput(); err != nil {
				t.Errorf("sh -n %s: %v\n%s", s, err, out)
			}
		}
		post, _ := os.ReadFile(filepath.Join(ctl, "postinst"))
		for _, want := range []string{"systemd-sysusers", "chown imsid:imsid /var/lib/imsid"} {
			if !bytes.Contains(post, []byte(want)) {
				t.Errorf("postinst lacks %q", want)
			}
		}
	})

	root := t.TempDir()
	run(t, "dpkg-deb", "-x", deb, root)

	t.Run("files", func(t *testing.T) {
		want := map[string]fs.FileMode{
			"usr/bin/imsid":                        0o755,
			"usr/bin/imsictl":                      0o755,
			"etc/imsid":                            fs.ModeDir | 0o750,
			"etc/imsid/imsid.yaml":                 0o640,
			"var/lib/imsid":                        fs.ModeDir | 0o750,
			"usr/lib/systemd/system/imsid.service": 0o644,
			"usr/lib/sysusers.d/imsid.conf":        0o644,
			"usr/lib/tmpfiles.d/imsid.conf":        0o644,
			"usr/share/doc/imsid/examples/imsid.service.d/uart.conf": 0o644,
		}
		for p, mode := range want {
			fi, err := os.Lstat(filepath.Join(root, p))
			if err != nil {
				t.Errorf("/%s: %v", p, err)
				continue
			}
			if got := fi.Mode() & (fs.ModeType | fs.ModePerm); got != mode {
				t.Errorf("/%s mode %v, want %v", p, got, mode)
			}
		}
		// The package ships no world-writable file and nothing outside its paths.
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, _ := d.Info()
			if fi.Mode().Perm()&0o002 != 0 {
				t.Errorf("%s is world-writable", p)
			}
			return nil
		})
		sysusers, _ := os.ReadFile(filepath.Join(root, "usr/lib/sysusers.d/imsid.conf"))
		if !bytes.Contains(sysusers, []byte("u imsid")) {
			t.Errorf("sysusers.d/imsid.conf does not create the imsid user:\n%s", sysusers)
		}
		// The shipped config is the example, and the binary's version is the package's.
		ex, _ := os.ReadFile("../../examples/imsid.yaml")
		got, _ := os.ReadFile(filepath.Join(root, "etc/imsid/imsid.yaml"))
		if !bytes.Equal(ex, got) {
			t.Error("/etc/imsid/imsid.yaml differs from examples/imsid.yaml")
		}
		out := run(t, filepath.Join(root, "usr/bin/imsid"), "--version")
		if !strings.Contains(out, version) {
			t.Errorf("imsid --version = %q, want it to name %s", out, version)
		}
	})

	t.Run("unit", func(t *testing.T) {
		unit, err := os.ReadFile(filepath.Join(root, "usr/lib/systemd/system/imsid.service"))
		if err != nil {
			t.Fatal(err)
		}
		var execStart, user string
		for _, l := range strings.Split(string(unit), "\n") {
			if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
				execStart = v
			}
			if v, ok := strings.CutPrefix(l, "User="); ok {
				user = v
			}
		}
		bin, _, _ := strings.Cut(execStart, " ")
		if fi, err := os.Stat(filepath.Join(root, bin)); err != nil || fi.Mode().Perm()&0o111 == 0 {
			t.Errorf("ExecStart=%s: the package does not ship that executable (%v)", execStart, err)
		}
		if cfg := strings.TrimSpace(strings.TrimPrefix(execStart, bin)); cfg != "" {
			if f := strings.Fields(cfg); len(f) == 2 && f[0] == "--config" {
				if _, err := os.Stat(filepath.Join(root, f[1])); err != nil {
					t.Errorf("ExecStart names config %s, which the package does not ship", f[1])
				}
			}
		}
		if user != "imsid" {
			t.Errorf("User=%q, want imsid (the sysusers.d user)", user)
		}
		if _, err := exec.LookPath("systemd-analyze"); err != nil {
			t.Log("systemd-analyze not installed; unit syntax not verified")
			return
		}
		// Verified on this host, with ExecStart= pointing into the scratch
		// root (systemd-analyze checks that it is executable); the unit's
		// user does not exist here, which is not the unit's fault.
		tmp := filepath.Join(t.TempDir(), "imsid.service")
		fixed := strings.Replace(string(unit), "ExecStart="+bin, "ExecStart="+filepath.Join(root, bin), 1)
		if err := os.WriteFile(tmp, []byte(fixed), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("systemd-analyze", "verify", "--man=no", tmp).CombinedOutput()
		for _, l := range strings.Split(string(out), "\n") {
			if l != "" {
				t.Logf("systemd-analyze: %s", l)
			}
		}
		if err != nil && bytes.Contains(out, []byte("imsid.service:")) {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})
}
