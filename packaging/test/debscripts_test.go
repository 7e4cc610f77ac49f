package packagetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runDebScript runs a copy of a .deb maintainer script with the system
// swapped for stand-ins: every command it may call (deb-systemd-helper,
// deb-systemd-invoke, systemctl, systemd-sysusers, getent, chown, ...) is a
// stub on PATH that records its arguments, and the absolute paths it tests
// (/run/systemd/system, /usr/bin/deb-systemd-*, /var/lib/imsid) point into
// a scratch directory. systemd: whether /run/systemd/system "exists".
func runDebScript(t *testing.T, script string, systemd bool, args ...string) (calls []string, out string) {
	t.Helper()
	// Not t.TempDir(): the paths are pasted into the script unquoted, and
	// subtest names bring spaces and parentheses.
	dir, err := os.MkdirTemp("", "imsid-debscript-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "bin")
	log := filepath.Join(dir, "calls")
	run := filepath.Join(dir, "run-systemd-system")
	state := filepath.Join(dir, "var-lib-imsid")
	for _, d := range []string{bin, state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if systemd {
		if err := os.MkdirAll(run, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stub := "#!/bin/sh\necho \"$(basename \"$0\") $*\" >>" + log + "\n"
	for _, c := range []string{"deb-systemd-helper", "deb-systemd-invoke", "systemctl", "systemd-sysusers", "systemd-tmpfiles",
		"getent", "chown", "chgrp", "chmod", "adduser"} {
		body := stub
		if c == "deb-systemd-helper" {
			// debian-installed: false (a first install) unless the test says so.
			body += "[ \"$1\" = debian-installed ] && exit ${STUB_DEBIAN_INSTALLED:-1}\n"
		}
		if err := os.WriteFile(filepath.Join(bin, c), []byte(body+"exit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src, err := os.ReadFile(filepath.Join("../../scripts", script))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("/run/systemd/system", run, "/usr/bin/deb-systemd-", bin+"/deb-systemd-", "/var/lib/imsid", state).Replace(string(src))
	copyPath := filepath.Join(dir, script)
	if err := os.WriteFile(copyPath, []byte(s), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", append([]string{copyPath}, args...)...)
	// deb-systemd-helper knows the unit once a version was configured.
	installed := "1"
	if len(args) > 1 && args[1] != "" {
		installed = "0"
	}
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "STUB_DEBIAN_INSTALLED="+installed)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", script, strings.Join(args, " "), err, b)
	}
	rec, _ := os.ReadFile(log)
	for _, l := range strings.Split(strings.TrimSpace(string(rec)), "\n") {
		if l != "" {
			calls = append(calls, l)
		}
	}
	return calls, string(b)
}

// TestDebScriptsSystemdHelpers: the .deb's maintainer scripts drive systemd
// through Debian's helpers as dh_installsystemd --no-enable does: the
// enablement state through deb-systemd-helper, start/stop through
// deb-systemd-invoke (which honours policy-rc.d), only under a running
// systemd; never enable or start on a first install; systemctl only for
// daemon-reload.
func TestDebScriptsSystemdHelpers(t *testing.T) {
	has := func(calls []string, want string) bool { return contains(calls, want) }
	for _, tc := range []struct {
		name, script string
		systemd      bool
		args         []string
		want, not    []string
	}{
		{"install", "package-postinst.sh", true, []string{"configure", ""},
			[]string{"deb-systemd-helper update-state imsid.service", "systemctl --system daemon-reload"},
			// was-enabled defaults to true for a unit deb-systemd-helper
			// has never seen: a first install must not even ask.
			[]string{"deb-systemd-helper --quiet was-enabled imsid.service", "deb-systemd-helper enable imsid.service",
				"deb-systemd-invoke try-restart imsid.service", "deb-systemd-invoke start imsid.service"}},
		{"upgrade", "package-postinst.sh", true, []string{"configure", "1.2.3"},
			[]string{"deb-systemd-helper update-state imsid.service", "deb-systemd-helper unmask imsid.service",
				"deb-systemd-helper --quiet was-enabled imsid.service", "systemctl --system daemon-reload",
				"deb-systemd-invoke try-restart imsid.service"},
			[]string{"deb-systemd-invoke start imsid.service"}},
		{"install without systemd (chroot)", "package-postinst.sh", false, []string{"configure", ""},
			[]string{"deb-systemd-helper update-state imsid.service"},
			[]string{"systemctl --system daemon-reload", "deb-systemd-invoke try-restart imsid.service"}},
		{"upgrade without systemd", "package-postinst.sh", false, []string{"configure", "1.2.3"},
			nil,
			[]string{"systemctl --system daemon-reload", "deb-systemd-invoke try-restart imsid.service"}},
		{"remove", "package-prerm.sh", true, []string{"remove"},
			[]string{"deb-systemd-invoke stop imsid.service"}, nil},
		{"upgrade (old prerm)", "package-prerm.sh", true, []string{"upgrade", "2.0.0"},
			nil, []string{"deb-systemd-invoke stop imsid.service"}},
		{"remove without systemd", "package-prerm.sh", false, []string{"remove"},
			nil, []string{"deb-systemd-invoke stop imsid.service"}},
		{"postrm remove", "package-postrm.sh", true, []string{"remove"},
			[]string{"deb-systemd-helper mask imsid.service", "systemctl --system daemon-reload"},
			[]string{"deb-systemd-helper purge imsid.service"}},
		{"postrm purge", "package-postrm.sh", false, []string{"purge"},
			[]string{"deb-systemd-helper purge imsid.service", "deb-systemd-helper unmask imsid.service"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls, _ := runDebScript(t, tc.script, tc.systemd, tc.args...)
			for _, w := range tc.want {
				if !has(calls, w) {
					t.Errorf("%s %v did not call %q; calls:\n%s", tc.script, tc.args, w, strings.Join(calls, "\n"))
				}
			}
			for _, n := range tc.not {
				if has(calls, n) {
					t.Errorf("%s %v called %q; calls:\n%s", tc.script, tc.args, n, strings.Join(calls, "\n"))
				}
			}
			for _, c := range calls {
				if strings.HasPrefix(c, "systemctl ") && c != "systemctl --system daemon-reload" {
					t.Errorf("%s calls %q: start, stop and enable go through deb-systemd-invoke/-helper", tc.script, c)
				}
			}
		})
	}
}

// TestDebScriptsSource: no systemctl call but daemon-reload, each behind the
// /run/systemd/system guard, in the sources themselves.
func TestDebScriptsSource(t *testing.T) {
	ctl := regexp.MustCompile(`\bsystemctl\b`)
	for _, s := range []string{"package-postinst.sh", "package-prerm.sh", "package-postrm.sh"} {
		b, err := os.ReadFile(filepath.Join("../../scripts", s))
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(b), "\n") {
			code, _, _ := strings.Cut(l, "#")
			if strings.Contains(l, "echo ") {
				continue // the hint printed to the operator
			}
			if ctl.MatchString(code) && !strings.Contains(code, "systemctl --system daemon-reload") {
				t.Errorf("%s:%d: %s: use deb-systemd-invoke/deb-systemd-helper", s, i+1, strings.TrimSpace(l))
			}
		}
	}
}
