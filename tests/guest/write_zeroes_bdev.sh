#!/bin/bash
# On a block-device backing file that cannot unmap (null_blk, no
# write-zeroes), a write-zeroes without NOUNMAP (fallocate -p on the device)
# still zeroes, by ZERO_RANGE, and write-zeroes stays on; a discard the
# backing cannot do turns discard off (the queue frozen), once, with one log
# line, and later discards are refused with EOPNOTSUPP.
# timeout: 150
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd fallocate blkdiscard
load_rloop
modprobe null_blk nr_devices=1 memory_backed=1 gb=1 || skip "no null_blk"
on_exit modprobe -r null_blk
nb=/dev/nullb0
assert_eq "$(cat /sys/block/nullb0/queue/write_zeroes_max_bytes)" 0 "null_blk write-zeroes"
dev=$(rl_create "$nb")
dd if=/dev/urandom of="$dev" bs=1M count=2 oflag=direct status=none
klog_mark
fallocate -p -o 0 -l 1M "$dev" || fail "fallocate -p (write-zeroes) on $dev failed"
cmp -s -n $((1 << 20)) /dev/zero <(dd if="$nb" bs=1M count=1 iflag=direct status=none) ||
	fail "the backing device was not zeroed"
cmp -s -n $((1 << 20)) /dev/zero <(dd if="$dev" bs=1M count=1 iflag=direct status=none) ||
	fail "the device does not read zeroes"
[ "$(rl_queue "$dev" write_zeroes_max_bytes)" != 0 ] || fail "write-zeroes was turned off"
# The second MiB kept its data.
cmp -s -n $((1 << 20)) /dev/zero <(dd if="$dev" bs=1M skip=1 count=1 iflag=direct status=none) &&
	fail "the zeroing went past its range"

# (blkdev_issue_discard hides EOPNOTSUPP from the first discard's caller.)
blkdiscard -o 0 -l 1M "$dev" 2>/dev/null || true
assert_eq "$(rl_queue "$dev" discard_max_bytes)" 0 "discard_max_bytes after the failed discard"
if out=$(blkdiscard -o 0 -l 1M "$dev" 2>&1); then
	fail "a discard succeeded after discard was turned off"
fi
[[ "$out" == *"not supported"* ]] || fail "discard after it was turned off: want EOPNOTSUPP, got: $out"
lines=$(klog_since_mark | grep -c 'does not support discard' || true)
assert_eq "$lines" 1 "log lines about discard"
