#!/bin/bash
# Create, open and remove racing from several threads on the same indices
# (rloop-raw race) while direct I/O is verified on a device that must
# survive: every call returns an outcome the ABI allows (create: ok or
# EBUSY; open: ok, ENOENT, ENXIO; remove: ok, ENODEV, EBUSY), the survivor's
# data reads back, and nothing is left behind. make stress runs it longer.
# timeout: 400
. "${0%/*}/../lib.sh"

need_disk 1
need_tool "$RLOOP_RAW"
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 16M "$dir/a" "$dir/b"
keep=$(rl_create "$dir/a")
out=$("$RLOOP_RAW" race --file "$dir/b" --threads 4 --iterations "${RLOOP_RACE_ITERATIONS:-40}" \
	--io-dev "$keep" --io-threads 2 2>&1) || fail "race: $out"
echo "$out"
[[ "$out" =~ create\ ok:\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] || fail "no create succeeded: $out"
[[ "$out" =~ remove\ ok:\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] || fail "no remove succeeded: $out"
[[ "$out" =~ ([0-9]+)\ I/O\ rounds\ verified ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] || fail "no I/O verified: $out"
left=(/sys/block/rloop*)
assert_eq "${left[*]}" "/sys/block/${keep#/dev/}" "devices left besides $keep"
