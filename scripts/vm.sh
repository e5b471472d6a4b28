#!/usr/bin/env bash
# Boots the cached test kernel in QEMU and runs one command in the guest.
#
# Usage: vm.sh [options] -- COMMAND [ARGS...]
#   --disk SIZE[:LBS]  add a sparse raw disk (virtio-blk), e.g. 1G or 1G:4096
#                      (LBS sets logical and physical block size); repeatable
#   --timeout SECS     kill the VM and exit 124 after SECS (default 600)
#   --mem MB           guest memory (default 2048)
#   --smp N            guest CPUs (default 2)
#   --kernel DIR       kernel build dir (default $RLOOP_KDIR, else
#                      `scripts/kernel.sh test`)
#   --out DIR          run directory (default out/vm/<date>-<pid>)
#   --quiet            don't stream the kernel console (it is still logged
#                      and checked)
#   --no-kmemleak      skip the kmemleak scan at the end (faster)
#   --share DIR        share host DIR read-write as RLOOP_SHARE (several VMs
#                      given the same DIR can coordinate through it)
#   --selftest         boot a few times to prove this harness catches what it
#                      should (exit status, WARNING, timeout); no COMMAND
#
# In the guest COMMAND runs as root from the repository top with
#   RLOOP_TOP    the repository (the host's / is the guest's read-only root)
#   RLOOP_OUT    a writable directory, <run dir>/out on the host
#   RLOOP_DISKS  the --disk devices in order, e.g. "/dev/vda /dev/vdb"
#   RLOOP_KDIR   the kernel build directory
#   RLOOP_KLOG_BAD  the regex of kernel log lines that fail a run
#   RLOOP_SHARE  the --share directory, if one was given
# and every RLOOP_* variable of the caller. Its output (stdout and stderr,
# merged) is streamed to stdout; the kernel console goes to stderr prefixed
# with "kernel: ".
#
# Exit status: COMMAND's; 124 on timeout; if COMMAND succeeded but the kernel
# log shows a problem (BUG, WARNING, Oops, KASAN, lockdep, panic, ...) or
# kmemleak reports leaks, 1. 125 if the VM could not run the command at all.
# <run dir>/vm-result says why in one word per line (ok, exit, timeout,
# crash, klog, kmemleak, error) followed by details.
#
# Run dir: console.log (kernel console), output.log (COMMAND's output),
# dmesg.txt, kmemleak.txt (leaks of objects allocated after COMMAND started),
# kmemleak-boot.txt (older ones: ignored), out/ (RLOOP_OUT), vm-result. Disk
# images are deleted at exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/env.sh"

# RLOOP_KLOG_BAD (env.sh): the kernel log lines that fail a run.

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }
die() { echo "vm.sh: $*" >&2; exit 125; }

disks=() timeout=600 mem=2048 smp=2 kdir=${RLOOP_KDIR:-} out='' quiet=0 kmemleak=1 selftest=0 share=
while [ $# -gt 0 ]; do
	case "$1" in
	--disk) disks+=("${2:?--disk needs SIZE[:LBS]}"); shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--smp) smp=${2:?}; shift 2 ;;
	--kernel) kdir=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--quiet) quiet=1; shift ;;
	--no-kmemleak) kmemleak=0; shift ;;
	--share) share=${2:?--share needs a directory}; shift 2 ;;
	--selftest) selftest=1; shift ;;
	--) shift; break ;;
	-h | --help) usage ;;
	*) echo "vm.sh: unknown option '$1'" >&2; usage ;;
	esac
done

