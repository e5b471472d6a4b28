#!/bin/bash
# /sys/block/rloopN/rloop/* describe the attachment, a uevent announces the
# disk on attach and on detach, and lsblk and blkid see it.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd udevadm lsblk blkid
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 32M "$dir/backing"
udevadm monitor --kernel --subsystem-match=block >/tmp/uevents 2>&1 &
mon=$!
on_exit kill "$mon"
sleep 1
dev=$(rl_create --offset 4096 --sizelimit 16M --partscan "$dir/backing")
name=${dev#/dev/}
assert_eq "$(rl_attr "$dev" backing_file)" "$dir/backing" "backing_file"
assert_eq "$(rl_attr "$dev" backing_inode)" "$(stat -c %i "$dir/backing")" "backing_inode"
assert_eq "$(rl_attr "$dev" backing_dev)" "$(stat -c '%Hd:%Ld' "$dir/backing")" "backing_dev"
assert_eq "$(rl_attr "$dev" offset)" 4096 "offset"
assert_eq "$(rl_attr "$dev" sizelimit)" $((16 << 20)) "sizelimit"
assert_eq "$(rl_attr "$dev" autoclear)" 0 "autoclear"
assert_eq "$(rl_attr "$dev" partscan)" 1 "partscan"
assert_eq "$(rl_attr "$dev" dio)" 1 "dio"
[ "$(cat "/sys/block/$name/queue/write_cache")" = "write back" ] || fail "write cache not advertised"
[ "$(cat "/sys/block/$name/queue/fua")" = 1 ] || fail "FUA not advertised"
[ "$(cat "/sys/block/$name/queue/max_sectors_kb")" -ge 1024 ] || fail "max_sectors_kb below 1M"
assert_eq "$(lsblk -dnbo NAME,SIZE "$dev" | tr -s ' ')" "$name $((16 << 20))" "lsblk"
mkfs.ext4 -q -F "$dev"
assert_eq "$(blkid -p -o value -s TYPE "$dev")" ext4 "blkid"
# I/O is accounted in /sys/block/rloopN/stat.
reads=$(awk '{ print $1 }' "/sys/block/$name/stat")
[ "$reads" -gt 0 ] || fail "no reads in /sys/block/$name/stat"
"$RLOOPCTL" detach "$dev"
rl_gone "$dev"
sleep 1
grep -q "add.*/block/$name (block)" /tmp/uevents || fail "no add uevent: $(cat /tmp/uevents)"
grep -q "remove.*/block/$name (block)" /tmp/uevents || fail "no remove uevent: $(cat /tmp/uevents)"
rm -f /tmp/uevents
