#!/bin/bash
# fio with verify=crc32c through rloop over a file on ext4: every block read
# back is the block written, and the device and the file hold the same bytes.
# timeout: 400
. "${0%/*}/../lib.sh"

need_disk 2
load_rloop
rl_fio_verify "${DISKS[1]}" ext4
