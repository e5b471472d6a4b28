#!/usr/bin/env bash
# `make hops`: where the time of one 4k random read at QD1 goes, hop by hop
# (guest/hops.sh names the hops), for the raw file, loop and rloop on a file
# on xfs on null_blk, with ftrace events and kprobes, on the non-debug
# kernel, in one VM boot. Results: out/hops/<date>/hops/ (the traces, fio's
# JSON, hops.md, hops.json); hops.md and hops.json also go to bench/results/.
#
# RLOOP_HOPS_CONFIGS, RLOOP_HOPS_RUNTIME, RLOOP_HOPS_MAX_IOS and
# RLOOP_HOPS_FILE_MB tune the guest's half (guest/hops.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/env.sh"
cd "$top"
say() { printf '==> hops: %s\n' "$*" >&2; }

python3 bench/hops.py --self-test >&2
"$here/setup.sh" >&2
kdir=$("$here/kernel.sh" bench)
run=$top/out/hops/$(date +%Y%m%d-%H%M%S)
mod=$run/module
mkdir -p "$mod"

# The module for the bench kernel, built in its own directory so that the
# test build in the repository top stays.
say "building rloop.ko against $kdir"
KDIR=$kdir "$here/module.sh" --out "$mod" >"$run/module-build.log" 2>&1 ||
	{ tail -n 30 "$run/module-build.log" >&2; exit 1; }
cargo build --release --quiet --manifest-path tools/Cargo.toml

# vm.sh tells the guest its TSC rate (tsc_early_khz), so that its clocks,
# the trace clock too, are finer than a hop; guest/hops.sh checks.
rc=0
RLOOP_HOPS_MODULE=$mod/rloop.ko \
	"$here/vm.sh" --kernel "$kdir" --mem 3072 --quiet --no-kmemleak --timeout 1800 \
	--out "$run/vm" -- guest/hops.sh || rc=$?
if [ ! -f "$run/vm/out/hops/configs.txt" ]; then
	say "the guest measured nothing (vm.sh exit $rc): $run/vm/output.log"
	exit $((rc ? rc : 1))
fi
cp -r "$run/vm/out/hops" "$run/"
python3 bench/hops.py "$run/hops"
if [ "$rc" -eq 0 ]; then
	mkdir -p bench/results
	cp "$run/hops/hops.md" "$run/hops/hops.json" bench/results/
	say "results: $run/hops (hops.md and hops.json copied to bench/results/)"
else
	say "the guest failed (vm.sh exit $rc): results in $run/hops, not copied to bench/results/"
fi
cat "$run/hops/hops.md"
exit "$rc"
