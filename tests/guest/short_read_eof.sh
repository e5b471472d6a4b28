#!/bin/bash
# A read past the backing file's end after the file was truncated under
# an attached device. rloop fails a short read with EIO; loop retries the
# rest, which reads nothing, and then fails it the same way (zero-filled).
# Both, on the same file in the same boot: what lies before the new end
# reads as the file has it, a read that crosses it and one wholly past it
# fail with EIO, on both.
# timeout: 180
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd losetup
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
dd if=/dev/urandom of="$dir/backing" bs=1M count=8 status=none
dev=$(rl_create "$dir/backing")
lo=$(loop_dio "$dir/backing")

# The new end is inside the 4 KiB block at 6 MiB: 2 KiB of it remain.
end=$(((6 << 20) + 2048))
truncate -s "$end" "$dir/backing"

# read4k DEV BLOCK: the 4 KiB block BLOCK of DEV, read with O_DIRECT.
read4k() {
	dd if="$1" of="$RLOOP_TEST_TMP/block" bs=4k skip="$2" count=1 iflag=direct status=none
}
for d in "$dev" "$lo"; do
	read4k "$d" $(((6 << 20) / 4096 - 1)) || fail "$d: the block before the new end failed"
	cmp "$RLOOP_TEST_TMP/block" <(tail -c +$(((6 << 20) - 4096 + 1)) "$dir/backing" | head -c 4096) ||
		fail "$d: the block before the new end reads other data than the file"
	for block in $(((6 << 20) / 4096)) $(((7 << 20) / 4096)); do
		expect_eio "$d: a read of block $block (the file ends in block $(((6 << 20) / 4096)))" \
			dd if="$d" of=/dev/null bs=4k skip="$block" count=1 iflag=direct status=none
	done
done
echo "both devices: the data before the new end, EIO across and past it"
