#!/bin/bash
# A file whose file system says it cannot do direct I/O (STATX_DIOALIGN with
# dio_offset_align 0: ext4 data=journal) is refused with EINVAL and one
# dmesg line, instead of being attached and silently doing buffered I/O.
# tmpfs, which does not answer STATX_DIOALIGN but takes O_DIRECT, is
# accepted with its device's block size (512), says so in sysfs, and works.
# timeout: 150
. "${0%/*}/../lib.sh"

need_disk 2
load_rloop
dir=$(RL_MOUNT_OPTS=data=journal scratch_dir "${DISKS[1]}" ext4)
truncate -s 16M "$dir/backing"
klog_mark
expect_errno EINVAL create --file "$dir/backing"
lines=$(klog_since_mark | grep -c 'cannot do direct I/O' || true)
assert_eq "$lines" 1 "dmesg lines naming the reason"
[ -z "$(block_devices rloop)" ] || fail "a refused create left a device"

tmp=$(scratch_dir tmpfs)
truncate -s 16M "$tmp/backing"
dev=$(rl_create "$tmp/backing")
assert_eq "$(rl_queue "$dev" logical_block_size)" 512 "tmpfs block size"
assert_eq "$(rl_attr "$dev" dio_align)" "512 assumed" "sysfs dio_align on tmpfs"
# And it does I/O: what is written through the device is in the file.
head -c $((256 << 10)) /dev/urandom >"$RLOOP_TEST_TMP/data"
dd if="$RLOOP_TEST_TMP/data" of="$dev" bs=64k oflag=direct status=none || fail "a write to a tmpfs-backed device failed"
cmp -s "$RLOOP_TEST_TMP/data" <(head -c $((256 << 10)) "$tmp/backing") || fail "the tmpfs file does not hold what was written"
