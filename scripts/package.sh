#!/usr/bin/env bash
# Builds the packages: a .deb per architecture and an OpenWrt .ipk per
# architecture with nfpm (packaging/nfpm.yaml), from the binaries that
# scripts/cross.sh puts in $DIST/linux-<arch>/. Output: $DIST/packages/
# (DIST defaults to dist).
#
#   scripts/package.sh [VERSION] [ARCH...]      ARCH: amd64 arm64 arm7 mipsle
#
# PACKAGERS (default "deb ipk") chooses the formats. NFPM_VERSION_PIN pins
# nfpm (run through the Go module proxy; the first run downloads it).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
GO=${GO:-go}
export DIST=${DIST:-dist}
# v2.45+ pulls go.digitalxero.dev modules the proxy does not serve (403).
NFPM=${NFPM:-$GO run github.com/goreleaser/nfpm/v2/cmd/nfpm@${NFPM_VERSION_PIN:-v2.44.0}}
VERSION=${1:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
shift || true
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(amd64 arm64 arm7 mipsle)
read -r -a packagers <<<"${PACKAGERS:-deb ipk}"

# The package version (scripts/pkgversion.sh): v1.2.3 -> 1.2.3,
# v1.2.3-4-gabc -> 1.2.3+4.gabc, an untagged abc1234 -> 0.0.0~gabc1234 (below
# any release), -dirty -> ~dirty.
pkgver=$(sh scripts/pkgversion.sh "$VERSION") || exit 2

declare -A target=([amd64]=linux/amd64 [arm64]=linux/arm64 [arm7]=linux/arm/7 [mipsle]=linux/mipsle/softfloat)
declare -A dist=([amd64]=linux-amd64 [arm64]=linux-arm64 [arm7]=linux-arm [mipsle]=linux-mipsle)
# OpenWrt's package architectures for common gateway SoCs; override with IPK_ARCH_<arch>.
declare -A ipkarch=([amd64]=x86_64 [arm64]=aarch64_generic [arm7]=arm_cortex-a7_neon-vfpv4 [mipsle]=mipsel_24kc)

need=()
for a in "${archs[@]}"; do
	[ -n "${target[$a]:-}" ] || {
		echo "package: unknown arch $a (amd64 arm64 arm7 mipsle)" >&2
		exit 2
	}
	need+=("${target[$a]}")
done
scripts/cross.sh "$VERSION" "${need[@]}" || exit 1

# Architecture-independent files made per build (NFPM_GEN): the man pages
# gzip'd (packaging/man/, kept current by `make man` and TestManPage), the
# shell completions from imsictl itself, the Debian changelog.
gen=$DIST/gen
rm -rf "$gen"
mkdir -p "$gen"
gzip -9n <packaging/man/imsid.8 >"$gen/imsid.8.gz" &&
	gzip -9n <packaging/man/imsictl.1 >"$gen/imsictl.1.gz" &&
	sh scripts/changelog.sh "$pkgver" | gzip -9n >"$gen/changelog.gz" || {
	echo "package: man pages or changelog failed" >&2
	exit 1
}
for sh in bash zsh fish; do
	if ! $GO run ./cmd/imsictl completion "$sh" >"$gen/imsictl.$sh"; then
		echo "package: imsictl completion $sh failed" >&2
		exit 1
	fi
done
export NFPM_GEN=$gen

out=$DIST/packages
mkdir -p "$out"
rm -f "$out"/imsid_*.deb "$out"/imsid_*.ipk # only this run's packages in the listing
fails=0
for a in "${archs[@]}"; do
	ov="IPK_ARCH_$a"
	for p in "${packagers[@]}"; do
		na=$a
		[ "$p" = ipk ] && na=${!ov:-${ipkarch[$a]}}
		if ! NFPM_ARCH=$na NFPM_DIST="$DIST/${dist[$a]}" NFPM_VERSION=$pkgver \
			$NFPM package --config packaging/nfpm.yaml --packager "$p" --target "$out/" >"$out/.nfpm.log" 2>&1; then
			echo "package: nfpm $p for $a failed:" >&2
			sed 's/^/    /' "$out/.nfpm.log" >&2
			fails=$((fails + 1))
		fi
	done
done
rm -f "$out/.nfpm.log"
printf '%-60s %10s\n' PACKAGE BYTES
for f in "$out"/*; do
	[ -f "$f" ] && printf '%-60s %10d\n' "$f" "$(stat -c %s "$f")"
done
[ $fails -eq 0 ] || exit 1
