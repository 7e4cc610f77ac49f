package packagetest

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imsid/imsid/profiles"
)

// tarEntry is one member of a tar archive, with its content.
type tarEntry struct {
	hdr  *tar.Header
	body []byte
}

// readTGZ reads a gzip-compressed tar into a map keyed by the member's name
// without a leading "./" (directories keep no trailing slash).
func readTGZ(data []byte) (map[string]tarEntry, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	tr := tar.NewReader(zr)
	out := map[string]tarEntry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("tar: %w", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("tar %s: %w", h.Name, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")
		if name == "" || name == "." {
			continue
		}
		out[name] = tarEntry{hdr: h, body: body}
	}
}

// initVars sources the init script in sh (assignments and function
// definitions only, as rc.common does) and returns its settings.
func initVars(t *testing.T, script string) map[string]string {
	t.Helper()
	out, err := exec.Command("sh", "testdata/rc.common", script, "vars").CombinedOutput()
	if err != nil {
		t.Fatalf("sourcing %s: %v\n%s", script, err, out)
	}
	vars := map[string]string{}
	for _, f := range strings.Fields(string(out)) {
		if k, v, ok := strings.Cut(f, "="); ok {
			vars[k] = v
		}
	}
	return vars
}

// TestIPK checks the OpenWrt package: an ipk as nfpm writes it is a
// gzip-compressed tar of debian-binary, control.tar.gz and data.tar.gz.
func TestIPK(t *testing.T) {
	ipk := builtPackage(t, ".ipk")
	raw, err := os.ReadFile(ipk)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := readTGZ(raw)
	if err != nil {
		t.Fatalf("%s is not a tar.gz ipk: %v", filepath.Base(ipk), err)
	}
	for _, m := range []string{"debian-binary", "control.tar.gz", "data.tar.gz"} {
		if _, ok := outer[m]; !ok {
			t.Fatalf("%s lacks %s (has %v)", filepath.Base(ipk), m, keys(outer))
		}
	}
	if got := string(outer["debian-binary"].body); got != "2.0\n" {
		t.Errorf("debian-binary = %q, want 2.0", got)
	}
	control, err := readTGZ(outer["control.tar.gz"].body)
	if err != nil {
		t.Fatalf("control.tar.gz: %v", err)
	}
	data, err := readTGZ(outer["data.tar.gz"].body)
	if err != nil {
		t.Fatalf("data.tar.gz: %v", err)
	}

	t.Run("control", func(t *testing.T) {
		fields := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(control["control"].body))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ": "); ok && !strings.HasPrefix(k, " ") {
				fields[k] = v
			}
		}
		for k, want := range map[string]string{"Package": "imsid", "Architecture": "x86_64", "Version": version} {
			if fields[k] != want {
				t.Errorf("control %s = %q, want %q", k, fields[k], want)
			}
		}
		// The binaries are static (CGO_ENABLED=0): nothing to depend on,
		// and a Depends on, say, libc would only block installs.
		if d, ok := fields["Depends"]; ok {
			t.Errorf("control Depends = %q; the static binaries need none", d)
		}
		for _, c := range []string{"/etc/imsid/imsid.yaml", "/etc/config/imsid"} {
			if !strings.Contains(string(control["conffiles"].body), c) {
				t.Errorf("conffiles = %q, want %s: an upgrade must keep the operator's config", control["conffiles"].body, c)
			}
		}
		scripts := t.TempDir()
		for _, s := range []string{"postinst", "prerm", "postrm"} {
			e, ok := control[s]
			if !ok {
				t.Errorf("control.tar.gz lacks %s", s)
				continue
			}
			if e.hdr.FileInfo().Mode().Perm()&0o111 == 0 {
				t.Errorf("%s mode %v, want executable", s, e.hdr.FileInfo().Mode())
			}
			p := filepath.Join(scripts, s)
			if err := os.WriteFile(p, e.body, 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("sh", "-n", p).CombinedOutput(); err != nil {
				t.Errorf("sh -n %s: %v\n%s", s, err, out)
			}
		}
		// The .ipk's own scripts, not the .deb's systemd ones.
		want, _ := os.ReadFile("../../scripts/package-ipk-postinst.sh")
		if !bytes.Equal(control["postinst"].body, want) {
			t.Error("postinst is not scripts/package-ipk-postinst.sh")
		}
	})

	t.Run("files", func(t *testing.T) {
		want := map[string]fs.FileMode{
			"usr/bin/imsid":            0o755,
			"usr/bin/imsictl":          0o755,
			"etc/imsid":                fs.ModeDir | 0o750,
			"etc/imsid/imsid.yaml":     0o640,
			"etc/imsid/state":          fs.ModeDir | 0o750,
			"etc/init.d/imsid":         0o755,
			"lib/upgrade/keep.d/imsid": 0o644,
			"etc/profile.d/imsictl.sh": 0o644,
			"etc/config/imsid":         0o644,
		}
		for p, mode := range want {
			e, ok := data[p]
			if !ok {
				t.Errorf("/%s: not in data.tar.gz", p)
				continue
			}
			if got := e.hdr.FileInfo().Mode() & (fs.ModeType | fs.ModePerm); got != mode {
				t.Errorf("/%s mode %v, want %v", p, got, mode)
			}
		}
		for name, e := range data {
			mode := e.hdr.FileInfo().Mode()
			if mode.Perm()&0o002 != 0 {
				t.Errorf("/%s is world-writable", name)
			}
			if e.hdr.Uid != 0 || e.hdr.Gid != 0 {
				t.Errorf("/%s owned by %d:%d, want root (the postinst sets the group)", name, e.hdr.Uid, e.hdr.Gid)
			}
			// /var is a tmpfs on OpenWrt: anything shipped there is gone
			// after a reboot. systemd files and docs only cost flash.
			for _, bad := range []string{"var", "run", "usr/lib/systemd", "usr/lib/sysusers.d", "usr/lib/tmpfiles.d", "usr/share/doc"} {
				if name == bad || strings.HasPrefix(name, bad+"/") {
					t.Errorf("/%s should not be in the .ipk", name)
				}
			}
		}
		for dst, src := range map[string]string{
			"etc/imsid/imsid.yaml": "../../examples/imsid-openwrt.yaml",
			"etc/init.d/imsid":     "../openwrt/imsid.init",
			"etc/config/imsid":     "../openwrt/imsid.uci",
		} {
			b, _ := os.ReadFile(src)
			if !bytes.Equal(b, data[dst].body) {
				t.Errorf("/%s differs from %s", dst, src)
			}
		}
		bin := filepath.Join(t.TempDir(), "imsid")
		if err := os.WriteFile(bin, data["usr/bin/imsid"].body, 0o755); err != nil {
			t.Fatal(err)
		}
		if out := run(t, bin, "--version"); !strings.Contains(out, version) {
			t.Errorf("imsid --version = %q, want it to name %s", out, version)
		}
	})

	// The init script, the config and the other files must agree on paths.
	t.Run("consistent", func(t *testing.T) {
		dir := t.TempDir()
		script := filepath.Join(dir, "imsid.init")
		conf := filepath.Join(dir, "imsid.yaml")
		_ = os.WriteFile(script, data["etc/init.d/imsid"].body, 0o755)
		_ = os.WriteFile(conf, data["etc/imsid/imsid.yaml"].body, 0o640)
		v := initVars(t, script)
		for _, k := range []string{"PROG", "CONFIG"} {
			if _, ok := data[strings.TrimPrefix(v[k], "/")]; !ok {
				t.Errorf("init script %s=%s: the package does not ship it", k, v[k])
			}
		}
		cfg, err := profiles.Load(conf)
		if err != nil {
			t.Fatalf("the shipped /etc/imsid/imsid.yaml does not load: %v", err)
		}
		// procd files all of stderr as daemon.err; the daemon writes to
		// logd itself, at each line's priority.
		if cfg.Log.Output != profiles.LogSyslog {
			t.Errorf("config log.output = %q, want syslog (procd would log every line as daemon.err)", cfg.Log.Output)
		}
		if cfg.StateDir != v["STATE_DIR"] {
			t.Errorf("config state_dir %q, init script makes %q", cfg.StateDir, v["STATE_DIR"])
		}
		if strings.HasPrefix(cfg.StateDir, "/var/") || strings.HasPrefix(cfg.StateDir, "/tmp/") {
			t.Errorf("config state_dir %q is in RAM on OpenWrt; the state would not survive a reboot", cfg.StateDir)
		}
		if d := filepath.Dir(cfg.API.Socket); d != v["RUN_DIR"] {
			t.Errorf("config api.socket %q is not in the init script's RUN_DIR %q", cfg.API.Socket, v["RUN_DIR"])
		}
		if !strings.Contains(string(data["etc/profile.d/imsictl.sh"].body), "IMSICTL_SOCKET="+cfg.API.Socket) {
			t.Errorf("/etc/profile.d/imsictl.sh does not point imsictl at %s", cfg.API.Socket)
		}
		kept := false
		for _, l := range strings.Split(string(data["lib/upgrade/keep.d/imsid"].body), "\n") {
			l = strings.TrimSpace(l)
			if l != "" && !strings.HasPrefix(l, "#") && strings.HasPrefix(cfg.StateDir+"/", strings.TrimSuffix(l, "/")+"/") {
				kept = true
			}
		}
		if !kept {
			t.Errorf("keep.d/imsid does not keep state_dir %s across a sysupgrade", cfg.StateDir)
		}
	})
}

func keys(m map[string]tarEntry) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
