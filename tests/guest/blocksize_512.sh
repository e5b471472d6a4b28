#!/bin/bash
# Backing file on a 512-byte-sector disk: rloop inherits 512; a larger
# requested size is taken; invalid sizes are refused with EINVAL.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 1
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs -s size=512)
truncate -s 32M "$dir/backing"
dev=$(rl_create "$dir/backing")
assert_eq "$(rl_queue "$dev" logical_block_size)" 512 "inherited logical_block_size"
dd if="$dev" of=/dev/null bs=512 count=1 iflag=direct status=none || fail "a 512-byte O_DIRECT read failed"
dev=$(rl_create --sector-size 4096 "$dir/backing")
assert_eq "$(rl_queue "$dev" logical_block_size)" 4096 "requested logical_block_size"
dev=$(expect_ok create --file "$dir/backing" --open rw --block-size 0)
assert_eq "$(rl_queue "$dev" logical_block_size)" 512 "block size 0 inherits"
dev=$(expect_ok create --file "$dir/backing" --open rw --block-size 1024)
assert_eq "$(rl_queue "$dev" logical_block_size)" 1024 "block size 1024"
for bs in 3 256 511 768 8192 65536; do
	expect_errno EINVAL create --file "$dir/backing" --open rw --block-size $bs
done
