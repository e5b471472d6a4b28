#!/bin/bash
# Only regular files and block devices can back a device: directories,
# pipes, sockets and character devices (the control node itself too) get
# EINVAL.
# timeout: 120
. "${0%/*}/../lib.sh"

load_rloop
dir=$(scratch_dir)
expect_errno EINVAL create --file "$dir" --open dir
expect_errno EINVAL create --file pipe:
expect_errno EINVAL create --file socket:
expect_errno EINVAL create --file /dev/rloop-control --open rw
expect_errno EINVAL create --file /dev/null --open rw
[ -z "$(block_devices rloop)" ] || fail "a refused create left a device"
