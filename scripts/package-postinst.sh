#!/bin/sh
# .deb postinst: the service user and group, ownership of the state and
# config directories, and systemd's view of the new unit. The service is not
# enabled: the config must name the modem first. (The OpenWrt .ipk has its
# own scripts: scripts/package-ipk-*.sh.)
#
# systemd is driven the way debhelper's dh_installsystemd --no-enable does
# it: deb-systemd-helper keeps the enablement state (so that an operator's
# enable survives upgrades and a purge removes its links), deb-systemd-invoke
# restarts only where policy-rc.d allows it, and nothing is started unless
# systemd is running (/run/systemd/system), e.g. not in a chroot.
set -e

if ! getent group imsid >/dev/null 2>&1 || ! getent passwd imsid >/dev/null 2>&1; then
	if command -v systemd-sysusers >/dev/null 2>&1 && [ -f /usr/lib/sysusers.d/imsid.conf ]; then
		systemd-sysusers imsid.conf
	elif command -v adduser >/dev/null 2>&1; then
		adduser --system --group --home /var/lib/imsid --no-create-home imsid
		adduser imsid dialout || true
	else
		echo "imsid: cannot create the imsid user; create it (and group imsid) by hand" >&2
	fi
fi

if getent group imsid >/dev/null 2>&1; then
	chown imsid:imsid /var/lib/imsid || true
	chmod 0750 /var/lib/imsid
	chgrp imsid /etc/imsid /etc/imsid/imsid.yaml || true
fi

case "${1:-}" in
configure | abort-upgrade | abort-deconfigure | abort-remove)
	if [ -x /usr/bin/deb-systemd-helper ]; then
		if deb-systemd-helper debian-installed imsid.service; then
			# Only removes a mask that our postrm made on removal.
			deb-systemd-helper unmask imsid.service >/dev/null || true
			# An operator who enabled it keeps it enabled (new links, if any).
			if deb-systemd-helper --quiet was-enabled imsid.service; then
				deb-systemd-helper enable imsid.service >/dev/null || true
			fi
		fi
		# Records the unit's links, so that a purge removes them.
		deb-systemd-helper update-state imsid.service >/dev/null || true
	fi
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		systemd-tmpfiles --create imsid.conf 2>/dev/null || true
		# An upgrade ("configure <old-version>") restarts a running service.
		if [ -n "${2:-}" ] && [ -x /usr/bin/deb-systemd-invoke ]; then
			deb-systemd-invoke try-restart imsid.service >/dev/null || true
		fi
	fi
	if [ "${1:-}" = configure ] && [ -z "${2:-}" ]; then
		echo "imsid: edit /etc/imsid/imsid.yaml (imsictl config validate /etc/imsid/imsid.yaml checks it), then: systemctl enable --now imsid"
	fi
	;;
esac
exit 0
