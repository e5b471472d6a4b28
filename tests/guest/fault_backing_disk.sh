#!/bin/bash
# The backing file's own disk fails (fail_make_request on the virtio disk
# under the backing xfs): reads and writes through rloop fail with EIO
# promptly and fsync reports it; nothing hangs; once the fault is lifted the
# device works again and the data written before the fault is intact.
# timeout: 300
. "${0%/*}/../lib.sh"
. "${0%/*}/../rloop-lib.sh"

need_disk 1
fail_dir=/sys/kernel/debug/fail_make_request
[ -d "$fail_dir" ] || skip "no $fail_dir (CONFIG_FAIL_MAKE_REQUEST)"
load_rloop
disk=${DISKS[0]}
make_it_fail=/sys/block/${disk#/dev/}/make-it-fail
dir=$(scratch_dir "$disk" xfs)
# Fully written, so direct I/O to it needs no allocation (no xfs metadata
# I/O while the disk fails).
dd if=/dev/zero of="$dir/backing" bs=1M count=16 conv=fsync status=none
dev=$(rl_create "$dir/backing")
before=$RLOOP_TEST_TMP/before
dd if=/dev/urandom of="$before" bs=1M count=4 status=none
dd if="$before" of="$dev" bs=1M oflag=direct conv=fsync status=none || fail "writing the pattern failed"

# Every bio to the disk fails from now on, until make-it-fail is cleared.
echo 100 >"$fail_dir/probability"
echo -1 >"$fail_dir/times"
echo 0 >"$fail_dir/interval"
echo 0 >"$fail_dir/verbose"
echo 1 >"$make_it_fail"
on_exit sh -c "echo 0 >$make_it_fail; echo 0 >$fail_dir/probability"

# expect_eio WHAT CMD...: CMD fails within 60 s and says EIO.
expect_eio() {
	local what=$1 rc=0
	shift
	timeout 60 "$@" 2>"$RLOOP_TEST_TMP/err" || rc=$?
	[ "$rc" -ne 0 ] || fail "$what succeeded with the backing disk failing"
	[ "$rc" -ne 124 ] || fail "$what hung with the backing disk failing"
	grep -q 'Input/output error' "$RLOOP_TEST_TMP/err" || fail "$what: want EIO, got: $(cat "$RLOOP_TEST_TMP/err")"
}
expect_eio "a direct read" dd if="$dev" of=/dev/null bs=64k count=4 skip=128 iflag=direct status=none
expect_eio "a direct write" dd if=/dev/zero of="$dev" bs=64k count=4 seek=128 oflag=direct status=none
# A buffered write lands in the page cache; fsync must report the failure.
expect_eio "fsync after a buffered write" dd if=/dev/zero of="$dev" bs=64k count=4 seek=160 conv=fsync,notrunc status=none
grep -q 'Input/output error' "$RLOOP_TEST_TMP/err" || true

echo 0 >"$make_it_fail"
cmp "$before" <(dd if="$dev" bs=1M count=4 iflag=direct status=none) ||
	fail "data written before the fault is not intact"
dd if="$before" of="$dev" bs=1M seek=8 oflag=direct conv=fsync status=none ||
	fail "writes fail after the fault was lifted"
cmp "$before" <(dd if="$dev" bs=1M skip=8 count=4 iflag=direct status=none) ||
	fail "data written after the fault was lifted does not read back"
