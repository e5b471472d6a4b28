#!/bin/bash
# The hops measurement, in the guest (`make hops`, scripts/hops.sh): 4k random
# reads at QD1 (fio, io_uring, one job) on a file on xfs on a memory-backed
# null_blk, through each configuration in turn, with a few ftrace events
# and kprobes on; the time of one I/O is then cut into hops
# (bench/hops.py):
#
#   S io_uring:io_uring_submit_req      a  S->Q  application submit -> bio queued
#   Q block:block_bio_queue, the device b  Q->I  bio queued -> worker starts it
#   I kprobe on the driver's worker     c  I->B  worker -> backing bio queued
#   B block:block_bio_queue, null_blk   d  B->D  backing bio queued -> complete
#   D block:block_rq_complete, null_blk e  D->C  backing done -> device bio done
#   C block:block_{bio,rq}_complete     f  C->F  device bio done -> CQE posted
#   F io_uring:io_uring_complete
#
# At QD1 one I/O is in flight, so the events of an I/O are the ones between
# its submit and its CQE; hops.py checks each sequence. Configurations: raw
# (the file itself: S B D F), loop (--direct-io=on, kprobe lo_rw_aio), rloop
# (the module's defaults), rloop-nolinger (its lingering worker off), raw-hipri
# and rloop-hipri (fio --hipri: polled I/O). A configuration whose knob is
# missing is skipped, and the reason written down.
#
# Per configuration, under $RLOOP_OUT/hops/<config>/: meta.txt, fio.json
# (traced), fio-untraced.json, trace.txt.gz (the text trace) and
# trace.raw.gz (the same buffer read again with options/raw: the same lines
# with nanosecond timestamps; the text has microseconds), or `skipped`.
#
# RLOOP_HOPS_MODULE_ARGS (rloop's module parameters),
# RLOOP_HOPS_CONFIGS (names, space-separated), RLOOP_HOPS_RUNTIME (s of fio
# per run, default 3), RLOOP_HOPS_MAX_IOS (per run, default 50000: the trace
# buffer must hold them), RLOOP_HOPS_FILE_MB (default 256).
set -euo pipefail
: "${RLOOP_HOPS_RUNTIME:=3}" "${RLOOP_HOPS_MAX_IOS:=50000}" "${RLOOP_HOPS_FILE_MB:=256}"
: "${RLOOP_HOPS_CONFIGS:=raw loop rloop rloop-nolinger raw-hipri rloop-hipri}"
top=$RLOOP_TOP
. "$top/scripts/on-error.sh"
mod=$RLOOP_HOPS_MODULE
rloopctl=$top/tools/target/release/rloopctl
out=$RLOOP_OUT/hops
tr=/sys/kernel/tracing
mkdir -p "$out"
log() { echo "hops: $*"; }
die() { echo "hops: $*" >&2; exit 1; }

# Hop times need a clock finer than the hops. Under TCG the kernel often
# fails to calibrate the TSC and runs every clock on jiffies (1 ms steps);
# scripts/vm.sh passes tsc_early_khz so that it need not.
read -r clocksource </sys/devices/system/clocksource/clocksource0/current_clocksource
[ "$clocksource" = tsc ] ||
	die "the guest's clocksource is $clocksource, not tsc: its clocks tick in jiffies and the hops would read 0 or 1000 us (boot with tsc_early_khz=, as scripts/vm.sh does)"

mountpoint -q "$tr" || mount -t tracefs nodev "$tr"

# --- The stack: null_blk, xfs, the file, loop and rloop on it ----------------
# irqmode 0: completions inline; poll_queues 2: polled bios have queues of
# their own (the module parameter caps what configfs accepts).
modprobe null_blk nr_devices=0 poll_queues=2
nb=/sys/kernel/config/nullb/nullb0
mkdir "$nb"
echo $((RLOOP_HOPS_FILE_MB + 256)) >"$nb/size"
echo 1 >"$nb/memory_backed"
echo 512 >"$nb/blocksize"
echo 0 >"$nb/irqmode"
echo 2 >"$nb/poll_queues"
echo 1 >"$nb/power"
nullb=nullb0
mkfs.xfs -f -q /dev/$nullb
mkdir -p /run/hops
mount /dev/$nullb /run/hops
file=/run/hops/backing
log "a ${RLOOP_HOPS_FILE_MB}M file on xfs on /dev/$nullb"
dd if=/dev/zero of="$file" bs=1M count="$RLOOP_HOPS_FILE_MB" oflag=direct conv=fsync status=none

