#!/bin/bash
# The VM is what the suite assumes: the disks check.sh asks for with their
# block sizes, writable scratch space, modprobe of the kernel's modules, and a
# kernel log that the runner can read.
# timeout: 120
. "${0%/*}/../lib.sh"

need_disk 3
for d in "${DISKS[@]}"; do
	[ -b "$d" ] || fail "$d is not a block device"
	assert_eq "$(blockdev --getsize64 "$d")" $((1 << 30)) "size of $d"
done
assert_eq "$(cat "/sys/block/${DISKS[0]#/dev/}/queue/logical_block_size")" 512 "logical block size of ${DISKS[0]}"
assert_eq "$(cat "/sys/block/${DISKS[1]#/dev/}/queue/logical_block_size")" 512 "logical block size of ${DISKS[1]}"
assert_eq "$(cat "/sys/block/${DISKS[2]#/dev/}/queue/logical_block_size")" 4096 "logical block size of ${DISKS[2]}"
assert_eq "$(cat "/sys/block/${DISKS[2]#/dev/}/queue/physical_block_size")" 4096 "physical block size of ${DISKS[2]}"

# Writable places and the results share.
for d in /tmp /run /var/tmp /root "$RLOOP_OUT" "$RLOOP_TEST_TMP"; do
	f=$(mktemp "$d/.probe.XXXXXX") || fail "$d is not writable"
	rm -f "$f"
done

# The kernel's modules load (and the runner insists we unload them).
modprobe loop || fail "modprobe loop failed"
on_exit modprobe -r loop
[ -e /sys/module/loop/initstate ] || fail "loop did not load"

# A file system on a disk, through the helpers.
dir=$(scratch_dir "${DISKS[0]}" xfs)
mountpoint -q "$dir" || fail "scratch_dir did not mount ${DISKS[0]}"
dd if=/dev/urandom of="$dir/f" bs=1M count=4 status=none oflag=direct
sum=$(md5sum <"$dir/f")
umount "$dir"
mount "${DISKS[0]}" "$dir"
assert_eq "$(md5sum <"$dir/f")" "$sum" "checksum after remount"
