#!/bin/bash
# The long fuzz run: 100,000 random and mutated control and device ioctls
# (every kind of fd), then a valid create and I/O still work.
# timeout: 1500
. "${0%/*}/../lib.sh"

need_disk 1
need_tool "$RLOOP_RAW"
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 16M "$dir/backing"
dev=$(rl_create "$dir/backing")
count=${RLOOP_FUZZ_COUNT:-100000}
out=$("$RLOOP_RAW" fuzz --seed "${RLOOP_FUZZ_SEED:-7}" --count "$count" --dev "$dev" --tmpdir "$dir") ||
	fail "fuzzer failed: $out"
echo "$out"
[[ "$out" =~ fuzz:\ ([0-9]+)\ calls ]] || fail "no fuzz summary: $out"
[ "${BASH_REMATCH[1]}" -ge "$count" ] || fail "only ${BASH_REMATCH[1]} of $count calls made"
new=$(rl_create "$dir/backing")
dd if="$new" of=/dev/null bs=4k count=16 iflag=direct status=none || fail "I/O after fuzzing failed"
dd if="$dev" of=/dev/null bs=4k count=16 iflag=direct status=none || fail "I/O on $dev after fuzzing failed"
