#!/bin/bash
# md raid0 over two rloop devices, and the disk under one of their backing
# files starts failing (fail_make_request): reads and writes through md fail
# with EIO promptly, nothing hangs, the array stops cleanly, and once the
# fault is lifted both members read back what was written before it.
# timeout: 300
. "${0%/*}/../lib.sh"

need_disk 2
need_cmd mdadm
load_rloop
d0=$(scratch_dir "${DISKS[0]}" xfs)
d1=$(scratch_dir "${DISKS[1]}" xfs)
dd if=/dev/zero of="$d0/backing" bs=1M count=16 conv=fsync status=none
dd if=/dev/zero of="$d1/backing" bs=1M count=16 conv=fsync status=none
r0=$(rl_create "$d0/backing")
r1=$(rl_create "$d1/backing")
rl_raid0 4 "$r0" "$r1"
pattern=$RLOOP_TEST_TMP/pattern
dd if=/dev/urandom of="$pattern" bs=1M count=2 status=none
dd if="$pattern" of=/dev/md127 bs=1M oflag=direct conv=fsync status=none || fail "writing the pattern failed"
# Where the members keep the data (md's data offset: the same on both).
off0=$(($(cat "/sys/block/md127/md/dev-${r0#/dev/}/offset") * 512))
member0=$RLOOP_TEST_TMP/member0
dd if="$r0" of="$member0" bs=512 skip=$((off0 / 512)) count=2048 iflag=direct status=none

fail_disk "${DISKS[1]}"
# Every 8K of the array spans both members (4K chunks).
expect_eio "a read through md" dd if=/dev/md127 of=/dev/null bs=64k count=4 skip=64 iflag=direct status=none
expect_eio "a write through md" dd if=/dev/zero of=/dev/md127 bs=64k count=4 seek=64 oflag=direct status=none
expect_eio "fsync after a buffered write through md" dd if=/dev/zero of=/dev/md127 bs=64k count=4 seek=96 conv=fsync,notrunc status=none
timeout 60 mdadm --stop /dev/md127 || fail "mdadm --stop failed or hung with a member's disk failing"

heal_disk "${DISKS[1]}"
cmp "$member0" <(dd if="$r0" bs=512 skip=$((off0 / 512)) count=2048 iflag=direct status=none) ||
	fail "the healthy member's data changed"
# The pattern's odd 4K chunks are on the second member.
for chunk in 1 3 101 255; do
	cmp <(dd if="$pattern" bs=4k skip=$chunk count=1 status=none) \
		<(dd if="$r1" bs=512 skip=$((off0 / 512 + chunk / 2 * 8)) count=8 iflag=direct status=none) ||
		fail "chunk $chunk on the failed member does not read back after the fault was lifted"
done
