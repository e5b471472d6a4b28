#!/usr/bin/env bash
# `make bench`: rloop against the raw file and the in-tree loop driver, on a
# non-debug kernel, one VM boot per backing (virtio, nullb). Results:
# out/bench/<date>/ (fio JSON, summary.json, bench.md, bench.svg); the
# latest is also copied to bench/results/.
#
# RLOOP_BENCH_RUNTIME (s per job, default 5), RLOOP_BENCH_REPS (default 5) and
# RLOOP_BENCH_BACKINGS (default "virtio nullb") tune it; RLOOP_BENCH_PROFILES
# (names from guest/bench.sh, space-separated) runs only those;
# RLOOP_BENCH_POLL_US, if set, is written to every rloop device's poll_us.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/env.sh"
cd "$top"
say() { printf '==> bench: %s\n' "$*" >&2; }

file_mb=${RLOOP_BENCH_FILE_MB:-512}

"$here/setup.sh" >&2
kdir=$("$here/kernel.sh" bench)
run=$top/out/bench/$(date +%Y%m%d-%H%M%S)
mod=$run/module
mkdir -p "$mod"

# The module for the bench kernel, built in its own directory so that the
# test build in the repository top stays as it is.
say "building rloop.ko against $kdir"
cp -r Kbuild ./*.rs ./*.c block backing kernel_extras uapi "$mod/"
make -C "$kdir" M="$mod" LLVM=1 RUSTC="$KRUSTC" RUSTDOC="$KRUSTDOC" BINDGEN="$BINDGEN" \
	RUST_LIB_SRC="$RUST_LIB_SRC" modules >"$run/module-build.log" 2>&1 ||
	{ tail -n 30 "$run/module-build.log" >&2; exit 1; }
cargo build --release --quiet --manifest-path tools/Cargo.toml

for backing in ${RLOOP_BENCH_BACKINGS:-virtio nullb}; do
	# The host's load while the guest runs: another VM or a build beside
	# it shows in the numbers, and the report shows it beside them.
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	say "backing $backing: one VM boot (host load $load)"
	disks=()
	# The file, the md members and a sparse file filled up, with room.
	[ "$backing" = virtio ] && disks=(--disk "$((3 * file_mb + 1024))M")
	RLOOP_BENCH=1 RLOOP_BENCH_MODULE=$mod/rloop.ko RLOOP_BENCH_RUNTIME=${RLOOP_BENCH_RUNTIME:-5} \
		RLOOP_BENCH_REPS=${RLOOP_BENCH_REPS:-5} RLOOP_BENCH_HOST_LOAD=$load \
		"$here/vm.sh" --kernel "$kdir" --mem 4096 --quiet --no-kmemleak --timeout 3600 \
		--out "$run/vm-$backing" "${disks[@]}" -- guest/bench.sh "$backing"
	cp -r "$run/vm-$backing/out/bench/$backing" "$run/"
	{
		echo "host_loadavg_end $(cut -d' ' -f1-3 /proc/loadavg)"
		echo "host_cpus $(nproc)"
		echo "kernel_build $(basename "$kdir")"
	} >>"$run/$backing/env.txt"
done

python3 bench/report.py "$run"
mkdir -p bench/results
cp "$run/summary.json" "$run/bench.md" "$run/bench.svg" bench/results/
say "results: $run (copied to bench/results/)"
cat "$run/bench.md"
