#!/usr/bin/env bash
# `make check-all`: `make check` on every kernel rloop supports
# (scripts/kernels.sh), one after the other: the host tests once, with the
# first; the guest suite on each. Then `make check-debian`: Debian's own
# 7.3 kernel, rloop through DKMS (root only; skipped, and counted so,
# otherwise). Each run's lines are prefixed with its name; the last line
# counts them all: "N passed, N failed[, N skipped]". Exits non-zero if
# anything failed anywhere. CI (.ci/run) runs this.
#
# Usage: check-all.sh [NAME...]   (make check-all T="NAME...")
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/env.sh"

np=0 nf=0 ns=0
# run NAME COMMAND...: one run, its lines prefixed, its summary counted.
run() {
	local name=$1 out rc=0 last
	shift
	out=$(mktemp)
	"$@" 2>&1 | tee "$out" | sed "s/^/[$name] /" || rc=$?
	# (make adds its own error line after a failed check's summary.)
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1 || true)
	rm -f "$out"
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
		np=$((np + BASH_REMATCH[1])) nf=$((nf + BASH_REMATCH[2])) ns=$((ns + ${BASH_REMATCH[4]:-0}))
		[ "$rc" -eq 0 ] || [ "${BASH_REMATCH[2]}" -gt 0 ] || { echo "FAIL [$name] exited $rc"; nf=$((nf + 1)); }
	else
		echo "FAIL [$name] ended without its summary line (exit $rc)"
		nf=$((nf + 1))
	fi
}

host=1
for k in "${RLOOP_KERNELS[@]}"; do
	run "$k" env RLOOP_HOST_TESTS=$host make -s --no-print-directory -C "$top" check KERNEL="$k" T="$*"
	host=0
done
if [ "$(id -u)" -eq 0 ]; then
	run debian make -s --no-print-directory -C "$top" check-debian T="$*"
else
	echo "SKIP [debian] make check-debian needs root (mmdebstrap, chroot, an overlay mount)"
	ns=$((ns + 1))
fi
s="$np passed, $nf failed"
[ "$ns" -eq 0 ] || s+=", $ns skipped"
echo "$s"
exit $((nf == 0 ? 0 : 1))
