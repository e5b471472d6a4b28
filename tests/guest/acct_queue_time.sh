#!/bin/bash
# iostat's await counts the time a bio waits on rloop's queue, as it does
# on a request queue: a write queued behind one that waits for a frozen
# backing file system is accounted from its submission, not from when the
# worker takes it. Four O_DIRECT writes from one CPU (so one worker's list)
# wait out a 3 s freeze: the disk's write ticks add up to about four times
# the freeze. Accounted from the worker's pick-up, as rloop did, they came
# to about one.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 2
need_cmd fsfreeze taskset
load_rloop
dir=$(RL_MOUNT_OPTS=lazytime scratch_dir "${DISKS[1]}" ext4)
dd if=/dev/urandom of="$dir/backing" bs=1M count=16 conv=fsync status=none
dev=$(rl_create "$dir/backing")
stat=/sys/block/${dev#/dev/}/stat
head -c 4096 /dev/urandom >"$RLOOP_TEST_TMP/block"
udevadm settle

# /sys/block/<dev>/stat: the 5th field is writes completed, the 8th the
# milliseconds they took.
read -r -a before <"$stat"
fsfreeze -f "$dir"
on_exit sh -c 'fsfreeze -u "$1" 2>/dev/null || true' sh "$dir" # (thawed already unless the test failed)
writers=()
for i in 0 1 2 3; do
	taskset -c 0 dd if="$RLOOP_TEST_TMP/block" of="$dev" bs=4096 seek=$((100 + i)) oflag=direct \
		conv=notrunc status=none &
	writers+=($!)
done
sleep 3
fsfreeze -u "$dir"
for w in "${writers[@]}"; do
	wait "$w" || fail "a write failed after the thaw"
done
read -r -a after <"$stat"
writes=$((after[4] - before[4]))
ms=$((after[7] - before[7]))
echo "4 writes held by a 3 s freeze: $writes writes accounted, $ms ms of write time"
assert_eq "$writes" 4 "writes accounted"
((ms >= 8000)) || fail "4 writes that waited out a 3 s freeze took $ms ms of write time: the time on the queue is not counted"
