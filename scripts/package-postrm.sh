#!/bin/sh
# .deb postrm: on purge, the state database goes too; the user and group
# stay (files elsewhere may still belong to them; Debian policy).
set -e
if [ "${1:-}" = purge ]; then
	rm -rf /var/lib/imsid
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
