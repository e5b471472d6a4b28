#!/bin/bash
# One device whose backing storage hangs does not hold up the others: while
# the last close of a device on a suspended dm disk hangs in its flush (the
# block layer holds that disk's open_mutex), removing it answers EBUSY at
# once, and another device is created, used and removed in bounded time.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 2
need_cmd dmsetup
load_rloop
sectors=$(blockdev --getsz "${DISKS[0]}")
dmsetup create rl_stuck --table "0 $sectors linear ${DISKS[0]} 0" || fail "dmsetup create failed"
on_exit dmsetup remove --retry rl_stuck
dir=$(scratch_dir /dev/mapper/rl_stuck xfs)
fallocate -l 64M "$dir/backing"
dd if=/dev/zero of="$dir/backing" bs=1M count=64 oflag=direct conv=notrunc status=none
stuck=$(rl_create "$dir/backing")
# udev's probe of the new device must be over before the disk hangs: else
# it hangs holding the device open, and the writer's close is not the last.
udevadm settle
dmsetup suspend --noflush --nolockfs rl_stuck || fail "dmsetup suspend failed"
on_exit dmsetup resume rl_stuck
# A buffered writer: its last close flushes through rloop to the suspended
# disk and waits there.
dd if=/dev/urandom of="$stuck" bs=1M count=4 status=none &
writer=$!
sleep 3
kill -0 "$writer" 2>/dev/null || fail "the writer did not hang on the suspended disk (test set-up)"

start=$SECONDS
out=$(timeout 30 "$RLOOP_RAW" remove "$(rl_index "$stuck")" 2>&1 || true)
[[ "$out" == *"err EBUSY"* ]] || fail "removing the stuck device: want err EBUSY at once, got: ${out:-a hang}"
tmp=$(scratch_dir "${DISKS[1]}" ext4)
truncate -s 16M "$tmp/backing"
other=$(timeout 30 "$RLOOPCTL" create "$tmp/backing") || fail "create hung or failed beside a stuck device"
timeout 30 dd if=/dev/urandom of="$other" bs=64k count=16 oflag=direct status=none ||
	fail "I/O on another device hung or failed"
timeout 30 "$RLOOPCTL" detach "$other" || fail "detaching another device hung or failed"
((SECONDS - start < 60)) || fail "another device took $((SECONDS - start)) s beside a stuck one"

dmsetup resume rl_stuck
timeout 60 tail --pid="$writer" -f /dev/null || fail "the writer did not finish after the resume"
wait "$writer" || fail "the buffered write failed after the resume"
