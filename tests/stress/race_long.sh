#!/bin/bash
# Lifetime under load, long: create/open/remove racing from 4 threads for
# 400 rounds each while 2 threads verify direct I/O on a survivor; rmmod
# refused while a device is open and clean after; 20 load/unload cycles with
# a device created and removed in each. vm.sh's kmemleak scan at the end
# covers all of it.
# timeout: 1500
. "${0%/*}/../lib.sh"

need_disk 1
need_tool "$RLOOP_RAW"
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 16M "$dir/a" "$dir/b"
keep=$(rl_create "$dir/a")
out=$("$RLOOP_RAW" race --file "$dir/b" --threads 4 --iterations "${RLOOP_RACE_ITERATIONS:-400}" \
	--io-dev "$keep" --io-threads 2 2>&1) || fail "race: $out"
echo "$out"
[[ "$out" =~ ([0-9]+)\ I/O\ rounds\ verified ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] || fail "no I/O verified: $out"
left=(/sys/block/rloop*)
assert_eq "${left[*]}" "/sys/block/${keep#/dev/}" "devices left besides $keep"

exec 3<"$keep"
rmmod rloop 2>/dev/null && fail "rmmod succeeded while $keep was open"
exec 3<&-
"$RLOOPCTL" detach "$keep"
rl_gone "$keep"
unload_rloop

for i in $(seq 20); do
	insmod "$RLOOP_KO" || fail "insmod #$i failed"
	dev=$("$RLOOPCTL" create "$dir/a") || fail "create after insmod #$i failed"
	dd if="$dev" of=/dev/null bs=64k count=4 iflag=direct status=none || fail "I/O after insmod #$i failed"
	"$RLOOPCTL" detach "$dev" || fail "detach #$i failed"
	unload_rloop
done
echo "20 load/create/I/O/remove/unload cycles"
