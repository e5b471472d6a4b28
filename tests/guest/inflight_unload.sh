#!/bin/bash
# A direct I/O in flight when the module goes. The backing file's file
# system (FUSE here: its completion runs in the daemon's write to /dev/fuse,
# a context rmmod cannot flush) may run rloop's completion after the bio's
# end has let the disk go; the module text must outlive that, which module
# exit's wait for the disk's bios and free_module's grace period give
# (the completion's tail is an RCU read-side section). No I/O takes a
# module reference: while a read is held in the file system the module has
# only the one of the reader's open. detach turns autoclear on, rmmod is
# refused while the device is open, and once the read completes the device
# goes and the module unloads.
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
# The read is in the file system once the daemon holds it.
held() {
	local n
	read -r n <"$mnt/held" && echo "$n"
}
for ((i = 0; i < 100; i++)); do
	[ "$(held)" -eq 0 ] || break
	sleep 0.1
done
[ "$(held)" -gt 0 ] || fail "the read never reached the file system"
# One reference, for the reader's open: none for its read.
assert_eq "$(</sys/module/rloop/refcnt)" $((refs + 1)) "module references with the reader's read in the file system (before: $refs)"

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
