#!/bin/bash
# With an offset and a size limit the device is exactly that window of the
# file: reads return the file's bytes at offset + position, writes land
# there, and nothing outside the window changes.
# timeout: 300
. "${0%/*}/../lib.sh"

need_disk 1
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
dd if=/dev/urandom of="$dir/backing" bs=1M count=16 status=none
cp "$dir/backing" "$dir/orig"
dev=$(rl_create --offset 1M --sizelimit 8M "$dir/backing")
assert_eq "$(blockdev --getsize64 "$dev")" $((8 << 20)) "device size"
assert_eq "$(rl_attr "$dev" offset)" $((1 << 20)) "sysfs offset"
assert_eq "$(rl_attr "$dev" sizelimit)" $((8 << 20)) "sysfs sizelimit"
cmp <(dd if="$dev" bs=1M iflag=direct status=none) \
	<(dd if="$dir/backing" bs=1M skip=1 count=8 status=none) ||
	fail "device bytes differ from the file's at the offset"

dd if=/dev/urandom of="$dir/new" bs=1M count=8 status=none
dd if="$dir/new" of="$dev" bs=1M oflag=direct conv=fsync status=none
cmp "$dir/new" <(dd if="$dir/backing" bs=1M skip=1 count=8 status=none) ||
	fail "writes did not land at offset + position"
cmp <(head -c 1M "$dir/orig") <(head -c 1M "$dir/backing") || fail "bytes before the window changed"
cmp <(tail -c 7M "$dir/orig") <(tail -c 7M "$dir/backing") || fail "bytes after the window changed"
# A write past the end of the window is refused by the block layer.
if dd if=/dev/zero of="$dev" bs=4k seek=$((8 << 8)) count=1 oflag=direct status=none 2>/dev/null; then
	fail "a write past the end of the device succeeded"
fi
