#!/usr/bin/env bash
# Footprint of the cross-built imsid on ARM/MIPS without the hardware: runs
# `imsid --simulate simulator/scenarios/basic.yaml --speed 1` (idle polling
# in real time, as `make footprint` does natively) under qemu-user, and
# reports what can be measured honestly there:
#
#   - the Go runtime's own view from the daemon's /metrics
#     (go_memstats_heap_inuse_bytes, go_memstats_sys_bytes, go_goroutines):
#     the guest program's memory, independent of the emulator;
#   - the RSS of the process, from the host's /proc/<pid>/status: that is
#     qemu's process, so it is the guest's memory PLUS the translator and
#     its code cache: an upper bound, not the device's number;
#   - CPU time (utime+stime) on the host's (fast x86) core: emulated
#     instructions plus translation, not what the device's core spends. The
#     native amd64 run is printed beside it for scale.
#
# For each runner it also measures a "floor": a minimal Go program (a
# one-second ticker, built here for the same GOARCH) under the same runner.
# Its RSS is the emulator's and the Go runtime's fixed cost; imsid's RSS
# minus the floor is a tighter upper bound on imsid's own (the emulator's
# code cache still grows with the code imsid runs). FLOOR=0 skips it.
#
#   scripts/footprint-qemu.sh [SECONDS] [ARCH...]   ARCH: amd64 arm arm64 mipsle
#
# Defaults: 60 s, amd64 (native, for scale) arm arm64 mipsle. Needs qemu-user
# (Debian: apt-get install qemu-user), curl, and the binaries from
# `make cross` in $DIST/linux-<arch>/ (DIST defaults to dist).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
DIST=${DIST:-dist}
SCENARIO=${SCENARIO:-simulator/scenarios/basic.yaml}
secs=${1:-60}
shift || true
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(amd64 arm arm64 mipsle)
settle=10
hz=$(getconf CLK_TCK)

declare -A emu=([amd64]="" [arm]=qemu-arm [arm64]=qemu-aarch64 [mipsle]=qemu-mipsel)

command -v curl >/dev/null || {
	echo "footprint-qemu: curl is needed" >&2
	exit 2
}

# metric SOCKET NAME: one sample's value from /metrics.
metric() {
	curl -s --max-time 10 --unix-socket "$1" http://imsid/metrics | awk -v m="$2" '$1 == m { printf "%.0f\n", $2 }'
}

# cputicks PID: utime+stime in clock ticks (fields 14 and 15 of
# /proc/PID/stat, counted after the parenthesised command name).
cputicks() {
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# floor ARCH RUNNER...: RSS in bytes of a minimal Go program built for ARCH
# and run (5 s) under RUNNER ("" for native).
floordir=$(mktemp -d)
simdists=()
trap 'rm -rf "$floordir" "${simdists[@]}"' EXIT
floor() {
	local a=$1 bin=$floordir/floor-$1 pid rss
	shift
	if [ ! -x "$bin" ]; then
		[ -f "$floordir/main.go" ] || {
			printf 'module floor\n\ngo 1.21\n' >"$floordir/go.mod"
			cat >"$floordir/main.go" <<'GO'
package main

import (
	"os"
	"os/signal"
	"time"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	t := time.NewTicker(time.Second)
	for {
		select {
		case <-c:
			return
		case <-t.C:
		}
	}
}
GO
		}
		local env=(GOOS=linux GOARCH="$a")
		case $a in
		arm) env=(GOOS=linux GOARCH=arm GOARM=7) ;;
		mipsle) env=(GOOS=linux GOARCH=mipsle GOMIPS=softfloat) ;;
		esac
		(cd "$floordir" && env CGO_ENABLED=0 "${env[@]}" ${GO:-go} build -trimpath -ldflags '-s -w' -o "$bin" .) || return 1
	fi
	"$@" "$bin" &
	pid=$!
	sleep 5
	rss=$(awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$pid/status" 2>/dev/null)
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "$rss"
}

