#!/bin/bash
# The benchmark, in the guest: one backing (virtio or nullb), fio profiles
# against the raw file with O_DIRECT, the in-tree loop with --direct-io=on and
# rloop, targets back to back within a repetition, REPS repetitions. Writes
# fio's JSON, CPU counts and env.txt to $RLOOP_OUT/bench/<backing>/.
# Usage: guest/bench.sh virtio|nullb
#        guest/bench.sh --list     (the profiles: name and kind, one a line)
set -euo pipefail

# name, kind, fio arguments. Kinds:
#   file    the three targets on the one preconditioned file (io_uring, O_DIRECT)
#   sparse  each target on a sparse file of the same size, made afresh for
#           each target and repetition: the writes allocate its blocks
#   md      md raid0 (64K chunks) over two loop devices, then over two rloop
#           devices, on the same two preconditioned files; no raw target
#   ext4    ext4 made on the loop device, then on the rloop device (over the
#           preconditioned file, one after the other), fio writing a file in
#           it with psync, buffered, fsync every 8 writes; no raw target
profiles=(
	"rr4k_qd32 file --rw=randread --bs=4k --iodepth=32"
	"rr4k_qd1 file --rw=randread --bs=4k --iodepth=1"
	"rw4k_qd32 file --rw=randwrite --bs=4k --iodepth=32"
	"sr1m_qd8 file --rw=read --bs=1M --iodepth=8"
	"sw1m_qd8 file --rw=write --bs=1M --iodepth=8"
	"rr4k_qd32_2j file --rw=randread --bs=4k --iodepth=32 --numjobs=2"
	# io_uring IOPOLL, where the target's device can poll (null_blk with
	# its poll queues; rloop if it says so). 6.12 fails a polled read on a
	# device without poll support (queue/io_poll 0: loop, virtio-blk
	# without poll queues) with EOPNOTSUPP instead of completing it by
	# interrupt, so such a target is left out of this profile (n/a).
	"rr4k_qd1_hipri file --rw=randread --bs=4k --iodepth=1 --hipri"
	"rw4k_sparse_qd32 sparse --rw=randwrite --bs=4k --iodepth=32"
	"rr4k_qd32_md md --rw=randread --bs=4k --iodepth=32"
	"ext4_fsync ext4 --ioengine=psync --direct=0 --rw=randwrite --bs=4k --fsync=8 --size=256M"
)
if [ "${1:-}" = --list ]; then
	for p in "${profiles[@]}"; do
		read -r name kind _ <<<"$p"
		echo "$name $kind"
	done
	exit 0
fi

backing=$1
: "${RLOOP_BENCH_RUNTIME:=5}" "${RLOOP_BENCH_REPS:=5}" "${RLOOP_BENCH_FILE_MB:=512}"
top=$RLOOP_TOP
. "$top/scripts/on-error.sh"
mod=$RLOOP_BENCH_MODULE
rloopctl=$top/tools/target/release/rloopctl
out=$RLOOP_OUT/bench/$backing
mkdir -p "$out"
log() { echo "bench[$backing]: $*"; }
die() { echo "bench[$backing]: $*" >&2; exit 1; }

# RLOOP_BENCH_PROFILES (names, space-separated) runs only those.
if [ -n "${RLOOP_BENCH_PROFILES:-}" ]; then
	chosen=()
	for want in $RLOOP_BENCH_PROFILES; do
		found=
		for p in "${profiles[@]}"; do
			[ "${p%% *}" != "$want" ] || { chosen+=("$p"); found=1; }
		done
		[ -n "$found" ] || die "no profile named '$want' (guest/bench.sh --list)"
	done
	profiles=("${chosen[@]}")
fi
kinds=" "
for p in "${profiles[@]}"; do
	read -r _ kind _ <<<"$p"
	kinds+="$kind "
done

case "$backing" in
virtio)
	read -r -a disks <<<"$RLOOP_DISKS"
	dev=${disks[0]}
	;;
nullb)
	# A memory-backed null_blk: the CPU is the bottleneck, every layer's
	# cost shows. Two poll queues (the module parameter caps the configfs
	# attribute), so that the raw file can poll too.
	modprobe configfs 2>/dev/null || true
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
	modprobe null_blk nr_devices=0 poll_queues=2
	nb=/sys/kernel/config/nullb/nullb0
	mkdir "$nb"
	# Room for the file, the md members and a sparse file filled up.
	echo $((3 * RLOOP_BENCH_FILE_MB + 256)) >"$nb/size"
	echo 1 >"$nb/memory_backed"
	echo 512 >"$nb/blocksize"
	echo 0 >"$nb/irqmode"
	echo 2 >"$nb/poll_queues"
	echo 1 >"$nb/power"
	dev=/dev/nullb0
	;;
