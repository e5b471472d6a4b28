#!/bin/bash
# The backing file's own disk fails (fail_make_request on the virtio disk
# under the backing xfs): reads and writes through rloop fail with EIO
# promptly and fsync reports it; nothing hangs; once the fault is lifted the
# device works again and the data written before the fault is intact.
# timeout: 300
. "${0%/*}/../lib.sh"

need_disk 1
load_rloop
disk=${DISKS[0]}
dir=$(scratch_dir "$disk" xfs)
# Fully written, so direct I/O to it needs no allocation (no xfs metadata
# I/O while the disk fails).
dd if=/dev/zero of="$dir/backing" bs=1M count=16 conv=fsync status=none
dev=$(rl_create "$dir/backing")
before=$RLOOP_TEST_TMP/before
dd if=/dev/urandom of="$before" bs=1M count=4 status=none
dd if="$before" of="$dev" bs=1M oflag=direct conv=fsync status=none || fail "writing the pattern failed"

fail_disk "$disk"
expect_eio "a direct read" dd if="$dev" of=/dev/null bs=64k count=4 skip=128 iflag=direct status=none
expect_eio "a direct write" dd if=/dev/zero of="$dev" bs=64k count=4 seek=128 oflag=direct status=none
# A buffered write lands in the page cache; fsync must report the failure.
expect_eio "fsync after a buffered write" dd if=/dev/zero of="$dev" bs=64k count=4 seek=160 conv=fsync,notrunc status=none

heal_disk "$disk"
cmp "$before" <(dd if="$dev" bs=1M count=4 iflag=direct status=none) ||
	fail "data written before the fault is not intact"
dd if="$before" of="$dev" bs=1M seek=8 oflag=direct conv=fsync status=none ||
	fail "writes fail after the fault was lifted"
cmp "$before" <(dd if="$dev" bs=1M skip=8 count=4 iflag=direct status=none) ||
	fail "data written after the fault was lifted does not read back"
