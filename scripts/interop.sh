#!/usr/bin/env bash
# make interop: a third-party AT client (warthog618's modeminfo, the module
# version imsid pins) against modemsim on a pty. Passes when the
# manufacturer, model, IMEI, IMSI, CSQ and registration modeminfo prints are
# the scenario's, as `modemsim --print-expected` states them.
#
# Expects `make build` to have produced bin/modemsim. Environment:
#   SCENARIO          scenario file (default simulator/scenarios/basic.yaml)
#   MODEMINFO_TIMEOUT seconds modeminfo may run (default 20)
#   MODEMINFO         a prebuilt modeminfo binary (default: go install it)
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIO=${SCENARIO:-simulator/scenarios/basic.yaml}
MODEMINFO_TIMEOUT=${MODEMINFO_TIMEOUT:-20}
MODEMINFO_PKG=github.com/warthog618/modem/cmd/modeminfo@v0.4.0
# modeminfo never exits by itself; its last command tells us it is done.
LAST_CMD='AT^USSDMODE=?'

work=$(mktemp -d "${TMPDIR:-/tmp}/interop.XXXXXX")
sim_pid=""
info_pid=""
cleanup() {
	local rc=$?
	for pid in "$info_pid" "$sim_pid"; do
		if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "interop: FAIL: $*" >&2
	for f in modemsim.err modeminfo.out modeminfo.err; do
		if [[ -s "$work/$f" ]]; then
			echo "--- $f" >&2
			tail -n 60 "$work/$f" >&2
		fi
	done
	exit 1
}

[[ -x bin/modemsim ]] || fail "bin/modemsim missing: run make build (make interop does)"
[[ -r "$SCENARIO" ]] || fail "scenario $SCENARIO not readable"

# Build modeminfo before the clock starts, so compile time on a busy machine
# does not eat into its timeout. The local module cache is tried first as a
# proxy: it works offline and behind proxies that refuse version listings.
if [[ -n "${MODEMINFO:-}" ]]; then
	modeminfo=$MODEMINFO
else
	echo "interop: building $MODEMINFO_PKG"
	cache="$(go env GOMODCACHE)/cache/download"
	GOBIN="$work" GOFLAGS=-mod=mod GOPROXY="file://$cache,$(go env GOPROXY)" \
		go install "$MODEMINFO_PKG" 2>"$work/build.err" ||
		{ cat "$work/build.err" >&2; fail "could not build $MODEMINFO_PKG"; }
	modeminfo="$work/modeminfo"
fi

bin/modemsim --scenario "$SCENARIO" --print-expected >"$work/expected" 2>"$work/modemsim.err" ||
	fail "modemsim --print-expected failed"

bin/modemsim --scenario "$SCENARIO" >"$work/modemsim.out" 2>"$work/modemsim.err" &
sim_pid=$!
pty=""
for _ in $(seq 100); do
	pty=$(head -n 1 "$work/modemsim.out" 2>/dev/null || true)
	[[ -n "$pty" ]] && break
	kill -0 "$sim_pid" 2>/dev/null || fail "modemsim exited before printing its pty"
	sleep 0.1
done
[[ -c "$pty" ]] || fail "modemsim's first line is not a character device: '$pty'"
echo "interop: modemsim on $pty, running modeminfo (up to ${MODEMINFO_TIMEOUT}s)"

"$modeminfo" -d "$pty" >"$work/modeminfo.out" 2>"$work/modeminfo.err" &
info_pid=$!
deadline=$((SECONDS + MODEMINFO_TIMEOUT))
done_reading=""
while ((SECONDS < deadline)); do
	# The result of the last command follows its header line.
	if grep -qxF -A1 "$LAST_CMD" "$work/modeminfo.out" &&
		[[ $(grep -xF -A1 "$LAST_CMD" "$work/modeminfo.out" | wc -l) -ge 2 ]]; then
		done_reading=1
		break
	fi
	kill -0 "$info_pid" 2>/dev/null || break
	sleep 0.2
done
kill -TERM "$info_pid" 2>/dev/null || true
wait "$info_pid" 2>/dev/null || true
info_pid=""
[[ -n "$done_reading" ]] || echo "interop: note: modeminfo did not reach $LAST_CMD; judging what it printed" >&2

# modeminfo prints each command, then its information lines indented by one
# space (or the error). Collect them in --print-expected's key=value form.
actual() {
	local key=$1 cmd=$2
	awk -v key="$key" -v cmd="$cmd" '
		$0 == cmd { on = 1; n = 0; val = ""; next }
		on && /^ / { sub(/^ /, ""); val = (n++ ? val "|" : "") $0; next }
		on { exit }
		END { print key "=" val }
	' "$work/modeminfo.out"
}
{
	actual manufacturer 'AT+CGMI'
	actual model 'AT+CGMM'
	actual imei 'AT+CGSN'
	actual imsi 'AT+CIMI'
	actual csq 'AT+CSQ'
	actual creg 'AT+CREG?'
} >"$work/actual"

if ! diff -u --label expected --label modeminfo "$work/expected" "$work/actual" >"$work/diff"; then
	cat "$work/diff" >&2
	fail "modeminfo's view of the modem differs from the scenario (diff above)"
fi
# Scenario IMSIs are test data, but the house rule is no IMSI in clear in
# logs: the summary keeps MCC+MNC and the last two digits (a failing diff
# shows everything, since that is what one needs to debug).
sed -E 's/^(imsi=[0-9]{5})[0-9]*([0-9]{2})$/\1********\2/; s/^/  /' "$work/actual"
kill -0 "$sim_pid" 2>/dev/null || fail "modemsim died during the run"
echo "interop: PASS: modeminfo ($MODEMINFO_PKG) read the scenario's identity, IMSI, CSQ and registration"
