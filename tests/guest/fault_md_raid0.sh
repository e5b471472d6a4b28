#!/bin/bash
# md raid0 over two rloop devices, and the disk under one of their backing
# files starts failing (fail_make_request): reads and writes through md fail
# with EIO promptly, nothing hangs, the array stops cleanly, and once the
# fault is lifted both members read back what was written before it.
# timeout: 300
. "${0%/*}/../lib.sh"
. "${0%/*}/../rloop-lib.sh"

need_disk 2
need_cmd mdadm
fail_dir=/sys/kernel/debug/fail_make_request
[ -d "$fail_dir" ] || skip "no $fail_dir (CONFIG_FAIL_MAKE_REQUEST)"
load_rloop
d0=$(scratch_dir "${DISKS[0]}" xfs)
d1=$(scratch_dir "${DISKS[1]}" xfs)
dd if=/dev/zero of="$d0/backing" bs=1M count=16 conv=fsync status=none
dd if=/dev/zero of="$d1/backing" bs=1M count=16 conv=fsync status=none
r0=$(rl_create "$d0/backing")
r1=$(rl_create "$d1/backing")
mdadm --create /dev/md127 --run --quiet --level=0 --chunk=4 --raid-devices=2 \
	--metadata=1.2 "$r0" "$r1" || fail "mdadm --create failed"
on_exit sh -c '[ ! -b /dev/md127 ] || mdadm --stop /dev/md127'
pattern=$RLOOP_TEST_TMP/pattern
dd if=/dev/urandom of="$pattern" bs=1M count=2 status=none
dd if="$pattern" of=/dev/md127 bs=1M oflag=direct conv=fsync status=none || fail "writing the pattern failed"
# Where the members keep the data (md's data offset: the same on both).
off0=$(($(cat "/sys/block/md127/md/dev-${r0#/dev/}/offset") * 512))
member0=$RLOOP_TEST_TMP/member0
dd if="$r0" of="$member0" bs=512 skip=$((off0 / 512)) count=2048 iflag=direct status=none

make_it_fail=/sys/block/${DISKS[1]#/dev/}/make-it-fail
echo 100 >"$fail_dir/probability"
echo -1 >"$fail_dir/times"
echo 0 >"$fail_dir/interval"
echo 0 >"$fail_dir/verbose"
echo 1 >"$make_it_fail"
on_exit sh -c "echo 0 >$make_it_fail; echo 0 >$fail_dir/probability"

expect_eio() { # WHAT CMD...
	local what=$1 rc=0
	shift
	timeout 60 "$@" 2>"$RLOOP_TEST_TMP/err" || rc=$?
	[ "$rc" -ne 0 ] || fail "$what through md succeeded with a member's disk failing"
	[ "$rc" -ne 124 ] || fail "$what through md hung with a member's disk failing"
	grep -q 'Input/output error' "$RLOOP_TEST_TMP/err" || fail "$what: want EIO, got: $(cat "$RLOOP_TEST_TMP/err")"
}
# Every 8K of the array spans both members (4K chunks).
expect_eio "a read" dd if=/dev/md127 of=/dev/null bs=64k count=4 skip=64 iflag=direct status=none
expect_eio "a write" dd if=/dev/zero of=/dev/md127 bs=64k count=4 seek=64 oflag=direct status=none
expect_eio "fsync after a buffered write" dd if=/dev/zero of=/dev/md127 bs=64k count=4 seek=96 conv=fsync,notrunc status=none
timeout 60 mdadm --stop /dev/md127 || fail "mdadm --stop failed or hung with a member's disk failing"

echo 0 >"$make_it_fail"
cmp "$member0" <(dd if="$r0" bs=512 skip=$((off0 / 512)) count=2048 iflag=direct status=none) ||
	fail "the healthy member's data changed"
# The pattern's odd 4K chunks are on the second member.
for chunk in 1 3 101 255; do
	cmp <(dd if="$pattern" bs=4k skip=$chunk count=1 status=none) \
		<(dd if="$r1" bs=512 skip=$((off0 / 512 + chunk / 2 * 8)) count=8 iflag=direct status=none) ||
		fail "chunk $chunk on the failed member does not read back after the fault was lifted"
done
