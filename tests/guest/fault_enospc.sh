#!/bin/bash
# The backing file system fills up: writes through rloop fail with ENOSPC at
# the application, what was written before reads back, and the file system is
# undamaged (e2fsck -fn).
# timeout: 300
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd e2fsck
load_rloop
dir=$(scratch_dir)
# A 64M ext4 at the start of the disk: the sparse 256M backing file cannot fit.
mkfs.ext4 -F -q "${DISKS[0]}" 64M >/dev/null || fail "mkfs.ext4 failed"
mount "${DISKS[0]}" "$dir" || fail "mount failed"
on_exit umount_if_mounted "$dir"
truncate -s 256M "$dir/sparse"
dev=$(rl_create "$dir/sparse")
pattern=$RLOOP_TEST_TMP/pattern
dd if=/dev/urandom of="$pattern" bs=1M count=8 status=none
dd if="$pattern" of="$dev" bs=1M oflag=direct status=none || fail "the first 8M did not fit"
rc=0
dd if=/dev/zero of="$dev" bs=1M seek=8 count=248 oflag=direct status=none 2>"$RLOOP_TEST_TMP/err" || rc=$?
[ "$rc" -ne 0 ] || fail "writing 256M into a 64M file system succeeded"
grep -q 'No space left on device' "$RLOOP_TEST_TMP/err" || fail "want ENOSPC, got: $(cat "$RLOOP_TEST_TMP/err")"
cmp "$pattern" <(dd if="$dev" bs=1M count=8 iflag=direct status=none) ||
	fail "data written before the file system filled up does not read back"
"$RLOOPCTL" detach "$dev"
rl_gone "$dev"
umount "$dir"
e2fsck -fn "${DISKS[0]}" >"$RLOOP_TEST_TMP/fsck" 2>&1 || fail "e2fsck -fn found damage after ENOSPC: $(tail -n 5 "$RLOOP_TEST_TMP/fsck")"
