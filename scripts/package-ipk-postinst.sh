#!/bin/sh
# OpenWrt .ipk postinst: the service user and group (OpenWrt's
# /lib/functions.sh helpers: no sysusers, no adduser), ownership of the
# config and the on-flash state directory, and a restart of a running
# service on upgrade. Like the .deb, it does NOT enable the service: the
# example config names a sample modem port and profiles, so it must be
# edited first (imsictl config validate /etc/imsid/imsid.yaml, then
# /etc/init.d/imsid enable && /etc/init.d/imsid start).
#
# IPKG_INSTROOT is set when opkg installs into an image's root (offline):
# then every path is under it, and ownership is set by number from that
# root's passwd/group, not the build host's.
[ "${IPKG_NO_SCRIPT:-0}" = 1 ] && exit 0
root=${IPKG_INSTROOT:-}

if [ ! -f "$root/lib/functions.sh" ]; then
	echo "imsid: $root/lib/functions.sh not found; not OpenWrt? create user and group imsid by hand" >&2
	exit 0
fi
. "$root/lib/functions.sh"

group_exists imsid || group_add_next imsid >/dev/null
gid=$(grep '^imsid:' "$root/etc/group" | cut -d: -f3)
user_exists imsid || user_add imsid "" "$gid" "imsid cellular connectivity manager" /etc/imsid/state /bin/false
# The modem's tty (procd's hotplug makes /dev/tty* group dialout).
group_add_user dialout imsid 2>/dev/null || true
uid=$(grep '^imsid:' "$root/etc/passwd" | cut -d: -f3)

if [ -n "$uid" ] && [ -n "$gid" ]; then
	mkdir -p "$root/etc/imsid/state"
	chown "$uid:$gid" "$root/etc/imsid/state"
	chmod 0750 "$root/etc/imsid/state"
	chgrp "$gid" "$root/etc/imsid" "$root/etc/imsid/imsid.yaml"
else
	echo "imsid: could not create user/group imsid; /etc/init.d/imsid will refuse to start" >&2
fi

if [ -z "$root" ]; then
	# An upgrade restarts a running daemon onto the new binary (reload would
	# only send SIGHUP).
	if [ "${PKG_UPGRADE:-0}" = 1 ] && /etc/init.d/imsid running >/dev/null 2>&1; then
		/etc/init.d/imsid restart || true
	fi
	if ! /etc/init.d/imsid enabled 2>/dev/null; then
		echo "imsid: edit /etc/imsid/imsid.yaml (imsictl config validate /etc/imsid/imsid.yaml checks it), then: /etc/init.d/imsid enable && /etc/init.d/imsid start"
	fi
fi
exit 0