modprobe loop
loopdev=$(losetup --direct-io=on -f --show "$file")
loop=${loopdev#/dev/}
[ "$(cat "/sys/block/$loop/loop/dio")" = 1 ] || die "loop is not in direct-I/O mode"
# RLOOP_HOPS_MODULE_ARGS: module parameters, e.g. linger_us=200.
# shellcheck disable=SC2086
insmod "$mod" ${RLOOP_HOPS_MODULE_ARGS:-}
rdev=$("$rloopctl" create "$file")
rloop=${rdev#/dev/}
udevadm settle
log "devices: $loopdev $rdev on $file"

# --- Worker-start kprobes ------------------------------------------------------
# rloop's `fn issue` (rloop_bio.rs), mangled (Rust v0: ..9rloop_bio5issue,
# legacy: ..9rloop_bio5issue17h<hash>E; closures inside it end otherwise).
# It has no symbol of its own when it is inlined: hops b and c are then one.
probe() { # NAME SYMBOL: a kprobe event hops/NAME on SYMBOL's entry
	echo "p:hops/$1 $2" >>"$tr/kprobe_events" 2>/dev/null
}
issue_sym=$(awk '$4 == "[rloop]" && ($3 ~ /^_R.*9rloop_bio5issue$/ || $3 ~ /^_ZN.*9rloop_bio5issue17h[0-9a-f]+E$/) { print $3 }' /proc/kallsyms)
rloop_worker=- rloop_worker_note=
if [ -z "$issue_sym" ]; then
	rloop_worker_note="rloop's issue() has no symbol in /proc/kallsyms (inlined): hops b and c are measured as one"
elif [ "$(wc -w <<<"$issue_sym")" -gt 1 ]; then
	rloop_worker_note="several symbols match rloop's issue(): $(tr '\n' ' ' <<<"$issue_sym"): hops b and c are measured as one"
elif probe rloop_issue "$issue_sym"; then
	rloop_worker=rloop_issue
else
	rloop_worker_note="the kprobe on $issue_sym was refused: hops b and c are measured as one"
fi
loop_worker=- loop_worker_note=
if ! grep -q ' lo_rw_aio[[:space:]]' /proc/kallsyms; then
	loop_worker_note="loop's lo_rw_aio has no symbol (inlined): hops b and c are measured as one"
elif probe lo_rw_aio lo_rw_aio; then
	loop_worker=lo_rw_aio
else
	loop_worker_note="the kprobe on lo_rw_aio was refused: hops b and c are measured as one"
fi
declare -A worker_sym=([rloop_issue]=$issue_sym [lo_rw_aio]=lo_rw_aio)
[ -z "$rloop_worker_note" ] || log "$rloop_worker_note"
[ -z "$loop_worker_note" ] || log "$loop_worker_note"

# --- Tracing -------------------------------------------------------------------
# The global clock: the events of one I/O come from two CPUs (fio's, the
# worker's), and it is the one kept monotonic across them. 32 MiB per CPU
# holds RLOOP_HOPS_MAX_IOS I/Os of 7 events (about 60 bytes each) on one.
echo 0 >"$tr/tracing_on"
echo 0 >"$tr/events/enable"
echo nop >"$tr/current_tracer"
echo global >"$tr/trace_clock"
echo 32768 >"$tr/buffer_size_kb"

devt() { # BLOCKDEV-NAME: its dev_t as the block events hold it (major << 20 | minor)
	local mm
	read -r mm <"/sys/block/$1/dev"
	echo $(((${mm%:*} << 20) | ${mm#*:}))
}
majmin() { cat "/sys/block/$1/dev"; }
# The completion event of a disk: blk-mq traces the request, a bio-based
# disk the bio (blk-mq clears the bio's flag: its bios are never traced).
complete_event() { if [ -d "/sys/block/$1/mq" ]; then echo block_rq_complete; else echo block_bio_complete; fi; }

# set_events TOP_DISK|- BACKING_DISK WORKER|-: the minimal set for one run.
enabled=()
set_events() {
	local topd=$1 back=$2 worker=$3 d e queue_filter
	queue_filter="dev == $(devt "$back")"
	[ "$topd" = - ] || queue_filter+=" || dev == $(devt "$topd")"
	enabled=(io_uring/io_uring_submit_req io_uring/io_uring_complete block/block_bio_queue)
	echo "$queue_filter" >"$tr/events/block/block_bio_queue/filter"
	# Both completion events start from no filter, then each gets the disks
	# that use it.
	for e in block_rq_complete block_bio_complete; do
		echo 0 >"$tr/events/block/$e/filter"
	done
	local -A cfilter=()
	for d in "$back" ${topd#-}; do
		e=$(complete_event "$d")
		cfilter[$e]+="${cfilter[$e]:+ || }dev == $(devt "$d")"
	done
	for e in "${!cfilter[@]}"; do
		echo "${cfilter[$e]}" >"$tr/events/block/$e/filter"
		enabled+=("block/$e")
	done
	[ "$worker" = - ] || enabled+=("hops/$worker")
	for e in "${enabled[@]}"; do echo 1 >"$tr/events/$e/enable"; done
}
clear_events() {
	local e
	for e in "${enabled[@]}"; do echo 0 >"$tr/events/$e/enable"; done
	enabled=()
}

fio_args=(--name=hops --ioengine=io_uring --direct=1 --rw=randread --bs=4k --iodepth=1
	--numjobs=1 --time_based --runtime="$RLOOP_HOPS_RUNTIME" --number_ios="$RLOOP_HOPS_MAX_IOS"
	--size="${RLOOP_HOPS_FILE_MB}M" --norandommap --randrepeat=0 --output-format=json)

{
	echo "kernel $(uname -r)"
	echo "cpus $(nproc)"
	echo "clocksource $clocksource"
	echo "trace_clock global"
	echo "cmdline $(cat /proc/cmdline)"
	echo "fio $(fio --version)"
	echo "runtime_s $RLOOP_HOPS_RUNTIME"
	echo "max_ios $RLOOP_HOPS_MAX_IOS"
	sched=$(sed 's/.*\[\(.*\)\].*/\1/' "/sys/block/$nullb/queue/scheduler")
	echo "backing $nullb (null_blk: memory_backed=1, irqmode=0, poll_queues=$(cat "$nb/poll_queues"), blocksize=512, scheduler $sched)"
	echo "file_mb $RLOOP_HOPS_FILE_MB"
} >"$out/env.txt"
: >"$out/configs.txt"

failed=0
# run_config NAME: one configuration, or the reason it is skipped.
run_config() {
	local name=$1 dir=$out/$1 target label topd=- worker=- note='' skip='' saved_linger='' rc=0 probe_state=''
	local -a hipri=()
	mkdir -p "$dir"
	case "$name" in
	raw) target=$file label="the file, O_DIRECT" ;;
	loop) target=$loopdev topd=$loop worker=$loop_worker note=$loop_worker_note label="loop, --direct-io=on" ;;
	rloop | rloop-nolinger | rloop-hipri)
		target=$rdev topd=$rloop worker=$rloop_worker note=$rloop_worker_note
		local param=/sys/module/rloop/parameters/linger_us knob=/sys/block/$rloop/rloop/linger_us
		case "$name" in
		rloop)
			if [ -r "$param" ]; then
				label="rloop, default lingering (module linger_us=$(cat "$param"))"
			else
				label="rloop as loaded (the module has no linger_us parameter: no lingering worker)"
			fi
			;;
		rloop-nolinger)
			label="rloop, lingering worker off (linger_us=0)"
			if [ -w "$knob" ]; then
				saved_linger=$(cat "$knob")
				echo 0 >"$knob"
			else
				skip="no $knob: the module has no per-device linger knob"
			fi
			;;
		rloop-hipri)
			label="rloop, polled I/O (fio --hipri)"
			hipri=(--hipri)
			[ "$(cat "/sys/block/$rloop/queue/io_poll")" = 1 ] ||
				skip="/sys/block/$rloop/queue/io_poll is 0: the module does not poll bios (no poll_bio)"
			;;
		esac
		;;
	raw-hipri)
		target=$file label="the file, polled I/O (fio --hipri)"
		hipri=(--hipri)
		[ "$(cat "/sys/block/$nullb/queue/io_poll")" = 1 ] ||
			skip="/sys/block/$nullb/queue/io_poll is 0: null_blk has no poll queues"
		;;
	*) die "unknown configuration '$name' (raw loop rloop rloop-nolinger raw-hipri rloop-hipri)" ;;
	esac
	if [ -n "$skip" ]; then
		log "$name: skipped: $skip"
		echo "$skip" >"$dir/skipped"
		printf '%s skipped %s\n' "$name" "$label" >>"$out/configs.txt"
		return
	fi

	# Untraced first: what the tracing costs shows beside it.
	udevadm settle
	fio "${fio_args[@]}" "${hipri[@]}" --filename="$target" --output="$dir/fio-untraced.json" || rc=$?
	if [ "$rc" -eq 0 ]; then
		echo >"$tr/trace"
		set_events "$topd" "$nullb" "$worker"
		echo 1 >"$tr/tracing_on"
		fio "${fio_args[@]}" "${hipri[@]}" --filename="$target" --output="$dir/fio.json" || rc=$?
		echo 0 >"$tr/tracing_on"
		# While it is enabled: an optimized kprobe is a jump, the others a
		# breakpoint trap, which costs more.
		[ "$worker" = - ] || probe_state=$(grep -m1 " ${worker_sym[$worker]}+0x0 " /sys/kernel/debug/kprobes/list || echo "not listed")
		clear_events
	fi
	[ -z "$saved_linger" ] || echo "$saved_linger" >"/sys/block/$rloop/rloop/linger_us"
	if [ "$rc" -ne 0 ]; then
		log "$name: fio failed (exit $rc)"
		echo "fio exit $rc" >"$dir/failed"
		printf '%s failed %s\n' "$name" "$label" >>"$out/configs.txt"
		failed=1
		return
	fi
	# The same buffer twice: text (fields, microseconds), then raw (event
	# type and nanoseconds), line for line.
	sed '/^#/d' "$tr/trace" | gzip -1 >"$dir/trace.txt.gz"
	echo 1 >"$tr/options/raw"
	sed '/^#/d' "$tr/trace" | gzip -1 >"$dir/trace.raw.gz"
	echo 0 >"$tr/options/raw"
	{
		echo "config $name"
		echo "label $label"
		echo "target $target"
		if [ "$topd" = - ]; then echo "top_dev -"; else echo "top_dev $(majmin "$topd")"; fi
		echo "backing_dev $(majmin "$nullb")"
		echo "worker_event $worker"
		[ -z "$note" ] || echo "note $note"
		if [ "$worker" != - ]; then
			echo "worker_symbol ${worker_sym[$worker]}"
			echo "worker_kprobe $probe_state"
		fi
		echo "polled ${#hipri[@]}"
		[ ! -r /sys/module/rloop/parameters/linger_us ] || echo "module_linger_us $(cat /sys/module/rloop/parameters/linger_us)"
		local c e
		for c in "$tr"/per_cpu/cpu*; do
			echo "overrun ${c##*/} $(awk '/^overrun:/ { print $2 }' "$c/stats")"
		done
		for e in io_uring/io_uring_submit_req io_uring/io_uring_complete block/block_bio_queue \
			block/block_bio_complete block/block_rq_complete hops/rloop_issue hops/lo_rw_aio; do
			[ ! -r "$tr/events/$e/id" ] || echo "event_id ${e#*/} $(cat "$tr/events/$e/id")"
		done
	} >"$dir/meta.txt"
	printf '%s ok %s\n' "$name" "$label" >>"$out/configs.txt"
	log "$name: done ($(zcat "$dir/trace.txt.gz" | wc -l) events)"
}

for c in $RLOOP_HOPS_CONFIGS; do
	run_config "$c"
done

# Kprobes go before the modules they point into.
echo 0 >"$tr/events/enable"
echo >"$tr/kprobe_events"
"$rloopctl" detach "$rdev"
# udev may still hold the device for a moment: it then goes on that close.
for _ in 1 2 3 4 5 6 7 8 9 10; do rmmod rloop 2>/dev/null && break; sleep 0.5; done
losetup -d "$loopdev"
umount /run/hops
echo 0 >"$nb/power"
rmdir "$nb"
modprobe -r null_blk
modprobe -r loop
exit "$failed"
