#!/bin/bash
# The reported failure case: md raid0 (4K chunk) over two rloop devices with
# 512-byte blocks; fio with sizes from 512 bytes to 256K, 512-aligned buffers
# that are not page-aligned, random offsets, verify=crc32c (md splits bios
# in the middle of bvecs); then xfs on the array, a file workload, and a clean
# xfs_repair -n.
# timeout: 600
. "${0%/*}/../lib.sh"

need_disk 2
need_cmd mdadm fio xfs_repair
load_rloop
d0=$(scratch_dir "${DISKS[0]}" xfs -s size=512)
d1=$(scratch_dir "${DISKS[1]}" xfs -s size=512)
truncate -s 160M "$d0/backing" "$d1/backing"
r0=$(rl_create --sector-size 512 "$d0/backing")
r1=$(rl_create --sector-size 512 "$d1/backing")
rl_raid0 4 "$r0" "$r1"
assert_eq "$(cat /sys/block/md127/queue/logical_block_size)" 512 "md logical_block_size"

# mem_align offsets every buffer from page alignment by 512 bytes.
fio --name=split --filename=/dev/md127 --direct=1 --ioengine=libaio --iodepth=16 \
	--rw=randwrite --bsrange=512-256k --mem_align=512 --size=6M \
	--verify=crc32c --verify_fatal=1 --output=/dev/null ||
	fail "fio verify over md raid0 of rloops failed"

# The log (64 MiB at least) goes on an rloop device of its own: mkfs zeroes
# it, which over the array's 4K chunks is 16,000 write-zeroes (70 s under
# TCG). -K: no discard of the whole array first either (flush_discard covers
# discard). Every data and metadata block is still on the array.
truncate -s 80M "$d0/log"
log=$(rl_create "$d0/log")
mnt=$(scratch_dir)
RL_MOUNT_OPTS=logdev=$log mkfs_mount xfs /dev/md127 "$mnt" -K -l logdev="$log"
fio --name=files --directory="$mnt" --nrfiles=8 --filesize=512k-1M --direct=0 \
	--rw=randrw --bsrange=1k-64k --size=4M --verify=crc32c --verify_fatal=1 \
	--fsync_on_close=1 --output=/dev/null || fail "file workload on xfs over md failed"
umount "$mnt"
xfs_repair -n -l "$log" /dev/md127 >/dev/null 2>&1 || fail "xfs_repair -n found problems on the array"
