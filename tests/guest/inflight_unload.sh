#!/bin/bash
# A direct I/O in flight pins the module. The backing file's file system
# (FUSE here: its completion runs in the daemon's write to /dev/fuse, a
# context rmmod cannot flush) may run rloop's completion after the bio's end
# has let the disk go; the module text must outlive that. While a read is
# held in the file system the module has one reference more than the open
# device accounts for; detach turns autoclear on, rmmod is refused, and once
# the read completes the device goes and the module unloads.
# timeout: 180
. "${0%/*}/../lib.sh"

need_disk 1
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
dd if=/dev/urandom of="$dir/store" bs=1M count=4 status=none
mnt=$(errfs_mount "$dir/store")
dev=$(rl_create "$mnt/disk")
udevadm settle
refs=$(</sys/module/rloop/refcnt)

echo "read stall" >"$mnt/fail"
dd if="$dev" of="$RLOOP_TEST_TMP/block" bs=4k count=1 iflag=direct status=none &
reader=$!
on_exit sh -c "echo none >'$mnt/fail'" # never leave the reader stuck
# One reference for the reader's open, one for its read.
for ((i = 0; i < 100; i++)); do
	[ "$(</sys/module/rloop/refcnt)" -ne $((refs + 2)) ] || break
	sleep 0.1
done
assert_eq "$(</sys/module/rloop/refcnt)" $((refs + 2)) "module references with the reader's read in the file system (before: $refs)"

out=$("$RLOOPCTL" detach "$dev" 2>&1) || fail "detach of the busy device failed: $out"
[[ "$out" == *"busy: autoclear turned on"* ]] || fail "detach of the busy device said: $out"
rc=0
rmmod rloop 2>/dev/null || rc=$?
[ "$rc" -ne 0 ] || fail "rmmod succeeded with a read in flight"
[ -b "$dev" ] || fail "$dev went with a read in flight"

echo none >"$mnt/fail"
wait "$reader" || fail "the held read failed once released"
cmp "$RLOOP_TEST_TMP/block" <(head -c 4096 "$dir/store") || fail "the held read returned other data"
rl_gone "$dev"
unload_rloop
[ ! -e /sys/module/rloop ] || fail "rloop is still loaded"
