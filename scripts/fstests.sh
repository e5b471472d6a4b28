#!/usr/bin/env bash
# Runs a user's fstests (xfstests) on rloop devices in the VM.
#
# Usage: fstests.sh [options] FSTESTS_DIR [CHECK-ARGS...]
#   FSTESTS_DIR  an fstests tree already built on this machine (`make` done
#                in it); this script neither downloads nor builds fstests
#   CHECK-ARGS   tests or groups for ./check (default: -g quick)
# Options:
#   --fs TYPE      file system under test (default xfs)
#   --raid0        TEST_DEV and SCRATCH_DEV are md raid0 over two rloop
#                  devices each
#   --size SIZE    size of each of the VM's two backing disks (default 16G,
#                  sparse)
#   --kernel DIR   kernel build (default: the test kernel, scripts/kernel.sh)
#   --timeout S    VM time limit (default 14400)
#
# The VM gets two disks with an xfs each; backing files on them are attached
# with rloopctl as TEST_DEV and SCRATCH_DEV (guest/fstests.sh writes
# local.config). fstests' own summary is printed at the end; the results and
# the local.config are in out/fstests/out/fstests/. Exit status: ./check's
# (or vm.sh's, if the VM failed: a kernel warning fails the run too).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/env.sh"
cd "$top"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }
guest_args=() size=16G kdir=${RLOOP_KDIR:-${KDIR:-}} timeout=14400
while [ $# -gt 0 ]; do
	case "$1" in
	--fs) guest_args+=(--fs "${2:?}"); shift 2 ;;
	--raid0) guest_args+=(--raid0); shift ;;
	--size) size=${2:?}; shift 2 ;;
	--kernel) kdir=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	-h | --help) usage ;;
	-*) echo "fstests.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
fstests=$(cd "$1" && pwd) || exit 2
shift
if [ ! -x "$fstests/check" ] || [ ! -x "$fstests/ltp/fsx" ]; then
	echo "fstests.sh: $fstests is not a built fstests tree (no ./check or ltp/fsx; run make there)" >&2
	exit 2
fi

"$here/setup.sh" >&2
[ -n "$kdir" ] || kdir=$("$here/kernel.sh" test)
export KDIR=$kdir
"$here/module.sh" >&2
cargo build --release --manifest-path tools/Cargo.toml >&2

rc=0
"$here/vm.sh" --quiet --disk "$size" --disk "$size" --mem 4096 --kernel "$kdir" \
	--timeout "$timeout" --out "$top/out/fstests" -- \
	guest/fstests.sh "${guest_args[@]}" "$fstests" "$@" >"$top/out/fstests.log" 2>&1 || rc=$?
# fstests' own summary: from the last "Ran:" (or "Passed all") on.
sed -n '/^Ran:/,$p; /^Passed all/p' "$top/out/fstests/out/fstests/check.log" 2>/dev/null || true
tail -n 3 "$top/out/fstests.log"
exit "$rc"
