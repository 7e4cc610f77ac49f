package hooks

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The shipped example hooks (examples/hooks): valid sh, and each calls its
// tool with what the IMSID_* contract says, on its events only. The tools
// are stubs on PATH that record their arguments.
func TestExampleHooks(t *testing.T) {
	dir := "../../examples/hooks"
	for _, tc := range []struct {
		hook  string
		event Event
		want  []string // recorded calls, "tool arg arg ..."
	}{
		{"50-udhcpc", LinkRenew, []string{"udhcpc -i wwan0 -n -q -t 3 -T 2 -s /etc/udhcpc/default.script"}},
		{"50-udhcpc", LinkReconnect, []string{"udhcpc -i wwan0 -n -q -t 3 -T 2 -s /etc/udhcpc/default.script"}},
		{"50-udhcpc", SwitchEnd, nil},
		{"50-dhclient", LinkRenew, []string{"dhclient -r wwan0", "dhclient -1 wwan0"}},
		{"50-dhclient", LinkUp, nil},
		{"50-nmcli", LinkReconnect, []string{"nmcli connection modify cellular gsm.apn iot.example",
			"nmcli -w 20 connection down cellular", "nmcli -w 60 connection up cellular"}},
		{"50-nmcli", LinkRenew, nil},
		{"50-ifup", LinkReconnect, []string{"ifup wwan"}},
		{"50-ifup", Threat, nil},
		{"50-pppd", LinkReconnect, []string{"poff cellular", "pon cellular"}},
		{"50-pppd", LinkDown, nil},
	} {
		t.Run(tc.hook+"/"+string(tc.event), func(t *testing.T) {
			path := filepath.Join(dir, tc.hook)
			if out, err := exec.Command("sh", "-n", path).CombinedOutput(); err != nil {
				t.Fatalf("sh -n: %v\n%s", err, out)
			}
			if st, err := os.Stat(path); err != nil || st.Mode().Perm()&0o111 == 0 {
				t.Fatalf("not executable: %v", err)
			}
			bin, log := t.TempDir(), filepath.Join(t.TempDir(), "calls")
			for _, tool := range []string{"udhcpc", "dhclient", "nmcli", "ifup", "poff", "pon"} {
				stub := "#!/bin/sh\necho \"" + tool + " $*\" >> " + log + "\n"
				if err := os.WriteFile(filepath.Join(bin, tool), []byte(stub), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			f := Facts{Event: tc.event, Profile: "roam", APN: "iot.example", PLMN: "23415", Interface: "wwan0", Owner: "external"}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, path)
			cmd.Env = append([]string{"PATH=" + bin + ":/usr/bin:/bin"}, f.Env()...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("run: %v\n%s", err, out)
			}
			b, _ := os.ReadFile(log)
			var got []string
			if s := strings.TrimSpace(string(b)); s != "" {
				got = strings.Split(s, "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
	// Without an interface the DHCP hooks refuse, with a reason.
	for _, h := range []string{"50-udhcpc", "50-dhclient"} {
		cmd := exec.Command(filepath.Join(dir, h))
		cmd.Env = append([]string{"PATH=/nonexistent"}, Facts{Event: LinkRenew}.Env()...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "IMSID_INTERFACE is empty") {
			t.Errorf("%s without an interface: %v %s", h, err, out)
		}
	}
}
