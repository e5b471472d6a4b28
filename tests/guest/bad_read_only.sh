#!/bin/bash
# A read-only descriptor (without the read-only flag) or the read-only flag
# gives a read-only disk: writing to it fails with EPERM, and a
# write-only descriptor is refused with EBADF.
# timeout: 120
. "${0%/*}/../lib.sh"

need_disk 1
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
dd if=/dev/urandom of="$dir/backing" bs=1M count=4 status=none
sum=$(md5sum <"$dir/backing")
dev=$(expect_ok create --file "$dir/backing" --open ro)
assert_eq "$(cat "/sys/block/${dev#/dev/}/ro")" 1 "ro with a read-only fd"
if out=$(dd if=/dev/zero of="$dev" bs=4k count=1 oflag=direct 2>&1); then
	fail "writing a read-only device succeeded"
fi
grep -q "Operation not permitted" <<<"$out" || fail "want EPERM, got: $out"
dev=$(expect_ok create --file "$dir/backing" --open rw --flags 1)
assert_eq "$(cat "/sys/block/${dev#/dev/}/ro")" 1 "ro with the read-only flag"
dev=$(expect_ok create --file "$dir/backing" --open rw)
assert_eq "$(cat "/sys/block/${dev#/dev/}/ro")" 0 "rw with a rw fd"
assert_eq "$(md5sum <"$dir/backing")" "$sum" "backing file changed"
exec 4>>"$dir/backing"
expect_errno EBADF create --fd 4
exec 4>&-
