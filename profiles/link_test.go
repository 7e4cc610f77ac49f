package profiles_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/imsid/imsid/profiles"
)

// The link section starts on line 13 (base ends on line 12).
func TestLinkValidation(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		wants     []want
	}{
		{"defaults", "", nil},
		{"external with hooks", "link:\n  owner: external\n  interface: wwan0\n  hooks_dir: /etc/imsid/hooks\n", nil},
		{"unknown owner", "link:\n  owner: networkmanager\n", []want{{14, "link.owner", `unknown owner "networkmanager"`}}},
		{"bad interface", "link:\n  interface: eth0:1\n", []want{{14, "link.interface", "is not an interface name"}}},
		{"interface too long", "link:\n  interface: wwan0123456789012\n", []want{{14, "link.interface", "at most 15"}}},
		{"data_call with external", "link:\n  owner: external\n  data_call: true\n", []want{{15, "link.data_call", "only with owner: imsid"}}},
		{"dhcp needs interface", "link:\n  renew: dhcp\n", []want{{14, "link.renew", "needs link.interface"}}},
		{"dhcp needs command", "link:\n  interface: usb0\n  renew: dhcp\n  dhcp_command: []\n", []want{{16, "link.dhcp_command", "needs a command"}}},
		{"hook renew needs dir", "link:\n  renew: hook\n", []want{{14, "link.renew", "needs link.hooks_dir"}}},
		{"unknown renew", "link:\n  renew: dhcpcd\n", []want{{14, "link.renew", `unknown renew "dhcpcd"`}}},
		{"hook timeout", "link:\n  hook_timeout: 500ms\n", []want{{14, "link.hook_timeout", "want 1s to 10m"}}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkErrors(t, base+tc.src, tc.wants) })
	}
}

func TestLinkDefaultsAndPaths(t *testing.T) {
	c, err := profiles.Parse("/etc/imsid/imsid.yaml", []byte(base+"link:\n  hooks_dir: hooks.d\n"))
	if err != nil {
		t.Fatal(err)
	}
	l := c.Link
	if l.Owner != profiles.LinkOwnerIMSID || !l.BindProbes || l.Renew != profiles.RenewNone || l.HookTimeout.Std() <= 0 {
		t.Errorf("defaults: %+v", l)
	}
	if !slices.Equal(l.DHCPCommand, profiles.DefaultDHCPCommand) {
		t.Errorf("dhcp_command = %v", l.DHCPCommand)
	}
	if l.HooksDir != filepath.Join("/etc/imsid", "hooks.d") {
		t.Errorf("hooks_dir not resolved against the config's directory: %q", l.HooksDir)
	}
}