*) echo "usage: guest/bench.sh virtio|nullb|--list" >&2; exit 2 ;;
esac

# RLOOP_BENCH_SCHED sets the backing device's I/O scheduler (default: the
# kernel's choice, kept in env.txt).
if [ -n "${RLOOP_BENCH_SCHED:-}" ]; then
	echo "$RLOOP_BENCH_SCHED" >"/sys/block/${dev#/dev/}/queue/scheduler"
fi
mkfs.xfs -f -q "$dev"
mkdir -p /run/bench /run/bench-ext4 /run/bench-fio
mount "$dev" /run/bench
file=/run/bench/backing
sparse=/run/bench/sparse
precondition() { # FILE MB
	dd if=/dev/zero of="$1" bs=1M count="$2" oflag=direct conv=fsync status=none
}
log "preconditioning a ${RLOOP_BENCH_FILE_MB}M file on $dev"
precondition "$file" "$RLOOP_BENCH_FILE_MB"
# md raid0's members: two files of half the size, so that the array is as
# large as the file the other profiles use.
md_files=(/run/bench/md0 /run/bench/md1)
if [[ $kinds == *" md "* ]]; then
	log "preconditioning two $((RLOOP_BENCH_FILE_MB / 2))M files for md raid0"
	for f in "${md_files[@]}"; do precondition "$f" $((RLOOP_BENCH_FILE_MB / 2)); done
fi

modprobe loop
insmod "$mod"

