#!/bin/bash
# The backing file's own disk fails (dm-error swapped in under the backing
# xfs): reads and writes through rloop fail with EIO promptly and fsync
# reports it; nothing hangs; once the disk is back, the device works again and
# the data written before the fault is intact.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../rloop-lib.sh"

need_disk 1
need_cmd dmsetup
load_rloop
disk=${DISKS[0]}
sectors=$(blockdev --getsz "$disk")
dmsetup create rloop-bk --table "0 $sectors linear $disk 0" || fail "dmsetup create failed"
on_exit dmsetup remove --retry rloop-bk
dir=$(scratch_dir /dev/mapper/rloop-bk xfs)
dd if=/dev/urandom of="$dir/backing" bs=1M count=16 conv=fsync status=none
dev=$(rl_create "$dir/backing")
dd if=/dev/urandom of=/tmp/before bs=1M count=4 status=none
dd if=/tmp/before of="$dev" bs=1M oflag=direct conv=fsync status=none

dmsetup suspend rloop-bk
dmsetup load rloop-bk --table "0 $sectors error"
dmsetup resume rloop-bk
if timeout 60 dd if="$dev" of=/dev/null bs=1M count=1 skip=8 iflag=direct status=none 2>/tmp/err; then
	fail "a read through rloop succeeded with its disk failing"
fi
[ $? -ne 124 ] || fail "a read through rloop hung with its disk failing"
grep -q 'Input/output error' /tmp/err || fail "read: want EIO, got: $(cat /tmp/err)"
if timeout 60 dd if=/dev/zero of="$dev" bs=1M count=1 seek=8 oflag=direct conv=fsync status=none 2>/tmp/err; then
	fail "a write through rloop succeeded with its disk failing"
fi
grep -q 'Input/output error' /tmp/err || fail "write: want EIO, got: $(cat /tmp/err)"

dmsetup suspend rloop-bk
dmsetup load rloop-bk --table "0 $sectors linear $disk 0"
dmsetup resume rloop-bk
cmp /tmp/before <(dd if="$dev" bs=1M count=4 iflag=direct status=none) ||
	fail "data written before the fault is not intact"
dd if=/dev/urandom of="$dev" bs=1M count=1 seek=8 oflag=direct conv=fsync status=none ||
	fail "writes fail after the fault was lifted"
rm -f /tmp/before /tmp/err
