#!/bin/bash
# Backing file on a disk with 4096-byte sectors: rloop inherits 4096, and a
# 512-byte O_DIRECT read of the device fails with EINVAL in the block layer.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 3
load_rloop
dir=$(scratch_dir "${DISKS[2]}" xfs)
truncate -s 32M "$dir/backing"
dev=$(rl_create "$dir/backing")
assert_eq "$(rl_queue "$dev" logical_block_size)" 4096 "logical_block_size"
assert_eq "$(rl_queue "$dev" physical_block_size)" 4096 "physical_block_size"
assert_eq "$(rl_queue "$dev" minimum_io_size)" 4096 "minimum_io_size"
if out=$(dd if="$dev" of=/dev/null bs=512 count=1 iflag=direct 2>&1); then
	fail "a 512-byte O_DIRECT read succeeded"
fi
grep -q 'Invalid argument' <<<"$out" || fail "want EINVAL, got: $out"
dd if="$dev" of=/dev/null bs=4096 count=1 iflag=direct status=none || fail "a 4096-byte O_DIRECT read failed"
# Below the inherited size: refused.
expect_errno EINVAL create --file "$dir/backing" --open rw --block-size 512
expect_errno EINVAL create --file "$dir/backing" --open rw --block-size 2048
