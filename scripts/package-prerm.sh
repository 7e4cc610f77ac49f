#!/bin/sh
# .deb prerm: stop and disable the service when the package is removed;
# an upgrade leaves it running and the new postinst restarts it.
set -e
case "${1:-remove}" in
remove | purge)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now imsid.service >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
