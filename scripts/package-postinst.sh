#!/bin/sh
# .deb postinst: the service user and group, ownership of the state and
# config directories, and systemd's view of the new unit. The service is not
# enabled: the config must name the modem first. (The OpenWrt .ipk has its
# own scripts: scripts/package-ipk-*.sh.)
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

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	systemd-tmpfiles --create imsid.conf 2>/dev/null || true
	# An upgrade (deb: "configure <old-version>") restarts a running service.
	if [ "${1:-}" = configure ] && [ -n "${2:-}" ]; then
		systemctl try-restart imsid.service || true
	fi
	echo "imsid: edit /etc/imsid/imsid.yaml (imsictl config validate /etc/imsid/imsid.yaml checks it), then: systemctl enable --now imsid"
fi
exit 0
