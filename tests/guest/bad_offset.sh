#!/bin/bash
# Offsets: beyond or at EOF, not a multiple of the block size: EINVAL;
# offset + size limit overflowing: EOVERFLOW. Size limits: beyond EOF is
# clamped, 0 is the whole file, a partial last block is dropped.
# timeout: 120
. "${0%/*}/../lib.sh"

need_disk 1
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs -s size=512)
truncate -s 16M "$dir/backing"
f=(--file "$dir/backing" --open rw)
expect_errno EINVAL create "${f[@]}" --offset $((32 << 20))
expect_errno EINVAL create "${f[@]}" --offset $((16 << 20))
expect_errno EINVAL create "${f[@]}" --offset 1000
expect_errno EINVAL create "${f[@]}" --block-size 4096 --offset 6144
expect_errno EOVERFLOW create "${f[@]}" --offset 4096 --sizelimit 18446744073709551615
expect_errno EOVERFLOW create "${f[@]}" --offset 9223372036854775808
expect_errno EOVERFLOW create "${f[@]}" --sizelimit 9223372036854775807 --offset 4096

dev=$(expect_ok create "${f[@]}" --offset 512)
assert_eq "$(blockdev --getsize64 "$dev")" $(((16 << 20) - 512)) "size with offset 512"
dev=$(expect_ok create "${f[@]}" --offset $((1 << 20)) --sizelimit $((64 << 20)))
assert_eq "$(blockdev --getsize64 "$dev")" $((15 << 20)) "size limit beyond EOF is clamped"
dev=$(expect_ok create "${f[@]}" --sizelimit 0)
assert_eq "$(blockdev --getsize64 "$dev")" $((16 << 20)) "size limit 0 is the whole file"
dev=$(expect_ok create "${f[@]}" --sizelimit $(((1 << 20) + 700)))
assert_eq "$(blockdev --getsize64 "$dev")" $(((1 << 20) + 512)) "partial block dropped"
