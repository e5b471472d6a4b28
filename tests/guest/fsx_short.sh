#!/bin/bash
# fsx (the fsx crate, block mode) on an rloop device and on md raid0 over two,
# with fixed seeds: every read checks what fsx wrote, through the page cache
# and, after fadvise DONTNEED, through the device. make stress runs it long.
# timeout: 600
. "${0%/*}/../lib.sh"

need_disk 2
need_cmd mdadm
ops=${RLOOP_FSX_OPS:-600}
load_rloop
d0=$(scratch_dir "${DISKS[0]}" xfs)
d1=$(scratch_dir "${DISKS[1]}" xfs)
truncate -s 16M "$d0/a" "$d0/b" "$d1/b"
dev=$(rl_create "$d0/a")
rl_fsx "$dev" 1 "$ops"

r0=$(rl_create --sector-size 512 "$d0/b")
r1=$(rl_create --sector-size 512 "$d1/b")
rl_raid0 4 "$r0" "$r1"
rl_fsx /dev/md127 2 "$ops"
