#!/bin/bash
# The backing file system fills up: writes through rloop fail with ENOSPC at
# the application, and the file system is undamaged.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../rloop-lib.sh"

need_disk 2
load_rloop
dir=$(scratch_dir)
mkfs.xfs -f -q -d size=96m "${DISKS[1]}"
mount "${DISKS[1]}" "$dir"
on_exit umount_if_mounted "$dir"
truncate -s 512M "$dir/sparse"
dev=$(rl_create "$dir/sparse")
if dd if=/dev/zero of="$dev" bs=1M count=256 oflag=direct status=none 2>/tmp/err; then
	fail "writing 256M into a 96M file system succeeded"
fi
grep -q 'No space left on device' /tmp/err || fail "want ENOSPC, got: $(cat /tmp/err)"
"$RLOOPCTL" detach "$dev"
rl_gone "$dev"
umount "$dir"
xfs_repair -n "${DISKS[1]}" >/dev/null 2>&1 || fail "xfs_repair -n found damage after ENOSPC"
rm -f /tmp/err
