package packagetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imsid/imsid/profiles"
)

const initScript = "../openwrt/imsid.init"

// runInit runs the init script the way OpenWrt does ("#!/bin/sh
// /etc/rc.common": sh rc.common SCRIPT ACTION), under testdata/rc.common,
// which records the procd calls and system commands instead of making them.
func runInit(t *testing.T, action string, env ...string) (calls []string, out string, err error) {
	t.Helper()
	log := filepath.Join(t.TempDir(), "calls")
	if werr := os.WriteFile(log, nil, 0o644); werr != nil {
		t.Fatal(werr)
	}
	cmd := exec.Command("sh", "testdata/rc.common", initScript, action)
	cmd.Env = append(os.Environ(), append([]string{"STUB_LOG=" + log}, env...)...)
	b, err := cmd.CombinedOutput()
	rec, rerr := os.ReadFile(log)
	if rerr != nil {
		t.Fatal(rerr)
	}
	return strings.Split(strings.TrimSpace(string(rec)), "\n"), string(b), err
}

func contains(calls []string, want string) bool {
	for _, c := range calls {
		if strings.TrimSpace(c) == want {
			return true
		}
	}
	return false
}

func TestOpenWrtInitSyntax(t *testing.T) {
	b, err := os.ReadFile(initScript)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "#!/bin/sh /etc/rc.common\n") {
		t.Error("the init script must start with #!/bin/sh /etc/rc.common")
	}
	fi, _ := os.Stat(initScript)
	if fi.Mode().Perm()&0o111 == 0 {
		// nfpm sets 0755 in the package; the source should match so that a
		// hand copy works too.
		t.Logf("%s is mode %v in the tree", initScript, fi.Mode())
	}
	if out, err := exec.Command("sh", "-n", initScript).CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v\n%s", err, out)
	}
	v := initVars(t, initScript)
	if v["USE_PROCD"] != "1" {
		t.Errorf("USE_PROCD=%q, want 1", v["USE_PROCD"])
	}
	// OpenWrt's network is START=20 STOP=90: start after it, stop before.
	if n, err := strconv.Atoi(v["START"]); err != nil || n <= 20 || n > 99 {
		t.Errorf("START=%q, want after the network's 20", v["START"])
	}
	if n, err := strconv.Atoi(v["STOP"]); err != nil || n < 1 || n >= 90 {
		t.Errorf("STOP=%q, want before the network's 90", v["STOP"])
	}
}

func TestOpenWrtInitStart(t *testing.T) {
	calls, out, err := runInit(t, "start", "STUB_USERS=root imsid", "STUB_CONFIG_OK=1")
	if err != nil {
		t.Fatalf("start: %v\n%s\ncalls:\n%s", err, out, strings.Join(calls, "\n"))
	}
	for _, want := range []string{
		"imsictl config validate /etc/imsid/imsid.yaml",
		"mkdir -p /var/run/imsid",
		"chown imsid:imsid /var/run/imsid",
		"chmod 0750 /var/run/imsid",
		"mkdir -p /etc/imsid/state",
		"chown imsid:imsid /etc/imsid/state",
		"chmod 0750 /etc/imsid/state",
		"procd_open_instance",
		"procd_set_param command /usr/bin/imsid --config /etc/imsid/imsid.yaml",
		"procd_set_param user imsid",
		"procd_set_param respawn 3600 10 0",
		"procd_set_param stdout 1",
		"procd_set_param stderr 1",
		"procd_set_param file /etc/imsid/imsid.yaml",
		"procd_set_param reload_signal HUP",
		"procd_close_instance",
		"procd_add_reload_trigger imsid",
	} {
		if !contains(calls, want) {
			t.Errorf("start did not call %q; calls:\n%s", want, strings.Join(calls, "\n"))
		}
	}
	// The directories exist before procd starts the daemon.
	first := func(s string) int {
		for i, c := range calls {
			if strings.HasPrefix(c, s) {
				return i
			}
		}
		return -1
	}
	if first("chmod 0750 /var/run/imsid") > first("procd_open_instance") {
		t.Error("the runtime directory is made after the instance is opened")
	}
}

func TestOpenWrtInitRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, users, valid, say string
	}{
		// procd would run the daemon as root without the user.
		{"no user", "root", "1", "user imsid does not exist"},
		{"bad config", "root imsid", "0", "does not load"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls, out, err := runInit(t, "start", "STUB_USERS="+tc.users, "STUB_CONFIG_OK="+tc.valid)
			if err == nil {
				t.Error("start succeeded, want it refused")
			}
			if contains(calls, "procd_open_instance") {
				t.Errorf("an instance was registered anyway:\n%s", strings.Join(calls, "\n"))
			}
			if !strings.Contains(out, tc.say) {
				t.Errorf("output %q does not say %q", out, tc.say)
			}
		})
	}
}

// TestOpenWrtInitReload: reload registers the instance again (rc.common's
// reload without a reload_service), so that procd restarts it on a new
// command line and sends the HUP it was given as reload_signal when only
// the YAML file changed (imsid re-reads its config on SIGHUP).
func TestOpenWrtInitReload(t *testing.T) {
	calls, out, err := runInit(t, "reload", "STUB_USERS=root imsid")
	if err != nil {
		t.Fatalf("reload: %v\n%s", err, out)
	}
	for _, want := range []string{
		"procd_set_param command /usr/bin/imsid --config /etc/imsid/imsid.yaml",
		"procd_set_param file /etc/imsid/imsid.yaml",
		"procd_set_param reload_signal HUP",
		"procd_add_reload_trigger imsid",
	} {
		if !contains(calls, want) {
			t.Errorf("reload did not call %q; calls:\n%s", want, strings.Join(calls, "\n"))
		}
	}
}

