#!/bin/bash
# Removing an open device fails with EBUSY; after close it goes; removing
# one that does not exist is ENODEV; an autoclear device goes on last close,
# also when removal was asked for while it was open.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 1
load_rloop
dir=$(scratch_dir tmpfs)
truncate -s 16M "$dir/backing"

dev=$(rl_create "$dir/backing")
n=$(rl_index "$dev")
exec 3<"$dev"
expect_errno EBUSY remove "$n"
[ -e "/sys/block/rloop$n" ] || fail "a refused removal removed the device"
exec 3<&-
expect_ok remove "$n" >/dev/null
[ ! -e "/sys/block/rloop$n" ] || fail "rloop$n is still there after removal"
expect_errno ENODEV remove "$n"
expect_errno ENODEV remove 4095
expect_errno ENODEV remove 4294967295

# Autoclear: nothing happens until the last close.
dev=$(rl_create --autoclear "$dir/backing")
assert_eq "$(rl_attr "$dev" autoclear)" 1 "sysfs autoclear"
sleep 0.5
[ -e "/sys/block/${dev#/dev/}" ] || fail "an unopened autoclear device went away"
dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct status=none
rl_gone "$dev"

# Autoclear and removal asked for while open: it goes on close.
dev=$(rl_create --autoclear "$dir/backing")
exec 3<"$dev"
expect_ok remove "$(rl_index "$dev")" >/dev/null
[ -e "/sys/block/${dev#/dev/}" ] || fail "an open autoclear device was removed at once"
exec 3<&-
rl_gone "$dev"
