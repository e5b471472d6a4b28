#!/bin/bash
# A short run of the ioctl fuzzer: random and mutated control ioctls with
# every kind of fd, and random ioctls on an rloop device. Every call returns,
# the kernel log stays clean (the runner checks), and a valid create still
# works afterwards. make stress runs the long version.
# timeout: 300
. "${0%/*}/../lib.sh"

need_disk 1
need_tool "$RLOOP_RAW"
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 16M "$dir/backing"
dev=$(rl_create "$dir/backing")
out=$("$RLOOP_RAW" fuzz --seed "${RLOOP_FUZZ_SEED:-1}" --count "${RLOOP_FUZZ_COUNT:-3000}" \
	--dev "$dev" --tmpdir "$dir") || fail "fuzzer failed: $out"
echo "$out"
grep -q '^fuzz: [0-9]* calls' <<<"$out" || fail "no fuzz summary: $out"
new=$(rl_create "$dir/backing")
dd if="$new" of=/dev/null bs=4k count=16 iflag=direct status=none || fail "I/O after fuzzing failed"
dd if="$dev" of=/dev/null bs=4k count=16 iflag=direct status=none || fail "I/O on $dev after fuzzing failed"
