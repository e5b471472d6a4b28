#!/bin/bash
# A descriptor that is not an open file: EBADF (O_PATH ones included).
# timeout: 120
. "${0%/*}/../lib.sh"

need_disk 1
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 16M "$dir/backing"
expect_errno EBADF create --fd -1
expect_errno EBADF create --fd 9999
expect_errno EBADF create --fd 2147483647
expect_errno EBADF create --file "$dir/backing" --open path
[ -z "$(block_devices rloop)" ] || fail "a refused create left a device"