# --selftest: the harness's own test. Each case is a full boot.
if [ "$selftest" -eq 1 ]; then
	self=("$0" --no-kmemleak --quiet ${kdir:+--kernel "$kdir"})
	ok=0 bad=0 n=0
	expect() { # WANT_STATUS DESCRIPTION VM_ARGS...
		local want=$1 what=$2 rc=0
		shift 2
		n=$((n + 1))
		echo "==> selftest: $what (want exit $want; run dir out/selftest/$n)" >&2
		"${self[@]}" --out "$top/out/selftest/$n" "$@" >/dev/null 2>&1 || rc=$?
		if [ "$rc" -eq "$want" ]; then
			echo "PASS selftest: $what"; ok=$((ok + 1))
		else
			echo "FAIL selftest: $what: exit $rc, want $want"; bad=$((bad + 1))
		fi
	}
	expect 0 "true succeeds" -- true
	expect 3 "exit status propagates" -- sh -c 'exit 3'
	expect 1 "a WARNING in the kernel log fails the run" -- sh -c 'echo "WARNING: rloop harness selftest" >/dev/kmsg'
	expect 124 "a hung guest times out" --timeout 40 -- sleep 1000
	expect 0 "disks appear with the requested block size" --disk 64M --disk 64M:4096 -- \
		sh -c 'set -- $RLOOP_DISKS; [ $# -eq 2 ] &&
			[ "$(cat /sys/block/${1#/dev/}/queue/logical_block_size)" = 512 ] &&
			[ "$(cat /sys/block/${2#/dev/}/queue/logical_block_size)" = 4096 ]'
	echo "$ok passed, $bad failed"
	exit $((bad == 0 ? 0 : 1))
fi

[ $# -gt 0 ] || { echo "vm.sh: no COMMAND given" >&2; usage; }
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run scripts/setup.sh"

if [ -z "$kdir" ]; then
	kdir=$("$here/kernel.sh" test) || die "no test kernel (scripts/kernel.sh test failed)"
fi
kdir=$(cd "$kdir" && pwd)
bzimage=$kdir/arch/x86/boot/bzImage
[ -f "$bzimage" ] || die "$bzimage missing: not a built kernel tree"

# The run directory is shared read-write with the guest (9p tag "rloopvm"):
# the command line, environment and exit status travel through it.
if [ -z "$out" ]; then
	out=$top/out/vm/$(date +%Y%m%d-%H%M%S)-$$
	mkdir -p "$top/out/vm"
	ln -sfn "$(basename "$out")" "$top/out/vm/last"
	# Keep the 20 newest runs.
	ls -1dt "$top"/out/vm/2*/ 2>/dev/null | tail -n +21 | xargs -r rm -rf || true
fi
# Reusing a directory wipes the last run's files: only ever a run dir's.
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -e "$out/console.log" ]; then
	die "--out $out: not empty and not a vm.sh run dir"
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/guest" "$out/out" "$out"/*.log "$out"/*.txt "$out/vm-result" "$out"/disk*.img
mkdir -p "$out/guest" "$out/out"
: >"$out/console.log"
: >"$out/output.log"

printf '%s\0' "$@" >"$out/guest/cmd"
{
	# The caller's RLOOP_* (test knobs), then ours, which win.
	for name in $(compgen -e); do
		case "$name" in
		RLOOP_TOP | RLOOP_OUT | RLOOP_DISKS | RLOOP_KDIR | RLOOP_KLOG_BAD | RLOOP_SHARE) ;;
		RLOOP_*) printf 'export %s=%q\n' "$name" "${!name}" ;;
		esac
	done
	printf 'export RLOOP_TOP=%q\n' "$top"
	printf 'export RLOOP_OUT=%q\n' /run/rloopvm/out
	printf 'export RLOOP_KDIR=%q\n' "$kdir"
	printf 'export RLOOP_KLOG_BAD=%q\n' "$RLOOP_KLOG_BAD"
	printf 'export RLOOP_NDISKS=%q\n' "${#disks[@]}"
	printf 'RLOOP_VM_KMEMLEAK=%q\n' "$kmemleak"
	[ -z "$share" ] || printf 'export RLOOP_SHARE=%q\n' /run/rloopshare
} >"$out/guest/env"

