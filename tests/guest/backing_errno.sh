#!/bin/bash
# The backing file's transient errnos do not leak to rloop's users. A file on
# FUSE (tests/errfs.py) answers reads, writes and fsyncs with the errno the
# test names. EAGAIN, ENOMEM and EBUSY would become BLK_STS_AGAIN, RESOURCE
# and DEV_RESOURCE, which mean "retry" or "you asked not to wait" to the
# layer above: the application gets EIO instead. Other errnos (ENOSPC) pass
# through. Failed writes write nothing, and the device works again once the
# file system does.
# timeout: 240
. "${0%/*}/../lib.sh"

need_disk 1
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
dd if=/dev/urandom of="$dir/store" bs=1M count=8 status=none
mnt=$(errfs_mount "$dir/store")

dev=$(rl_create "$mnt/disk")
udevadm settle # udev's probe reads the new disk: let it finish before reads fail
cmp "$dir/store" <(dd if="$dev" bs=1M iflag=direct status=none) || fail "the device does not read as the file"

# fail_with OP ERRNO: from now on OP of the file fails with ERRNO.
fail_with() {
	echo "$1 $2" >"$mnt/fail" || fail "errfs refused '$1 $2'"
}
for e in EAGAIN ENOMEM EBUSY; do
	fail_with read "$e"
	expect_eio "a read failing with $e" dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct status=none
done
for e in EAGAIN ENOMEM EBUSY; do
	fail_with write "$e"
	expect_eio "a write failing with $e" dd if=/dev/zero of="$dev" bs=4k count=1 oflag=direct status=none
	# An empty flush: count=0 writes nothing, fsync sends REQ_PREFLUSH.
	fail_with fsync "$e"
	expect_eio "a flush failing with $e" dd if=/dev/zero of="$dev" bs=4k count=0 conv=fsync status=none
done
fail_with write ENOSPC
rc=0
dd if=/dev/zero of="$dev" bs=4k count=1 oflag=direct status=none 2>"$RLOOP_TEST_TMP/err" || rc=$?
[ "$rc" -ne 0 ] || fail "a write failing with ENOSPC succeeded"
grep -q 'No space left on device' "$RLOOP_TEST_TMP/err" || fail "want ENOSPC, got: $(cat "$RLOOP_TEST_TMP/err")"

echo none >"$mnt/fail"
cmp "$dir/store" <(dd if="$dev" bs=1M iflag=direct status=none) ||
	fail "after the errors the device does not read as the file (a failed write wrote?)"
dd if=/dev/zero of="$dev" bs=4k count=1 oflag=direct conv=fsync status=none || fail "a write after the errors failed"
"$RLOOPCTL" detach "$dev"
rl_gone "$dev"
