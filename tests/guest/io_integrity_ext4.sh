#!/bin/bash
# fio with verify=crc32c through rloop over a file on ext4: every block read
# back is the block written, and the device and the file hold the same bytes.
# timeout: 400
. "${0%/*}/../lib.sh"
. "${0%/*}/../rloop-lib.sh"

need_disk 2
need_cmd fio
load_rloop
dir=$(scratch_dir "${DISKS[1]}" ext4)
truncate -s 64M "$dir/backing"
dev=$(rl_create "$dir/backing")
fio --name=integrity --filename="$dev" --direct=1 --ioengine=io_uring --iodepth=8 \
	--rw=randwrite --bsrange=4k-64k --size=32M --verify=crc32c --verify_fatal=1 \
	--output=/dev/null || fail "fio verify failed on $dev"
cmp "$dev" "$dir/backing" || fail "the device and its backing file differ"
