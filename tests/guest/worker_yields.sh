#!/bin/bash
# An I/O worker gives its CPU up between bios when the kernel is not
# preemptible (preempt=none, which Debian's 6.12 kernels can be booted with,
# and which this test's VM is booted with: see the boot line below):
# a sustained queue on a backing file that never makes the worker sleep
# must not keep other tasks off that CPU, as loop's worker does not
# (cond_resched() after each command).
#
# The file is on xfs on a memory-backed null_blk that completes inline
# (irqmode=0), so the worker does every I/O to its end itself and never
# blocks. fio, on CPU 0, keeps 32 reads queued; the workers of unbound
# workqueues are kept to CPU 1, where a task that sleeps 1 ms at a time
# measures how long it waits for the CPU. A worker that never yields holds
# CPU 1 for as long as fio runs.
#
# The test kernel has no soft-lockup detector (CONFIG_SOFTLOCKUP_DETECTOR),
# and with preemptible RCU a busy kthread reports its quiescent states from
# the tick, so neither detector would see this: the wait is measured.
# timeout: 300
# boot: preempt=none
. "${0%/*}/../lib.sh"

need_cmd fio python3
# Without CONFIG_SCHED_DEBUG the model cannot be switched at run time; the
# boot line chose it, and the kernel says what it made of it.
model=$(dmesg | grep -o 'Dynamic Preempt: .*' | tail -n 1)
[ "$model" = "Dynamic Preempt: none" ] || skip "the kernel runs no non-preemptible model (${model:-no Dynamic Preempt line}; x86 7.x has only full and lazy)"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
wq_mask=/sys/devices/virtual/workqueue/cpumask
[ -w "$wq_mask" ] || skip "no $wq_mask"
load_rloop
modprobe null_blk nr_devices=1 memory_backed=1 gb=1 irqmode=0 || skip "no null_blk"
on_exit modprobe -r null_blk
dir=$(scratch_dir /dev/nullb0 xfs)
fallocate -l 256M "$dir/backing"
dev=$(rl_create "$dir/backing")

read -r old_mask <"$wq_mask"
echo 2 >"$wq_mask"
on_exit sh -c "echo $old_mask >$wq_mask"

# The longest a task on CPU 1 waited for it, in milliseconds, over $1 s.
probe() {
	python3 - "$1" <<-'EOF'
		import os, sys, time
		os.sched_setaffinity(0, {1})
		end = time.monotonic() + float(sys.argv[1])
		worst = 0.0
		while time.monotonic() < end:
		    t = time.monotonic()
		    time.sleep(0.001)
		    worst = max(worst, time.monotonic() - t)
		print(int(worst * 1000))
	EOF
}

fio --name=hog --filename="$dev" --direct=1 --ioengine=libaio --iodepth=32 --rw=read \
	--bs=256k --size=256M --time_based --runtime=10 --cpus_allowed=0 \
	--output="$RLOOP_TEST_TMP/fio.out" &
fio_pid=$!
kill_at_exit "$fio_pid"
sleep 2
worst=$(probe 6)
wait "$fio_pid" || fail "fio failed: $(cat "$RLOOP_TEST_TMP/fio.out")"
grep -o 'READ: bw=[^,]*' "$RLOOP_TEST_TMP/fio.out" || true
echo "preempt=none: the longest wait for CPU 1 was $worst ms"
# Under TCG and KASAN a yielding worker keeps the wait in the tens of ms.
((worst < 1000)) || fail "a task on the worker's CPU waited $worst ms for it: the worker does not yield"
