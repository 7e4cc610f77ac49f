#!/bin/sh
# OpenWrt .ipk postrm: the runtime directory (RAM) goes; the config and the
# state database in /etc/imsid stay, because opkg has no purge and the
# state holds the usage ledger a reinstall should continue from. The user
# and group stay too (files may still belong to them).
[ "${IPKG_NO_SCRIPT:-0}" = 1 ] && exit 0
[ -n "${IPKG_INSTROOT:-}" ] && exit 0
[ "${PKG_UPGRADE:-0}" = 1 ] && exit 0
rm -rf /var/run/imsid
if [ -d /etc/imsid ]; then
	echo "imsid: removed; /etc/imsid (config and state) is kept: rm -rf /etc/imsid to delete it"
fi
exit 0
