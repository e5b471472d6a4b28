#!/bin/bash
# A create whose index cannot be copied back (the struct in read-only
# memory) fails with EFAULT and leaves no device behind, with partition
# scanning too (its deferred open used to keep the half-made device).
# timeout: 150
. "${0%/*}/../lib.sh"

need_disk 1
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 16M "$dir/backing"
for flags in 0 8; do # 8: RLOOP_FLAG_PARTSCAN
	expect_errno EFAULT create --file "$dir/backing" --flags $flags --readonly-arg
	sleep 0.2
	left=$(block_devices rloop)
	[ -z "$left" ] || fail "flags $flags: a create that failed left $left"
done
# The index is free again: the next create gets rloop0.
dev=$(expect_ok create --file "$dir/backing")
assert_eq "$dev" /dev/rloop0 "the index after failed creates"
