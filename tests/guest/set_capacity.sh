#!/bin/bash
# After the backing file grows or shrinks, RLOOP_SET_CAPACITY (rloopctl
# set-capacity) updates the size; I/O past a shrunk end fails cleanly.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 1
need_tool "$RLOOPCTL"
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 16M "$dir/backing"
dev=$(rl_create "$dir/backing")
truncate -s 32M "$dir/backing"
assert_eq "$(blockdev --getsize64 "$dev")" $((16 << 20)) "size before set-capacity"
"$RLOOPCTL" set-capacity "$dev" || fail "set-capacity failed"
assert_eq "$(blockdev --getsize64 "$dev")" $((32 << 20)) "size after growing"
dd if=/dev/urandom of="$dev" bs=1M seek=24 count=1 oflag=direct status=none || fail "write in the grown part failed"
exec 3<"$dev"
truncate -s 8M "$dir/backing"
if dd if="$dev" of=/dev/null bs=1M skip=12 count=1 iflag=direct status=none 2>/dev/null; then
	fail "a read past the shrunk end succeeded"
fi
exec 3<&-
"$RLOOPCTL" set-capacity "$dev" || fail "set-capacity failed"
assert_eq "$(blockdev --getsize64 "$dev")" $((8 << 20)) "size after shrinking"
expect_errno ENOTTY ioctl "$dev" 0xd1a9
