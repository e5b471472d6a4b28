#!/bin/bash
# Removing an open device fails with EBUSY; after close it goes; removing
# one that does not exist is ENODEV; an autoclear device lives while its
# creator holds it and goes on the last close, also when removal was asked
# for while it was open, and when its creator dies.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 1
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 16M "$dir/backing"

dev=$(rl_create "$dir/backing")
n=$(rl_index "$dev")
exec 3<"$dev"
expect_errno EBUSY remove "$n"
[ -e "/sys/block/rloop$n" ] || fail "a refused removal removed the device"
exec 3<&-
udevadm settle # udev's probe of the new disk holds it open for a moment
expect_ok remove "$n" >/dev/null
[ ! -e "/sys/block/rloop$n" ] || fail "rloop$n is still there after removal"
expect_errno ENODEV remove "$n"
expect_errno ENODEV remove 4095
expect_errno ENODEV remove 4294967295

# RLOOP_CTL_DETACH (0xd103), losetup -d's: an open device gets autoclear and
# goes on its last close (1); a closed one goes at once (0).
dev=$(rl_create "$dir/backing")
exec 3<"$dev"
assert_eq "$("$RLOOP_RAW" ioctl "$RLOOP_CONTROL" 0xd103 "$(rl_index "$dev")")" "ok 1" "detach of an open device"
[ -e "/sys/block/${dev#/dev/}" ] || fail "an open device went at detach"
exec 3<&-
rl_gone "$dev"
dev=$(rl_create "$dir/backing")
udevadm settle
assert_eq "$("$RLOOP_RAW" ioctl "$RLOOP_CONTROL" 0xd103 "$(rl_index "$dev")")" "ok 0" "detach of a closed device"
[ ! -e "/sys/block/${dev#/dev/}" ] || fail "a detached closed device is still there"
expect_errno ENODEV ioctl "$RLOOP_CONTROL" 0xd103 4095

# Autoclear: the device is created held by its creator (here rloopctl, while
# its command runs); udev's probe of the new disk does not detach it, and it
# goes when the last holder closes it.
out=$("$RLOOPCTL" create --autoclear "$dir/backing" -- bash -c '
	sleep 1
	udevadm settle
	[ -b "$1" ] || { echo "gone while held"; exit 1; }
	dd if="$1" of=/dev/null bs=4k count=1 iflag=direct status=none || exit 1
	echo "ok $1"' bash {}) || fail "an autoclear device did not live while its creator held it: $out"
dev=$(tail -n 1 <<<"$out")
dev=${dev#ok }
rl_gone "$dev"

# RLOOP_CTL_REMOVE of an autoclear device that is open: refused with EBUSY,
# as for any open device (the uAPI's word); it still goes on its last close.
out=$("$RLOOPCTL" create --autoclear "$dir/backing" -- bash -c '
	exec 3<"$1"
	said=$('"$RLOOP_RAW"' remove "${1#/dev/rloop}" 2>&1)
	[[ $said == *"err EBUSY"* ]] || { echo "remove said: $said"; exit 1; }
	sleep 0.5
	[ -e "/sys/block/${1#/dev/}" ] || { echo "removed while open"; exit 1; }
	echo "ok $1"' bash {}) || fail "remove of an open autoclear device: $out"
dev=$(tail -n 1 <<<"$out")
rl_gone "${dev#ok }"

# If the creator dies, the device goes with it.
"$RLOOPCTL" create --autoclear "$dir/backing" -- bash -c '
	echo $$ >"$RLOOP_TEST_TMP/cmd.pid"
	kill -9 $PPID
	exec sleep 1' bash {} >"$RLOOP_TEST_TMP/out" 2>&1 || true
tail --pid="$(cat "$RLOOP_TEST_TMP/cmd.pid")" -f /dev/null
dev=$(head -n 1 "$RLOOP_TEST_TMP/out")
[[ "$dev" == /dev/rloop* ]] || fail "create printed '$dev'"
rl_gone "$dev"