qemu=(qemu-system-x86_64
	-nodefaults -no-reboot -display none -monitor none
	# /dev/kvm exists here but cannot boot a stock kernel: TCG. la57=off: the
	# kernel would otherwise try 5-level paging under TCG.
	# One CPU per socket: with several cores per socket SeaBIOS lists only
	# the first of each package in its MP table, and with acpi=off that
	# table is all the kernel sees.
	-accel tcg -cpu 'max,la57=off' -smp "$smp,sockets=$smp,cores=1,threads=1" -m "$mem"
	-kernel "$bzimage"
	# ttyS0: the kernel console. (The command's output goes to output.log
	# through the run dir share.)
	-chardev "file,id=kcon,path=$out/console.log" -serial chardev:kcon
	# The host's / as the read-only root, the run dir as a writable share.
	-fsdev 'local,id=fsroot,path=/,readonly=on,security_model=none,multidevs=remap'
	-device 'virtio-9p-pci,fsdev=fsroot,mount_tag=rootfs'
	-fsdev "local,id=fsvm,path=$out,security_model=none,multidevs=remap"
	-device 'virtio-9p-pci,fsdev=fsvm,mount_tag=rloopvm'
	-device virtio-rng-pci
)
if [ -n "$share" ]; then
	[ -d "$share" ] || die "--share $share: not a directory"
	qemu+=(-fsdev "local,id=fsshare,path=$share,security_model=none,multidevs=remap"
		-device 'virtio-9p-pci,fsdev=fsshare,mount_tag=rloopshare')
fi
i=0
for spec in "${disks[@]}"; do
	size=${spec%%:*} lbs=
	[ "$size" != "$spec" ] && lbs=${spec#*:}
	img=$out/disk$i.img
	truncate -s "$size" "$img" || die "bad disk size '$size'"
	dev="virtio-blk-pci,drive=disk$i,serial=rloop-disk$i"
	if [ -n "$lbs" ]; then
		case "$lbs" in 512 | 1024 | 2048 | 4096 | 8192 | 16384 | 32768 | 65536) ;;
		*) die "bad logical block size '$lbs' in --disk $spec" ;;
		esac
		dev+=",logical_block_size=$lbs,physical_block_size=$lbs"
	fi
	# discard=unmap keeps the sparse image sparse when the guest discards.
	# cache=unsafe: the image is thrown away at exit, so the guest's flushes
	# need not reach the host's disk (each one was an fdatasync there).
	qemu+=(-drive "file=$img,format=raw,if=none,id=disk$i,discard=unmap,cache=unsafe" -device "$dev")
	i=$((i + 1))
done

# acpi=off: ACPI _PRT evaluation stalls the debug kernel for minutes under
# TCG. panic=-1 with -no-reboot: a panic ends QEMU at once. log_buf_len: room
# for a whole suite's log, so the per-test checks never lose their start.
# tsc=reliable: the boot-time TSC sync check fails under TCG and the kernel
# falls back to jiffies, which lose ticks on a busy host: guest clocks and
# timeouts then ran at half speed. tsc_early_khz: under TCG the guest's TSC
# is the host's, and with acpi=off the guest has no HPET or PM timer to
# calibrate it against; the PIT calibration fails on a busy host, and the
# kernel then runs every clock on jiffies (1-4 ms steps), too coarse for the
# lingering workers' windows, fio's latencies and make hops. So it is told the
# rate, measured here (scripts/tsc-khz.c), when the host's TSC rate is
# constant. RLOOP_VM_APPEND adds to the command line.
tsc=
if grep -qw constant_tsc /proc/cpuinfo && grep -qw nonstop_tsc /proc/cpuinfo &&
	clang -O2 -o "$out/tsc-khz" "$here/tsc-khz.c" 2>"$out/tsc-khz.log"; then
	tsc="tsc_early_khz=$("$out/tsc-khz")"
fi
append="console=ttyS0 acpi=off panic=-1 log_buf_len=16M tsc=reliable $tsc ${RLOOP_VM_APPEND:-}"
append+=" root=rootfs rootfstype=9p rootflags=trans=virtio,version=9p2000.L,cache=loose,msize=262144 ro"
append+=" init=$top/guest/init.sh"
qemu+=(-append "$append")

