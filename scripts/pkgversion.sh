#!/bin/sh
# Prints the package version (deb and ipk) for a `git describe --tags
# --always --dirty` string, so that dpkg and opkg order builds correctly:
#
#   v1.2.3                  1.2.3                a release tag
#   v1.2.3-4-gabc1234       1.2.3+4.gabc1234     4 commits after it: above 1.2.3, below 1.2.4
#   abc1234                 0.0.0~gabc1234       no tag yet: below 0.0.1 and any release
#   <any of them>-dirty     <same>~dirty         uncommitted changes: just below the clean build
#   dev (no git)            0.0.0~dev
#
# A version that already starts with a digit and is none of the above (an
# explicit VERSION such as 9.8.7-test) is used as it is.
#
#   scripts/pkgversion.sh VERSION
set -eu
v=${1:?usage: pkgversion.sh VERSION}
v=${v#v}
dirty=
case $v in
*-dirty)
	v=${v%-dirty}
	dirty='~dirty'
	;;
esac
if printf '%s\n' "$v" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$'; then
	out=$v
elif printf '%s\n' "$v" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+-g[0-9a-f]+$'; then
	# 1.2.3-4-gabc -> 1.2.3+4.gabc (no '-': dpkg would read a Debian revision)
	out=$(printf '%s\n' "$v" | sed -E 's/^([0-9.]+)-([0-9]+)-(g[0-9a-f]+)$/\1+\2.\3/')
elif printf '%s\n' "$v" | grep -Eq '^[0-9a-f]{4,40}$'; then
	out="0.0.0~g$v"
elif printf '%s\n' "$v" | grep -Eq '^[0-9]'; then
	out=$v
else
	# dev, or anything else without a leading digit: dpkg needs one.
	out="0.0.0~$(printf '%s' "$v" | tr -c 'A-Za-z0-9.+~' '.')"
fi
printf '%s%s\n' "$out" "$dirty"
