#!/bin/sh
# Prints the Debian changelog (debian/changelog format) for a package
# build: one entry for PKGVERSION, listing the commits since the previous
# tag (at most 30; the git history has them all), dated by the commit, so
# that the same commit gives the same file. scripts/package.sh gzips it into
# /usr/share/doc/imsid/changelog.gz (a native package: the version has no
# Debian revision).
#
#   scripts/changelog.sh PKGVERSION
set -eu
ver=${1:?usage: changelog.sh PKGVERSION}
maint="imsid developers <imsid@users.noreply.github.com>"
if epoch=$(git log -1 --format=%ct 2>/dev/null) && [ -n "$epoch" ]; then
	head=$(git rev-parse --short HEAD)
	if prev=$(git describe --tags --abbrev=0 2>/dev/null); then
		range="$prev..HEAD"
	else
		range=HEAD
	fi
	subjects=$(git log --no-merges --format=%s -n 30 "$range")
else
	epoch=${SOURCE_DATE_EPOCH:-$(date +%s)}
	head=unknown
	subjects=
fi
date=$(LC_ALL=C date -u -R -d "@$epoch")

printf 'imsid (%s) unstable; urgency=medium\n\n' "$ver"
printf '  * Built from commit %s; the changes since the previous release:\n' "$head" | fold -s -w 78
if [ -z "$subjects" ]; then
	printf '    (no git history available)\n'
fi
printf '%s\n' "$subjects" | while IFS= read -r s; do
	[ -n "$s" ] || continue
	# "    - " then the subject, wrapped at 78 columns with a hanging indent.
	printf '%s\n' "$s" | fold -s -w 70 | sed '1s/^/    - /; 2,$s/^/      /; s/ *$//'
done
printf '\n -- %s  %s\n' "$maint" "$date"
