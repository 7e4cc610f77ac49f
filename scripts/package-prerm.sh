#!/bin/sh
# .deb prerm: stop the service when the package is removed; an upgrade
# leaves it running and the new postinst restarts it. (Its enablement is
# kept by deb-systemd-helper: the postrm masks it on remove and forgets it
# on purge.) As debhelper does it: deb-systemd-invoke, only under a running
# systemd and not when dpkg works on another root (DPKG_ROOT).
set -e
if [ -z "${DPKG_ROOT:-}" ] && [ "${1:-}" = remove ] && [ -d /run/systemd/system ] && [ -x /usr/bin/deb-systemd-invoke ]; then
	deb-systemd-invoke stop imsid.service >/dev/null || true
fi
exit 0
