#!/bin/bash
# fio verify=crc32c over md raid0 (64K chunks) of two rloop devices: 4 jobs,
# block sizes from 512 bytes to 1M (md splits what crosses a chunk),
# 512-byte aligned buffers, random writes, 512 MiB written and verified in
# all. (md_raid0 in make check covers 4K chunks: at 4K, md turns every I/O
# into 4K pieces and a few GiB would take hours under KASAN and TCG.)
# timeout: 1500
. "${0%/*}/../lib.sh"

need_disk 2
need_cmd mdadm fio
load_rloop
d0=$(scratch_dir "${DISKS[0]}" xfs -s size=512)
d1=$(scratch_dir "${DISKS[1]}" xfs -s size=512)
truncate -s 400M "$d0/backing" "$d1/backing"
r0=$(rl_create --sector-size 512 "$d0/backing")
r1=$(rl_create --sector-size 512 "$d1/backing")
rl_raid0 64 "$r0" "$r1"
# 4 jobs x 128M regions = 512 MiB written, each block read back.
fio --name=verify --filename=/dev/md127 --direct=1 --ioengine=libaio --iodepth=16 \
	--numjobs=4 --size=128M --offset_increment=128M \
	--rw=randwrite --bssplit=512/10:4k/40:64k/30:1m/20 --mem_align=512 \
	--verify=crc32c --verify_fatal=1 --group_reporting --output-format=terse \
	--output="$RLOOP_TEST_TMP/fio.out" || fail "fio verify over md raid0 failed: $(tail -n 5 "$RLOOP_TEST_TMP/fio.out")"
echo "fio: 512 MiB written and verified over md raid0 of rloops"
