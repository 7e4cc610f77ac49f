package profiles

import (
	"path/filepath"
	"regexp"
	"time"
)

// Link says who owns the data link on the gateway (the host interface the
// store's traffic uses) and how it is brought back after a switch.
type Link struct {
	// Owner is who brings the data session up: imsid (PDP context, the
	// vendor's data-call command when data_call is set, then the renewal)
	// or external (ModemManager/NetworkManager, netifd, pppd: imsid needs
	// no PDP address and judges the data path by probes alone).
	Owner LinkOwner `yaml:"owner" json:"owner"`
	// Interface is the host's cellular interface (wwan0, usb0, ppp0).
	// Empty: no interface is known; probes are not bound and no renewal
	// is possible.
	Interface string `yaml:"interface" json:"interface,omitempty"`
	// BindProbes binds every probe socket to Interface (SO_BINDTODEVICE),
	// so a probe cannot pass through another uplink.
	BindProbes bool `yaml:"bind_probes" json:"bind_probes"`
	// DataCall sends the vendor's data-call command (Quectel
	// +QNETDEVCTL, SIMCom $QCRMCALL, Telit #ECM, u-blox +UCEDATA) after
	// every switch and modem reset: modems in ECM/RNDIS/NCM mode need it.
	// Owner imsid only.
	DataCall bool `yaml:"data_call" json:"data_call"`
	// Renew is how the host side renews the interface's address once the
	// session is up: dhcp (run DHCPCommand), hook (the hooks get a
	// link-renew event) or none.
	Renew Renew `yaml:"renew" json:"renew"`
	// DHCPCommand is the program and arguments renew: dhcp runs; {iface}
	// is replaced by Interface.
	DHCPCommand []string `yaml:"dhcp_command" json:"dhcp_command,omitempty"`
	// HooksDir holds executables run on link and switch events (the
	// NetworkManager dispatcher convention); empty runs none.
	HooksDir string `yaml:"hooks_dir" json:"hooks_dir,omitempty"`
	// HookTimeout bounds one hook (or DHCP) run; its process group is
	// killed past it.
	HookTimeout Duration `yaml:"hook_timeout" json:"hook_timeout"`
}

// LinkOwner says who owns the data session.
type LinkOwner string

// Link owners.
const (
	LinkOwnerIMSID    LinkOwner = "imsid"
	LinkOwnerExternal LinkOwner = "external"
)

// LinkOwners lists every owner.
var LinkOwners = []LinkOwner{LinkOwnerIMSID, LinkOwnerExternal}

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *LinkOwner) UnmarshalText(b []byte) (err error) {
	*o, err = parseEnum(b, "owner", LinkOwners)
	return err
}

// Renew is how the interface's address is renewed.
type Renew string

// Renewal mechanisms.
const (
	RenewNone Renew = "none"
	RenewDHCP Renew = "dhcp"
	RenewHook Renew = "hook"
)

// Renews lists every renewal mechanism.
var Renews = []Renew{RenewNone, RenewDHCP, RenewHook}

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Renew) UnmarshalText(b []byte) (err error) {
	*r, err = parseEnum(b, "renew", Renews)
	return err
}

// DefaultDHCPCommand renews a lease with busybox udhcpc: one attempt
// round, quit once bound, no background daemon.
var DefaultDHCPCommand = []string{"udhcpc", "-i", "{iface}", "-n", "-q", "-t", "3"}

func defaultLink() Link {
	return Link{
		Owner:       LinkOwnerIMSID,
		BindProbes:  true,
		Renew:       RenewNone,
		DHCPCommand: append([]string(nil), DefaultDHCPCommand...),
		HookTimeout: dur(30 * time.Second),
	}
}

// ifaceRE is what Linux accepts as an interface name (IFNAMSIZ-1 bytes,
// no '/', ':' or white space).
var ifaceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,14}$`)

func (v *validator) link(l *Link) {
	if l.HooksDir != "" && !filepath.IsAbs(l.HooksDir) {
		l.HooksDir = filepath.Join(filepath.Dir(v.base), l.HooksDir)
	}
	if l.Interface != "" && !ifaceRE.MatchString(l.Interface) {
		v.fail("link.interface", "%q is not an interface name (at most 15 characters, no '/', ':' or spaces)", l.Interface)
	}
	if l.DataCall && l.Owner == LinkOwnerExternal {
		v.fail("link.data_call", "only with owner: imsid (with owner: external the owner dials)")
	}
	switch l.Renew {
	case RenewDHCP:
		if l.Interface == "" {
			v.fail("link.renew", "dhcp needs link.interface")
		}
		if len(l.DHCPCommand) == 0 || l.DHCPCommand[0] == "" {
			v.fail("link.dhcp_command", "renew: dhcp needs a command (e.g. [udhcpc, -i, '{iface}', -n, -q])")
		}
	case RenewHook:
		if l.HooksDir == "" {
			v.fail("link.renew", "hook needs link.hooks_dir")
		}
	}
	if l.HookTimeout < Duration(time.Second) || l.HookTimeout > Duration(10*time.Minute) {
		v.fail("link.hook_timeout", "%s: want 1s to 10m", l.HookTimeout)
	}
}
