#!/bin/bash
# Writes through rloop hold the backing file system's freeze protection
# (kiocb_start_write): an O_DIRECT overwrite of written blocks on a frozen
# ext4 (lazytime, so the overwrite needs no transaction) waits for the thaw,
# then completes with its data; no journal warning on the way.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 2
need_cmd fsfreeze
load_rloop
dir=$(RL_MOUNT_OPTS=lazytime scratch_dir "${DISKS[1]}" ext4)
dd if=/dev/urandom of="$dir/backing" bs=1M count=16 conv=fsync status=none
dev=$(rl_create "$dir/backing")
head -c 4096 /dev/urandom >"$RLOOP_TEST_TMP/block"
fsfreeze -f "$dir"
on_exit sh -c 'fsfreeze -u "$1" 2>/dev/null || true' sh "$dir" # (thawed already unless the test failed)
dd if="$RLOOP_TEST_TMP/block" of="$dev" bs=4096 seek=100 oflag=direct conv=notrunc status=none &
writer=$!
sleep 3
if ! kill -0 "$writer" 2>/dev/null; then
	wait "$writer" || true
	fail "a write to a file on a frozen file system completed before the thaw"
fi
fsfreeze -u "$dir"
timeout 60 tail --pid="$writer" -f /dev/null || fail "the write did not complete after the thaw"
wait "$writer" || fail "the write failed after the thaw"
cmp -s "$RLOOP_TEST_TMP/block" <(dd if="$dir/backing" bs=4096 skip=100 count=1 iflag=direct status=none) ||
	fail "the backing file does not hold the block written during the freeze"
