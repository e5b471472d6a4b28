#!/bin/bash
# fio with verify=crc32c through rloop over a file on xfs: every block read
# back is the block written, and the device and the file hold the same bytes.
# timeout: 400
. "${0%/*}/../lib.sh"

need_disk 1
load_rloop
rl_fio_verify "${DISKS[0]}" xfs