# The attach helpers leave the device's name in $attached.
loop_attach() { # FILE
	attached=$(losetup --direct-io=on -f --show "$1")
	[ "$(cat "/sys/block/${attached#/dev/}/loop/dio")" = 1 ] ||
		die "loop is not in direct-I/O mode on $1"
}
# RLOOP_BENCH_LINGER_US, if set, goes to every rloop device's linger_us (0: the
# worker does not linger). Without the knob (a module without lingering) 0 is
# what there is anyway; anything else cannot be had.
rloop_attach() { # FILE
	attached=$("$rloopctl" create "$1")
	[ -n "${RLOOP_BENCH_LINGER_US:-}" ] || return 0
	local knob=/sys/block/${attached#/dev/}/rloop/linger_us
	if [ -e "$knob" ]; then
		echo "$RLOOP_BENCH_LINGER_US" >"$knob"
	elif [ "$RLOOP_BENCH_LINGER_US" != 0 ]; then
		die "RLOOP_BENCH_LINGER_US=$RLOOP_BENCH_LINGER_US, but $attached has no linger_us"
	fi
}
# wait_detached TARGET DEVICE: until DEVICE has let its file go. A device
# udev still has open is detached on that last close.
wait_detached() {
	local gone=/sys/block/${2#/dev/}/loop/backing_file i
	[ "$1" = loop ] || gone=/sys/block/${2#/dev/}
	for ((i = 0; i < 100; i++)); do
		[ -e "$gone" ] || return 0
		sleep 0.1
	done
	die "$2 still holds its file 10 s after the detach"
}
detach() { # TARGET DEVICE
	case "$1" in
	loop) losetup -d "$2" ;;
	rloop) "$rloopctl" detach "$2" ;;
	esac
}

loop_attach "$file"
loopdev=$attached
rloop_attach "$file"
rdev=$attached
declare -A target=([raw]=$file [loop]=$loopdev [rloop]=$rdev)
# Whether a target's device can poll: for the raw file, the backing device.
io_poll() { # TARGET
	local d=${target[$1]}
	[ "$1" != raw ] || d=$dev
	cat "/sys/block/${d#/dev/}/queue/io_poll"
}
log "targets: raw=$file loop=$loopdev rloop=$rdev"
# RLOOP_BENCH_WQ_CPUMASK, if set (hex), keeps the workers of every unbound
# workqueue to those CPUs for the whole boot: loop's and rloop's alike.
wq_mask=/sys/devices/virtual/workqueue/cpumask
if [ -n "${RLOOP_BENCH_WQ_CPUMASK:-}" ]; then
	echo "$RLOOP_BENCH_WQ_CPUMASK" >"$wq_mask" || die "cannot set $wq_mask to $RLOOP_BENCH_WQ_CPUMASK"
fi
{
	echo "kernel $(uname -r)"
	echo "cpus $(nproc)"
	echo "backing $backing $dev"
	echo "backing_scheduler $(cat "/sys/block/${dev#/dev/}/queue/scheduler")"
	echo "io_poll raw=$(io_poll raw) loop=$(io_poll loop) rloop=$(io_poll rloop)"
	[ "$backing" != nullb ] || echo "backing_poll_queues $(cat "$nb/poll_queues")"
	echo "loop_logical_block_size $(cat "/sys/block/${loopdev#/dev/}/queue/logical_block_size")"
	echo "rloop_logical_block_size $(cat "/sys/block/${rdev#/dev/}/queue/logical_block_size")"
	# rloop's lingering worker: the module's default for new devices and the
	# device's own value (absent in a module without it).
	v=$(cat /sys/module/rloop/parameters/linger_us 2>/dev/null) && echo "rloop_linger_us_param $v"
	v=$(cat "/sys/block/${rdev#/dev/}/rloop/linger_us" 2>/dev/null) && echo "rloop_linger_us $v"
	[ -z "${RLOOP_BENCH_LINGER_US:-}" ] || echo "rloop_linger_us_requested $RLOOP_BENCH_LINGER_US"
	[ -z "${RLOOP_BENCH_FIO_CPUS:-}" ] || echo "fio_cpus_allowed $RLOOP_BENCH_FIO_CPUS"
	echo "wq_cpumask $(cat "$wq_mask")"
	# The host's /proc/loadavg when this boot started (scripts/bench.sh).
	[ -z "${RLOOP_BENCH_HOST_LOAD:-}" ] || echo "host_loadavg $RLOOP_BENCH_HOST_LOAD"
	echo "profiles $(for p in "${profiles[@]}"; do printf '%s ' "${p%% *}"; done)"
} >"$out/env.txt"

# rloop_linger_stats: the linger counters of every rloop device summed, one
# line: hits, misses, µs lingered, wake-ups (all zero for a module without
# them, the wake-ups for one without that count).
rloop_linger_stats() {
	local f h m us wk hits=0 misses=0 lingered=0 wakeups=0
	for f in /sys/block/rloop*/rloop/linger_stats; do
		[ -e "$f" ] || continue
		read -r h m us _ wk <"$f" || continue
		hits=$((hits + h)) misses=$((misses + m)) lingered=$((lingered + us))
		wakeups=$((wakeups + ${wk:-0}))
	done
	echo "$hits $misses $lingered $wakeups"
}

# cpu_jiffies FILE: busy and total jiffies of all CPUs (loop's and rloop's
# workers are kernel threads that fio's own CPU figures never see) from the
# "cpu" line of /proc/stat or a copy of it, into $busy and $total. Builtins
# only: every exec costs under TCG.
cpu_jiffies() {
	local user nice system idle iowait irq softirq steal
	read -r _ user nice system idle iowait irq softirq steal _ <"$1"
	busy=$((user + nice + system + irq + softirq + steal))
	total=$((busy + idle + iowait))
}
hz=$(getconf CLK_TCK)
# run_fio NAME TARGET REP FILENAME ARGS...: one fio job, its JSON and the CPU
# time all CPUs were busy while it did I/O. fio itself takes half a CPU
# second and more to start and to write its report under TCG, so the
# /proc/stat copies come from fio's exec_prerun and exec_postrun (after the
# ring is set up, and after the last I/O; fio leaves their output in
# NAME.prerun.txt and NAME.postrun.txt in its working directory); the window
# around the whole fio process is the fallback.
run_fio() {
	local name=$1 t=$2 rep=$3 filename=$4 b0 t0 b1 t1 pre=/run/bench-fio/$1.prerun.txt
	local post=/run/bench-fio/$1.postrun.txt
	shift 4
	sync
	rm -f "$pre" "$post"
	cpu_jiffies /proc/stat
	b0=$busy t0=$total
	# rloop's linger counters around the job (hits, misses, µs lingered,
	# wake-ups): where lingering spends CPU, and how many I/Os a wake-up
	# carries, per profile.
	[ "$t" != rloop ] || rloop_linger_stats >"$out/$name.$t.$rep.linger"
	(cd /run/bench-fio && fio --name="$name" --filename="$filename" \
		${RLOOP_BENCH_FIO_CPUS:+--cpus_allowed="$RLOOP_BENCH_FIO_CPUS"} \
		--time_based --runtime="$RLOOP_BENCH_RUNTIME" \
		--norandommap --randrepeat=0 --lat_percentiles=1 --group_reporting \
		--exec_prerun="head -n 1 /proc/stat" --exec_postrun="head -n 1 /proc/stat" \
		--output-format=json --output="$out/$name.$t.$rep.json" "$@")
	cpu_jiffies /proc/stat
	b1=$busy t1=$total
	if [ -s "$pre" ] && [ -s "$post" ]; then
		cpu_jiffies "$pre"
		b0=$busy t0=$total
		cpu_jiffies "$post"
		b1=$busy t1=$total
	fi
	echo "$((b1 - b0)) $((t1 - t0)) $hz" >"$out/$name.$t.$rep.cpu"
	[ "$t" != rloop ] || rloop_linger_stats >>"$out/$name.$t.$rep.linger"
	log "rep $rep $name $t done"
}

direct=(--ioengine=io_uring --direct=1)
whole=(--size="${RLOOP_BENCH_FILE_MB}M")
md=/dev/md127
for rep in $(seq "$RLOOP_BENCH_REPS"); do
	for p in "${profiles[@]}"; do
		read -r name kind args <<<"$p"
		read -r -a args <<<"$args"
		case "$kind" in
		file)
			for t in raw loop rloop; do
				if [[ " ${args[*]} " == *" --hipri "* ]] && [ "$(io_poll "$t")" != 1 ]; then
					log "rep $rep $name $t: n/a, ${target[$t]} cannot poll"
					continue
				fi
				run_fio "$name" "$t" "$rep" "${target[$t]}" "${direct[@]}" "${whole[@]}" "${args[@]}"
			done
			;;
		sparse)
			for t in raw loop rloop; do
				rm -f "$sparse"
				truncate -s "${RLOOP_BENCH_FILE_MB}M" "$sparse"
				d=$sparse
				if [ "$t" != raw ]; then
					"${t}_attach" "$sparse"
					d=$attached
					udevadm settle
				fi
				run_fio "$name" "$t" "$rep" "$d" "${direct[@]}" "${whole[@]}" "${args[@]}"
				[ "$t" = raw ] || { detach "$t" "$d"; wait_detached "$t" "$d"; }
				rm -f "$sparse"
				# xfs frees a removed file's extents in the background
				# (inodegc): tens of thousands of them here, which would be
				# freed during the next target's run and be counted in its
				# CPU and IOPS. A freeze waits for that work to end.
				fsfreeze -f /run/bench
				fsfreeze -u /run/bench
			done
			;;
		md)
			for t in loop rloop; do
				members=()
				for f in "${md_files[@]}"; do
					"${t}_attach" "$f"
					members+=("$attached")
				done
				mdadm --create "$md" --run --quiet --level=0 --chunk=64 --raid-devices=2 \
					--metadata=1.2 "${members[@]}"
				udevadm settle
				run_fio "$name" "$t" "$rep" "$md" "${direct[@]}" "${args[@]}"
				mdadm --stop --quiet "$md"
				# No superblock left for udev to assemble the members by
				# when they are attached again.
				mdadm --zero-superblock "${members[@]}"
				for m in "${members[@]}"; do detach "$t" "$m"; done
			done
			;;
		ext4)
			# No discard and no zeroing (the lazy inits left undone,
			# noinit_itable): loop and rloop would punch holes in the
			# preconditioned file, and the read profiles of the next
			# repetitions would read holes there.
			for t in loop rloop; do
				mkfs.ext4 -q -F -b 4096 -E nodiscard,lazy_itable_init=1,lazy_journal_init=1 \
					"${target[$t]}"
				mount -o noinit_itable "${target[$t]}" /run/bench-ext4
				run_fio "$name" "$t" "$rep" /run/bench-ext4/fio.dat "${args[@]}"
				umount /run/bench-ext4
			done
			;;
		*) die "profile $name: unknown kind $kind" ;;
		esac
	done
done

# Whether the preconditioned file is still written through: zeroing through
# loop or rloop leaves unwritten extents or holes. mkfs.ext4 zeroes the
# device's last 64 KiB (one extent); anything more shows here.
{
	echo "backing_file_allocated_mb $(du -m "$file" | cut -f1)"
	echo "backing_file_unwritten_extents $(filefrag -v "$file" | grep -c unwritten || true)"
} >>"$out/env.txt"

"$rloopctl" detach "$rdev"
# udev may still hold the device for a moment: it then goes on that close.
for _ in 1 2 3 4 5 6 7 8 9 10; do rmmod rloop 2>/dev/null && break; sleep 0.5; done
losetup -d "$loopdev"
umount /run/bench
if [ "$backing" = nullb ]; then
	echo 0 >"$nb/power"
	rmdir "$nb"
	modprobe -r null_blk
fi
modprobe -r loop
