#!/bin/bash
# The installed rloopctl attaches a file on ext4 and on xfs; udev, with the
# installed rules, gives each device's file system its /dev/disk/by-uuid
# link; the file system mounts through it and fio verify passes on it.
# timeout: 600
. "${0%/*}/../lib.sh"

need_disk 2
need_cmd fio blkid
RLOOPCTL=$(command -v rloopctl) || fail "rloopctl is not installed (make install)"
[ -e /etc/udev/rules.d/60-rloop.rules ] || fail "the udev rules are not installed"
load_rloop
i=0
for backing_fs in ext4 xfs; do
	dir=$(scratch_dir "${DISKS[$i]}" "$backing_fs")
	truncate -s 256M "$dir/backing"
	dev=$(rl_create "$dir/backing")
	mkfs.ext4 -q -F "$dev" >/dev/null || fail "mkfs.ext4 $dev failed"
	udevadm settle
	uuid=$(blkid -s UUID -o value "$dev")
	[ -n "$uuid" ] || fail "blkid found no UUID on $dev"
	link=/dev/disk/by-uuid/$uuid
	assert_eq "$(readlink -f "$link")" "$dev" "$link on a file on $backing_fs"
	mnt=$(scratch_dir)
	mount "$link" "$mnt" || fail "mount $link failed"
	on_exit umount_if_mounted "$mnt"
	fio --name=verify --directory="$mnt" --direct=1 --ioengine=io_uring --iodepth=8 \
		--rw=randwrite --bsrange=4k-64k --size=32M --verify=crc32c --verify_fatal=1 \
		--output=/dev/null || fail "fio verify on $link (a file on $backing_fs) failed"
	umount "$mnt"
	"$RLOOPCTL" detach "$dev"
	udevadm settle
	[ ! -e "$link" ] || fail "$link outlived its device"
	i=$((i + 1))
done