qemu_pid='' streams=()
stop() { # on ^C / kill: take the VM down with us
	[ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
	exit 130
}
trap stop INT TERM
trap 'rm -f "$out"/disk*.img' EXIT

start=$(date +%s.%N)
# timeout kills QEMU (TERM, then KILL 10 s later) and then exits 124.
timeout -k 10 "$timeout" "${qemu[@]}" </dev/null >"$out/qemu.log" 2>&1 &
qemu_pid=$!
# Stream both logs while QEMU runs; tail exits after its last read once QEMU
# is gone.
tail -n +1 -s 0.2 -F --pid="$qemu_pid" "$out/output.log" 2>/dev/null &
streams+=($!)
if [ "$quiet" -eq 0 ]; then
	tail -n +1 -s 0.2 -F --pid="$qemu_pid" "$out/console.log" 2>/dev/null |
		sed -u 's/\r$//; s/^/kernel: /' >&2 &
	streams+=($!)
fi
rc=0
wait "$qemu_pid" || rc=$?
qemu_pid=
wait "${streams[@]}" 2>/dev/null || true
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

# --- What happened -----------------------------------------------------------
result=() # lines of vm-result
status=
[ -f "$out/guest/status" ] && status=$(cat "$out/guest/status")
klog=$out/dmesg.txt
if [ -f "$out/guest/dmesg.txt" ]; then
	mv "$out/guest/dmesg.txt" "$klog"
else
	# No dmesg dump: the guest died or hung; the console is all there is.
	sed 's/\r$//' "$out/console.log" >"$klog"
fi
for f in kmemleak.txt kmemleak-boot.txt; do
	[ ! -f "$out/guest/$f" ] || mv "$out/guest/$f" "$out/$f"
done

report() { echo "vm.sh: $*" >&2; }
final=0
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	report "TIMEOUT: the VM ran longer than ${timeout}s and was killed; last kernel lines:"
	tail -n 15 "$klog" | sed 's/^/    /' >&2
	result+=("timeout ${timeout}s")
	final=124
elif [ -z "$status" ]; then
	why="the guest ended without an exit status"
	if grep -q 'Kernel panic' "$klog"; then
		why+=" (kernel panic)"
	elif [ -f "$out/guest/init-error" ]; then
		why+=" (guest init: $(cat "$out/guest/init-error"))"
	elif [ "$rc" -ne 0 ]; then
		why+=" (qemu exit $rc: $(tail -n 3 "$out/qemu.log" | tr '\n' ' '))"
	fi
	report "CRASH: $why; last kernel lines:"
	tail -n 25 "$klog" | sed 's/^/    /' >&2
	result+=("crash $why")
	final=125
elif [ "$status" -ne 0 ]; then
	result+=("exit $status")
	final=$status
fi

# Kernel log problems (the harness's own lines, which quote commands, excepted).
if bad=$(grep -E "$RLOOP_KLOG_BAD" "$klog" | grep -vE 'rloop-(init|test): '); then
	n=$(printf '%s\n' "$bad" | wc -l)
	report "FAIL: the kernel log shows $n bad line(s) (full log: $klog):"
	head -n 20 <<<"$bad" | sed 's/^/    /' >&2
	first=$(grep -nE "$RLOOP_KLOG_BAD" "$klog" | grep -vE 'rloop-(init|test): ' | head -n 1 | cut -d: -f1)
	report "the first report:"
	sed -n "$first,$((first + 40))p" "$klog" | sed 's/^/    /' >&2
	result+=("klog $(head -n 1 <<<"$bad" | sed 's/^\[[^]]*\] *//')")
	[ "$final" -ne 0 ] || final=1
fi
if [ -s "$out/kmemleak.txt" ]; then
	n=$(grep -c '^unreferenced object' "$out/kmemleak.txt" || true)
	report "FAIL: kmemleak reports $n suspected leak(s) ($out/kmemleak.txt):"
	head -n 60 "$out/kmemleak.txt" | sed 's/^/    /' >&2
	result+=("kmemleak $n suspected leak(s)")
	[ "$final" -ne 0 ] || final=1
fi
if [ -s "$out/kmemleak-boot.txt" ]; then
	report "note: kmemleak also reports $(grep -c '^unreferenced object' "$out/kmemleak-boot.txt") object(s) allocated before the command started (boot); not counted ($out/kmemleak-boot.txt)"
fi
[ ${#result[@]} -gt 0 ] || result=(ok)
printf '%s\n' "${result[@]}" >"$out/vm-result"
report "$(printf '%s; ' "${result[@]}" | sed 's/; $//') (${elapsed}s, run dir $out)"
exit "$final"
