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
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
GO=${GO:-go}
VERSION=${1:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(linux/amd64 linux/arm/7 linux/arm64 linux/mipsle/softfloat)
cmds=(imsid imsictl modemsim)
TAGS=${TAGS-nethttpomithttp2}

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
		# -s -w strips the symbol table and DWARF; -trimpath keeps build paths out.
		if ! env "${env[@]}" $GO build -tags "$TAGS" -trimpath -ldflags "-s -w -X main.version=$VERSION" -o "$out/$c" "./cmd/$c" 2>"$out/$c.err"; then
			echo "cross: $c for $t does not build:" >&2
			sed 's/^/    /' "$out/$c.err" >&2
			fails=$((fails + 1))
			continue
		fi
		rm -f "$out/$c.err"
		size=$(stat -c %s "$out/$c")
		rows+=("$(printf '%-22s %-9s %10d %8.1f' "$t" "$c" "$size" "$(echo "$size/1048576" | bc -l)")")
	done
done
printf '%-22s %-9s %10s %8s\n' TARGET COMMAND BYTES MiB
printf '%s\n' "${rows[@]}"
echo "cross: version $VERSION, static (CGO_ENABLED=0), stripped, tags '$TAGS', in ${DIST:-dist}/"
[ $fails -eq 0 ] || {
	echo "cross: $fails build(s) failed" >&2
	exit 1
}
