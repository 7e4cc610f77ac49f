#!/usr/bin/env bash
# Builds static (CGO_ENABLED=0), stripped binaries of every command for the
# gateway targets into dist/<os>-<arch>/ with the version stamped in
# (-X main.version), then prints their sizes.
#
#   scripts/cross.sh [VERSION] [TARGET...]
#
# TARGET is os/arch[/variant]; default: linux/amd64 linux/arm/7
# linux/arm64 linux/mipsle/softfloat (variant = GOARM or GOMIPS).
# DIST (default dist) is the output root. Exits non-zero, naming the target
# and command, if anything fails to build.
#
# TAGS (default nethttpomithttp2) are the build tags. nethttpomithttp2 leaves
# net/http's bundled HTTP/2 out: the API, its clients and the upstream speak
# HTTP/1.1 (JSON and SSE need nothing more, and Prometheus and curl fall back
# to it through ALPN), and it is 0.5 MB of imsid and 0.4 MB of imsictl on
# mipsle (docs/shipping.md). TAGS= builds with HTTP/2.
#
# Gateway cuts (docs/shipping.md, "What the gateway builds leave out"): to
# stay under make footprint's limits (imsid 10 MiB, imsictl 6 MiB), some
# targets build some commands with more tags and flags, printed in the
# table's last column. CUTS=0 builds every target like amd64.
#   imsictl, every target but amd64: -tags noman (the hidden __man, which
#     only `make man` runs, natively).
#   imsictl, mips/mipsle: also inlining off (-gcflags=all=-l) and 16 KiB
#     segment alignment (-ldflags -R 0x4000, instead of 64 KiB: the binary
#     needs a kernel with 4 or 16 KiB pages, as every OpenWrt MIPS target).
#   imsid, mips/mipsle: -tags nosimulate (no --simulate, no built-in
#     scenarios) and inlining off except in imsid's own packages, the
#     runtime and the basic standard packages (keep_inlining below).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
GO=${GO:-go}
VERSION=${1:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(linux/amd64 linux/arm/7 linux/arm64 linux/mipsle/softfloat)
cmds=(imsid imsictl modemsim)
TAGS=${TAGS-nethttpomithttp2}

CUTS=${CUTS:-1}

# Inlining off everywhere but where imsid's hot paths run: its own packages,
# the runtime and the small standard packages they call in loops. Measured
# in docs/shipping.md.
keep_inlining=(-gcflags=all=-l)
for p in github.com/imsid/imsid/... runtime/... internal/... sync/... time slices sort strings bytes \
	math/... maps errors strconv unicode/... iter cmp container/... context; do
	keep_inlining+=("-gcflags=$p=")
done

# cuts CMD ARCH sets xtags (extra build tags), xflags (extra go build
# flags), xld (extra linker flags) and xnote (the table's note).
cuts() {
	xtags="" xflags=() xld="" xnote=""
	[ "$CUTS" = 1 ] || return 0
	case "$1/$2" in
	imsictl/amd64) ;;
	imsictl/mips | imsictl/mipsle)
		xtags=noman xflags=(-gcflags=all=-l) xld="-R 0x4000" xnote="noman, -l, -R 0x4000" ;;
	imsictl/*) xtags=noman xnote="noman" ;;
	imsid/mips | imsid/mipsle)
		xtags=nosimulate xflags=("${keep_inlining[@]}") xnote="nosimulate, -l outside imsid" ;;
	esac
}

fails=0
rows=()
for t in "${targets[@]}"; do
	IFS=/ read -r os arch variant <<<"$t"
	out="${DIST:-dist}/$os-$arch"
	mkdir -p "$out"
	env=(CGO_ENABLED=0 GOOS="$os" GOARCH="$arch")
	case "$arch" in
	arm) env+=(GOARM="${variant:-7}") ;;
	mips | mipsle) env+=(GOMIPS="${variant:-softfloat}") ;;
	esac
	for c in "${cmds[@]}"; do
		cuts "$c" "$arch"
		tags=$TAGS
		[ -z "$xtags" ] || tags="${tags:+$tags,}$xtags"
		# -s -w strips the symbol table and DWARF; -trimpath keeps build paths out.
		if ! env "${env[@]}" $GO build -tags "$tags" "${xflags[@]}" -trimpath -ldflags "-s -w $xld -X main.version=$VERSION" -o "$out/$c" "./cmd/$c" 2>"$out/$c.err"; then
			echo "cross: $c for $t does not build:" >&2
			sed 's/^/    /' "$out/$c.err" >&2
			fails=$((fails + 1))
			continue
		fi
		rm -f "$out/$c.err"
		size=$(stat -c %s "$out/$c")
		rows+=("$(printf '%-22s %-9s %10d %8.1f  %s' "$t" "$c" "$size" "$(echo "$size/1048576" | bc -l)" "$xnote")")
	done
done
printf '%-22s %-9s %10s %8s  %s\n' TARGET COMMAND BYTES MiB CUTS
printf '%s\n' "${rows[@]}"
echo "cross: version $VERSION, static (CGO_ENABLED=0), stripped, tags '$TAGS' (CUTS=$CUTS: the gateway cuts in the last column), in ${DIST:-dist}/"
[ $fails -eq 0 ] || {
	echo "cross: $fails build(s) failed" >&2
	exit 1
}
