package main

import (
	"flag"
	"fmt"

	"github.com/imsid/imsid/internal/manpage"
)

// manPage is imsid(8), built from the flags' definitions (defineFlags) and
// the exit codes. `imsid --man` prints it (a hidden flag), `make man`
// writes packaging/man/imsid.8, and TestManPage fails when that file is
// stale.
func manPage() string {
	fs := flag.NewFlagSet("imsid", flag.ContinueOnError)
	defineFlags(fs, &options{})

	p := manpage.New("imsid", 8, "imsid manual")
	p.Section("name")
	p.Raw(`imsid \- cellular connectivity manager for multi\-IMSI SIMs and eSIMs`)
	p.Section("synopsis")
	p.Raw(manpage.Bold("imsid --config") + " " + manpage.Italic("FILE") + " [" + manpage.Bold("--device") + " " +
		manpage.Italic("PATH") + "] [" + manpage.Bold("--probe-interface") + " " + manpage.Italic("IFACE") + "]")
	p.Break()
	p.Raw(manpage.Bold("imsid --simulate") + " [" + manpage.Italic("SCENARIO") + "] [" + manpage.Italic("flags") + "]")
	p.Section("description")
	p.Para("imsid is the device-side connectivity manager of a cellular gateway. It drives the modem over AT " +
		"commands, picks the IMSI profile of a multi-IMSI SIM or eSIM from signal, cost and threat, switches " +
		"safely (journalled, with a switch budget and a minimum dwell) and serves a local status and control API " +
		"on a unix socket, optionally on TCP, for imsictl(1). Its state (usage per billing period, quarantines, " +
		"the threat baseline, the decision log) is kept in one database in state_dir.")
	p.Para("With --simulate it runs the same service against the built-in modem simulator on a pseudo-terminal, " +
		"from a scenario file, to try it without a modem.")
	p.Section("options")
	p.Flags(fs, nil)
	p.Section("signals")
	p.Item(manpage.Bold("SIGTERM")+", "+manpage.Bold("SIGINT"), "shut down cleanly: the state is written and the API drained; a second signal kills at once.")
	p.Item(manpage.Bold("SIGHUP"), "re-read the config file; one that does not validate is rejected and the running config kept. "+
		"Changes to modem, api, upstream, state_dir and log need a restart.")
	p.Section("exit status")
	for _, x := range []struct {
		code int
		what string
	}{
		{exitOK, "clean shutdown"},
		{exitFail, "stopped on an error at run time (state directory locked, API cannot bind, ...)"},
		{exitUsage, "bad command line"},
		{exitConfig, "the config file (or scenario) is invalid; the message names file:line"},
	} {
		p.Item(manpage.Bold(fmt.Sprint(x.code)), x.what)
	}
	p.Section("files")
	p.Item(manpage.Italic("/etc/imsid/imsid.yaml"), "the configuration (every field: docs/config.md); check it with imsictl config validate.")
	p.Item(manpage.Italic("/var/lib/imsid/state.db"), "the state database (state_dir; /etc/imsid/state on OpenWrt).")
	p.Item(manpage.Italic("/run/imsid/imsid.sock"), "the API socket (api.socket).")
	p.Item(manpage.Italic("/etc/config/imsid"), "OpenWrt: enabled, device and config for the init script (UCI).")
	p.Section("see also")
	p.Raw(manpage.Bold("imsictl") + "(1), " + manpage.Bold("systemd.exec") + "(5); docs/operations.md and docs/config.md in " +
		"/usr/share/doc/imsid or the imsid sources.")
	return p.String()
}
