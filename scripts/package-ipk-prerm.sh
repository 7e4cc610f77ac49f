#!/bin/sh
# OpenWrt .ipk prerm: stop and disable the service when the package is
# removed. opkg does not run the old package's prerm on an upgrade, but
# PKG_UPGRADE is checked anyway: an upgrade must leave it enabled.
[ "${IPKG_NO_SCRIPT:-0}" = 1 ] && exit 0
# Installing into an image's root: nothing runs there.
[ -n "${IPKG_INSTROOT:-}" ] && exit 0
[ "${PKG_UPGRADE:-0}" = 1 ] && exit 0
if [ -x /etc/init.d/imsid ]; then
	/etc/init.d/imsid stop >/dev/null 2>&1 || true
	/etc/init.d/imsid disable >/dev/null 2>&1 || true
fi
exit 0
