#!/usr/bin/env bash
# `make bench`: rloop against the raw file and the in-tree loop driver, on a
# non-debug kernel, one VM boot per backing (virtio, nullb). Results:
# out/bench/<date>/ (fio JSON, summary.json, bench.md, bench.svg); the
# latest is also copied to bench/results/. RLOOP_KERNEL=7.3 (make bench
# KERNEL=7.3) runs on 7.3's bench kernel: out/bench/<date>-7.3/, copied to
# bench/results/7.3/, beside 6.12's.
#
# RLOOP_BENCH_RUNTIME (s per job, default 5), RLOOP_BENCH_REPS (default 5) and
# RLOOP_BENCH_BACKINGS (default "virtio nullb") tune it; RLOOP_BENCH_PROFILES
# (names from `guest/bench.sh --list`, space-separated) runs only those;
# RLOOP_BENCH_LINGER_US, if set, is written to every rloop device's linger_us;
# RLOOP_BENCH_WQ_CPUMASK, if set (hex), keeps every unbound workqueue's
# workers, loop's and rloop's, to those CPUs; RLOOP_BENCH_FIO_CPUS, if set
# (fio's --cpus_allowed list), keeps fio's jobs to those CPUs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/env.sh"
cd "$top"
say() { printf '==> bench: %s\n' "$*" >&2; }

runtime=${RLOOP_BENCH_RUNTIME:-5}
reps=${RLOOP_BENCH_REPS:-5}
backings=${RLOOP_BENCH_BACKINGS:-virtio nullb}
file_mb=${RLOOP_BENCH_FILE_MB:-512}

# The profiles and their kinds, from the guest half; names are checked here,
# before anything is built.
declare -A kind_of=()
all=()
while read -r name kind; do
	kind_of[$name]=$kind
	all+=("$name")
done < <(guest/bench.sh --list)
profiles=${RLOOP_BENCH_PROFILES:-${all[*]}}
for p in $profiles; do
	[ -n "${kind_of[$p]:-}" ] ||
		{ echo "bench.sh: no profile named '$p'; there are: ${all[*]}" >&2; exit 2; }
done

# How long this will take, from runs under TCG on this 2-core machine: the
# boot and the preconditioning, then per job fio's start and end and what
# each kind sets up around its jobs (sparse: a file and a device; md: two
# devices and an array; ext4: mkfs and mount). One job per target and
# repetition; the polled profile is counted on all three targets, though
# only those whose device can poll run it.
estimate() {
	local per_rep=0 p setup=40
	for p in $profiles; do
		case "${kind_of[$p]}" in
		file) per_rep=$((per_rep + 3 * (runtime + 2))) ;;
		sparse) per_rep=$((per_rep + 3 * (runtime + 5))) ;;
		md) per_rep=$((per_rep + 2 * (runtime + 5))); setup=55 ;;
		ext4) per_rep=$((per_rep + 2 * (runtime + 3))) ;;
		esac
	done
	echo $(((setup + reps * per_rep) * $(wc -w <<<"$backings") + 60))
}
est=$(estimate)
say "profiles: $profiles"
say "backings: $backings; $reps repetitions, ${runtime} s per job;" \
	"estimated $((est / 60)) min $((est % 60)) s at most, with the kernel cached"

"$here/setup.sh" >&2
python3 bench/report.py --self-test >&2
kdir=$("$here/kernel.sh" bench)
run=$top/out/bench/$(date +%Y%m%d-%H%M%S)
results=bench/results
if [ "$RLOOP_KERNEL" != 6.12 ]; then
	run+=-$RLOOP_KERNEL
	results+=/$RLOOP_KERNEL
fi
mod=$run/module
mkdir -p "$mod"
start=$SECONDS

# The module for the bench kernel, built in its own directory so that the
# test build in the repository top stays as it is.
say "building rloop.ko against $kdir"
KDIR=$kdir "$here/module.sh" --out "$mod" >"$run/module-build.log" 2>&1 ||
	{ tail -n 30 "$run/module-build.log" >&2; exit 1; }
cargo build --release --quiet --manifest-path tools/Cargo.toml

for backing in $backings; do
	# The host's load while the guest runs: another VM or a build beside
	# it shows in the numbers, and the report shows it beside them.
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	say "backing $backing: one VM boot (host load $load)"
	disks=()
	# The file, the md members and a sparse file filled up, with room.
	[ "$backing" = virtio ] && disks=(--disk "$((3 * file_mb + 1024))M")
	RLOOP_BENCH=1 RLOOP_BENCH_MODULE=$mod/rloop.ko RLOOP_BENCH_RUNTIME=$runtime \
		RLOOP_BENCH_REPS=$reps RLOOP_BENCH_PROFILES=$profiles RLOOP_BENCH_HOST_LOAD=$load \
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
mkdir -p "$results"
cp "$run/summary.json" "$run/bench.md" "$run/bench.svg" "$results/"
say "results: $run (copied to $results/); $((SECONDS - start)) s, estimated $est s"
cat "$run/bench.md"
