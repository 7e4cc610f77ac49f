#!/bin/sh
# .deb postrm: on remove the unit is masked (its conffiles stay, so it must
# not be started by accident), on purge its enablement links and the state
# database go; the user and group stay (files elsewhere may still belong to
# them; Debian policy). As debhelper's dh_installsystemd does it.
set -e
case "${1:-}" in
remove)
	if [ -x /usr/bin/deb-systemd-helper ]; then
		deb-systemd-helper mask imsid.service >/dev/null || true
	fi
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
	fi
	;;
purge)
	if [ -x /usr/bin/deb-systemd-helper ]; then
		deb-systemd-helper purge imsid.service >/dev/null || true
		deb-systemd-helper unmask imsid.service >/dev/null || true
	fi
	rm -rf /var/lib/imsid
	;;
esac
exit 0
