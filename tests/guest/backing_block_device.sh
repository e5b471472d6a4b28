#!/bin/bash
# A block device backs a device too and its logical block size is inherited;
# rloop stacks on rloop; the control node is not a backing file.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 3
need_cmd fio
load_rloop
dev=$(rl_create "${DISKS[2]}")
assert_eq "$(rl_queue "$dev" logical_block_size)" 4096 "inherited from ${DISKS[2]}"
assert_eq "$(blockdev --getsize64 "$dev")" $((1 << 30)) "size of a block-device backed device"
fio --name=bdev --filename="$dev" --direct=1 --ioengine=libaio --iodepth=4 --rw=randwrite \
	--bs=4k --size=4M --verify=crc32c --verify_fatal=1 --output=/dev/null ||
	fail "fio verify on a block-device backed device failed"

# rloop over rloop.
top=$(rl_create --offset 1M "$dev")
assert_eq "$(rl_queue "$top" logical_block_size)" 4096 "inherited from $dev"
dd if=/dev/urandom of=/tmp/blk bs=4k count=16 status=none
dd if=/tmp/blk of="$top" bs=4k oflag=direct status=none
cmp /tmp/blk <(dd if="${DISKS[2]}" bs=4k skip=256 count=16 iflag=direct status=none) ||
	fail "rloop over rloop did not write at the stacked offset"
rm -f /tmp/blk
expect_errno EINVAL create --file /dev/rloop-control --open rw