// uciDir writes an /etc/config holding imsid: the shipped
// packaging/openwrt/imsid.uci with its options replaced as given.
func uciDir(t *testing.T, set map[string]string) string {
	t.Helper()
	b, err := os.ReadFile("../openwrt/imsid.uci")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "option" {
			if v, ok := set[f[1]]; ok {
				lines[i] = "\toption " + f[1] + " '" + v + "'"
			}
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "imsid"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestOpenWrtUCI: /etc/config/imsid's enabled, device and config reach the
// procd instance, as shipped and after `uci set ...; uci commit; reload_config`
// (which runs reload: the trigger registered by service_triggers).
func TestOpenWrtUCI(t *testing.T) {
	for _, tc := range []struct {
		name     string
		set      map[string]string
		want     []string
		not      []string
		instance bool
	}{
		{"as shipped", nil, []string{
			"config_load imsid",
			"imsictl config validate /etc/imsid/imsid.yaml",
			"procd_set_param command /usr/bin/imsid --config /etc/imsid/imsid.yaml",
			"procd_set_param file /etc/imsid/imsid.yaml",
		}, []string{"procd_append_param command --device"}, true},
		{"device", map[string]string{"device": "/dev/ttyS1"}, []string{
			"procd_set_param command /usr/bin/imsid --config /etc/imsid/imsid.yaml",
			"procd_append_param command --device /dev/ttyS1",
		}, nil, true},
		{"config file", map[string]string{"config": "/etc/imsid/site.yaml"}, []string{
			"imsictl config validate /etc/imsid/site.yaml",
			"procd_set_param command /usr/bin/imsid --config /etc/imsid/site.yaml",
			"procd_set_param file /etc/imsid/site.yaml",
		}, nil, true},
		{"disabled", map[string]string{"enabled": "0"}, []string{"procd_add_reload_trigger imsid"}, nil, false},
	} {
		for _, action := range []string{"start", "reload"} {
			t.Run(tc.name+"/"+action, func(t *testing.T) {
				calls, out, err := runInit(t, action, "STUB_USERS=root imsid", "STUB_UCI_DIR="+uciDir(t, tc.set))
				if err != nil {
					t.Fatalf("%s: %v\n%s", action, err, out)
				}
				for _, w := range tc.want {
					if !contains(calls, w) {
						t.Errorf("%s did not call %q; calls:\n%s", action, w, strings.Join(calls, "\n"))
					}
				}
				for _, n := range tc.not {
					for _, c := range calls {
						if strings.HasPrefix(c, n) {
							t.Errorf("%s called %q", action, c)
						}
					}
				}
				if got := contains(calls, "procd_open_instance"); got != tc.instance {
					t.Errorf("instance registered: %v, want %v; calls:\n%s", got, tc.instance, strings.Join(calls, "\n"))
				}
				if !tc.instance && !strings.Contains(out, "disabled in /etc/config/imsid") {
					t.Errorf("enabled 0: output %q does not say so", out)
				}
			})
		}
	}
}

// TestOpenWrtLogsToSyslog: the .ipk's config sends the daemon's lines to
// logd at their own priority (log.output: syslog); under procd, stderr
// would land as daemon.err whatever the level.
func TestOpenWrtLogsToSyslog(t *testing.T) {
	cfg, err := profiles.Load("../../examples/imsid-openwrt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Output != profiles.LogSyslog {
		t.Errorf("examples/imsid-openwrt.yaml log.output = %q, want syslog", cfg.Log.Output)
	}
}

// TestIPKPostinstOffline runs the .ipk postinst as opkg does when it
// installs into an image's root (IPKG_INSTROOT), against a stand-in for
// OpenWrt's /lib/functions.sh: it must create the user and group, put the
// user in dialout, give it the state directory, and never enable or start
// the service.
func TestIPKPostinstOffline(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"etc/passwd":           "root:x:0:0:root:/root:/bin/ash\n",
		"etc/group":            "root:x:0:\ndialout:x:20:\n",
		"etc/imsid/imsid.yaml": "# config\n",
	}
	fn, err := os.ReadFile("testdata/functions.sh")
	if err != nil {
		t.Fatal(err)
	}
	files["lib/functions.sh"] = string(fn)
	for p, body := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Twice: a reinstall must not add the user again.
	for i := 0; i < 2; i++ {
		cmd := exec.Command("sh", "../../scripts/package-ipk-postinst.sh", "configure")
		cmd.Env = append(os.Environ(), "IPKG_INSTROOT="+root)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("postinst: %v\n%s", err, out)
		}
		if strings.Contains(string(out), "init.d") {
			t.Errorf("postinst run %d touched the service offline:\n%s", i+1, out)
		}
	}
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	group, _ := os.ReadFile(filepath.Join(root, "etc/group"))
	if n := strings.Count(string(passwd), "\nimsid:"); n != 1 {
		t.Fatalf("passwd has %d imsid users, want 1:\n%s", n, passwd)
	}
	var uid, gid string
	for _, l := range strings.Split(string(passwd), "\n") {
		if f := strings.Split(l, ":"); len(f) == 7 && f[0] == "imsid" {
			uid, gid = f[2], f[3]
			if f[5] != "/etc/imsid/state" || f[6] != "/bin/false" {
				t.Errorf("imsid home %q shell %q, want /etc/imsid/state and /bin/false", f[5], f[6])
			}
		}
	}
	if !strings.Contains(string(group), "imsid:x:"+gid+":") {
		t.Errorf("group has no imsid group with gid %s:\n%s", gid, group)
	}
	if !strings.Contains(string(group), "dialout:x:20:imsid") {
		t.Errorf("imsid is not in dialout (the modem's tty):\n%s", group)
	}
	fi, err := os.Stat(filepath.Join(root, "etc/imsid/state"))
	if err != nil {
		t.Fatalf("state directory: %v", err)
	}
	if fi.Mode().Perm() != 0o750 {
		t.Errorf("/etc/imsid/state mode %v, want 0750", fi.Mode().Perm())
	}
	if os.Geteuid() == 0 {
		if got := ownerOf(fi); got != uid+":"+gid {
			t.Errorf("/etc/imsid/state owned by %s, want %s:%s (imsid, by number from the image's passwd)", got, uid, gid)
		}
	}
}
