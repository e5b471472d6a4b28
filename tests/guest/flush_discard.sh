#!/bin/bash
# Discard punches holes in the backing file, write-zeroes (blkdiscard -z)
# zeroes, and an fsync on the device reaches the file's disk as a flush.
# timeout: 300
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd blkdiscard xfs_io
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
dd if=/dev/urandom of="$dir/backing" bs=1M count=32 conv=fsync status=none
cp "$dir/backing" "$dir/orig"
dev=$(rl_create "$dir/backing")
[ "$(rl_queue "$dev" discard_max_bytes)" -gt 0 ] || fail "discard is not advertised"

before=$(stat -c %b "$dir/backing")
blkdiscard -o 0 -l 16M "$dev" || fail "blkdiscard failed"
after=$(stat -c %b "$dir/backing")
[ $((before - after)) -ge $((16 << 11)) ] ||
	fail "discard freed $((before - after)) sectors of the file, want $((16 << 11))"
cmp -n $((16 << 20)) "$dev" /dev/zero || fail "discarded range does not read as zeroes"

blkdiscard -z -o 16M -l 8M "$dev" || fail "blkdiscard -z failed"
cmp <(dd if="$dev" bs=1M skip=16 count=8 iflag=direct status=none) <(head -c 8M /dev/zero) ||
	fail "write-zeroes range does not read as zeroes"
cmp <(dd if="$dev" bs=1M skip=24 count=8 iflag=direct status=none) \
	<(dd if="$dir/orig" bs=1M skip=24 count=8 status=none) ||
	fail "data after the discarded ranges changed"

disk=${DISKS[0]#/dev/}
[ "$(cat "/sys/block/$disk/queue/write_cache")" = "write back" ] ||
	fail "$disk has no write cache: flushes cannot be seen"
# Field 16 of the stat file: flush requests completed.
flushes() { awk '{ print $16 }' "/sys/block/$disk/stat"; }
f0=$(flushes)
xfs_io -d -c "pwrite -q 0 4096" -c fsync "$dev" || fail "write + fsync on the device failed"
f1=$(flushes)
[ "$f1" -gt "$f0" ] || fail "fsync on $dev sent no flush to $disk ($f0 -> $f1)"