fails=0
floors=()
printf '%-7s %-13s %10s %7s %10s %8s %9s %9s %6s %8s %10s\n' arch runner heap_inuse go_sys goroutines rss_mean rss_max rss_anon rss_file cpu_s cpu_pct
for a in "${archs[@]}"; do
	[ -n "${emu[$a]+x}" ] || {
		echo "footprint-qemu: unknown arch $a (amd64 arm arm64 mipsle)" >&2
		exit 2
	}
	bin=$DIST/linux-$a/imsid
	[ -x "$bin" ] || {
		echo "footprint-qemu: $bin missing; run make cross" >&2
		fails=$((fails + 1))
		continue
	}
	runner=native
	cmd=("$bin")
	if [ -n "${emu[$a]}" ]; then
		command -v "${emu[$a]}" >/dev/null || {
			echo "footprint-qemu: ${emu[$a]} not installed (apt-get install qemu-user); skipping $a" >&2
			fails=$((fails + 1))
			continue
		}
		runner=${emu[$a]}
		cmd=("${emu[$a]}" "$bin")
	fi
	# The mips/mipsle imsid ships without the simulator (scripts/cross.sh,
	# -tags nosimulate): measure one built with it (CUTS=0, so also with
	# inlining), which carries about 0.8 MB more code than the shipped one.
	if ! "${cmd[@]}" --list-scenarios >/dev/null 2>&1; then
		simdist=$(mktemp -d)
		simdists+=("$simdist")
		if ! CUTS=0 DIST=$simdist bash scripts/cross.sh "$(git describe --tags --always --dirty 2>/dev/null || echo dev)" "linux/$a" >/dev/null; then
			echo "footprint-qemu: $bin has no simulator and one with it does not build; skipping $a" >&2
			fails=$((fails + 1))
			continue
		fi
		bin=$simdist/linux-$a/imsid
		cmd=("${cmd[@]:0:${#cmd[@]}-1}" "$bin")
		echo "footprint-qemu: $a: the shipped imsid has no simulator; measuring $bin (CUTS=0, with it)" >&2
	fi
	dir=$(mktemp -d)
	sock=$dir/imsid.sock
	"${cmd[@]}" --simulate "$SCENARIO" --speed 1 --state-dir "$dir" >"$dir/log" 2>&1 &
	pid=$!
	ready=0
	for _ in $(seq 1 240); do
		if [ -S "$sock" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$sock" http://imsid/readyz)" = 200 ]; then
			ready=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	if [ $ready = 0 ]; then
		echo "footprint-qemu: $a did not become ready; its log:" >&2
		tail -20 "$dir/log" | sed 's/^/    /' >&2
		kill -INT "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rm -rf "$dir"
		fails=$((fails + 1))
		continue
	fi
	# Start-up (SIM reads, attach, first scan) is not idle.
	sleep "$settle"
	c0=$(cputicks "$pid")
	sum=0 peak=0 n=0
	for _ in $(seq 1 "$secs"); do
		sleep 1
		rss=$(awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$pid/status" 2>/dev/null) || break
		[ -n "$rss" ] || break
		sum=$((sum + rss))
		n=$((n + 1))
		[ "$rss" -gt "$peak" ] && peak=$rss
	done
	c1=$(cputicks "$pid")
	anon=$(awk '/^RssAnon:/ { print $2 * 1024 }' "/proc/$pid/status" 2>/dev/null)
	file=$(awk '/^RssFile:/ { print $2 * 1024 }' "/proc/$pid/status" 2>/dev/null)
	heap=$(metric "$sock" go_memstats_heap_inuse_bytes)
	gosys=$(metric "$sock" go_memstats_sys_bytes)
	gor=$(metric "$sock" go_goroutines)
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [ "$n" -lt "$secs" ]; then
		echo "footprint-qemu: $a exited during the measurement; its log:" >&2
		tail -20 "$dir/log" | sed 's/^/    /' >&2
		fails=$((fails + 1))
	fi
	cpu=$(awk -v t=$((c1 - c0)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
	pct=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.2f%%", 100 * t / hz / s }')
	printf '%-7s %-13s %10s %7s %10s %8s %9s %9s %6s %8s %10s\n' "$a" "$runner" "$(mib "${heap:-0}")M" "$(mib "${gosys:-0}")M" \
		"${gor:-?}" "$(mib $((sum / (n > 0 ? n : 1))))M" "$(mib "$peak")M" "$(mib "${anon:-0}")M" "$(mib "${file:-0}")M" "$cpu" "$pct"
	rm -rf "$dir"
	if [ "${FLOOR:-1}" = 1 ]; then
		if f=$(floor "$a" "${cmd[@]:0:${#cmd[@]}-1}") && [ -n "$f" ]; then
			floors+=("$(printf '%-7s %-13s minimal Go program: rss %sM; imsid rss_mean minus it: %sM' "$a" "$runner" "$(mib "$f")" \
				"$(mib $((sum / (n > 0 ? n : 1) - f)))")")
		else
			echo "footprint-qemu: could not build or run the floor program for $a" >&2
		fi
	fi
done
for l in "${floors[@]}"; do echo "$l"; done
echo "(${secs} s at --speed 1 after ${settle} s settling. heap_inuse, go_sys, goroutines: the daemon's /metrics at the end."
echo " rss (mean/max over the run; anon/file split at the end) and cpu: the host process, which under qemu-user"
echo " includes the emulator, its code cache and its translation work: upper bounds, see docs/shipping.md.)"
[ $fails -eq 0 ]
