#!/bin/bash
# An append-only file (chattr +a) can be opened for writing only with
# O_APPEND, which writes at its end; a disk writes at any offset. A
# writable attach of it is refused with EPERM, as open(2) refuses a
# writable open without O_APPEND; a read-only one is allowed. The file is
# unchanged.
# timeout: 120
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd chattr
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
dd if=/dev/urandom of="$dir/backing" bs=1M count=4 status=none
sum=$(md5sum <"$dir/backing")
chattr +a "$dir/backing" || fail "chattr +a failed"
on_exit chattr -a "$dir/backing"
expect_errno EPERM create --file "$dir/backing" --open rw-append
dev=$(expect_ok create --file "$dir/backing" --open rw-append --flags 1)
assert_eq "$(cat "/sys/block/${dev#/dev/}/ro")" 1 "ro with the read-only flag over an append-only file"
dev=$(expect_ok create --file "$dir/backing" --open ro)
assert_eq "$(cat "/sys/block/${dev#/dev/}/ro")" 1 "ro with a read-only fd over an append-only file"
assert_eq "$(md5sum <"$dir/backing")" "$sum" "backing file changed"
