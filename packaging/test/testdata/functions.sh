# A stand-in for the user and group helpers of OpenWrt's /lib/functions.sh
# (base-files), with their behaviour: they edit ${IPKG_INSTROOT}/etc/passwd
# and /etc/group, and group_add_next prints the gid it picked. Used by the
# .ipk postinst test, which installs into a scratch IPKG_INSTROOT.

group_exists() {
	grep -qs "^${1}:" "${IPKG_INSTROOT}/etc/group"
}

group_add() {
	[ -f "${IPKG_INSTROOT}/etc/group" ] || return 1
	echo "${1}:x:${2}:" >>"${IPKG_INSTROOT}/etc/group"
}

group_add_next() {
	local gid gids
	gid=$(grep -s "^${1}:" "${IPKG_INSTROOT}/etc/group" | cut -d: -f3)
	if [ -n "$gid" ]; then
		echo "$gid"
		return
	fi
	gids=$(cut -d: -f3 "${IPKG_INSTROOT}/etc/group")
	gid=32768
	while echo "$gids" | grep -q "^$gid$"; do
		gid=$((gid + 1))
	done
	group_add "$1" "$gid"
	echo "$gid"
}

user_exists() {
	grep -qs "^${1}:" "${IPKG_INSTROOT}/etc/passwd"
}

user_add() {
	local name="$1" uid="$2" gid="$3" desc="${4:-$1}" home="${5:-/var/run/$1}" shell="${6:-/bin/false}" uids
	if [ -z "$uid" ]; then
		uids=$(cut -d: -f3 "${IPKG_INSTROOT}/etc/passwd")
		uid=65536
		while echo "$uids" | grep -q "^$uid$"; do
			uid=$((uid + 1))
		done
	fi
	[ -z "$gid" ] && gid=$uid
	[ -f "${IPKG_INSTROOT}/etc/passwd" ] || return 1
	echo "${name}:x:${uid}:${gid}:${desc}:${home}:${shell}" >>"${IPKG_INSTROOT}/etc/passwd"
}

group_add_user() {
	local grp delim=","
	grp=$(grep -s "^${1}:" "${IPKG_INSTROOT}/etc/group")
	[ -n "$grp" ] || return 1
	echo "$grp" | cut -d: -f4 | grep -q "$2" && return
	echo "$grp" | grep -q ":$" && delim=""
	sed -i "s/^$grp\$/$grp$delim$2/" "${IPKG_INSTROOT}/etc/group"
}
