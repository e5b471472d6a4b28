#!/bin/bash
# Autoclear under udev, as on a distribution: a device created with
# --autoclear and mounted by its creator's command outlives rloopctl (the
# mount holds it) through udev's probes; after umount it goes, and its
# backing file is released by then: the backing file system unmounts at
# once.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd udevadm mkfs.ext4
pgrep -x systemd-udevd >/dev/null || fail "systemd-udevd is not running in the guest"
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 64M "$dir/backing"
mkfs.ext4 -q -F "$dir/backing"
mnt=$(mktemp -d "$RLOOP_TEST_TMP/mnt.XXXXXX")
dev=$("$RLOOPCTL" create --autoclear "$dir/backing" -- mount {} "$mnt") || fail "create --autoclear -- mount failed"
on_exit umount_if_mounted "$mnt"
udevadm settle
sleep 1
udevadm settle
[ -e "/sys/block/${dev#/dev/}" ] || fail "$dev went away while mounted"
echo hello >"$mnt/file"
sync
umount "$mnt"
rl_gone "$dev"
umount "$dir" || fail "the backing file system was busy after the device's last close"
