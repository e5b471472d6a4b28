#!/bin/bash
# Three rloop devices stacked through file systems (ext4 on rloop on a file on
# ext4 on rloop on a file on xfs on rloop on a file on xfs on a disk), under
# an fsync-heavy load confined to a memory cgroup with a tight memory.max:
# each device works on its own workqueue, so an upper device never waits for
# a worker queued behind its own, and the load finishes in bounded time with
# its data intact.
# timeout: 360
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd fio
load_rloop
cg=$(cgroup_with memory rloop-stack)

d0=$(scratch_dir "${DISKS[0]}" xfs)
fallocate -l 900M "$d0/f"
r1=$(rl_create "$d0/f")
d1=$(scratch_dir "$r1" xfs)
fallocate -l 400M "$d1/f"
r2=$(rl_create "$d1/f")
d2=$(scratch_dir "$r2" ext4)
fallocate -l 160M "$d2/f"
r3=$(rl_create "$d2/f")
d3=$(scratch_dir "$r3" ext4)

echo $((48 << 20)) >"$cg/memory.max"
start=$SECONDS
(
	echo $BASHPID >"$cg/cgroup.procs"
	cd "$RLOOP_TEST_TMP"
	# About 64 KiB/s through the three levels under KASAN and TCG: 6 MiB.
	exec timeout 240 fio --name=stack --directory="$d3" --ioengine=psync --rw=randwrite \
		--bs=4k --size=3M --numjobs=2 --fsync=8 --verify=crc32c --verify_fatal=1 \
		--verify_state_save=0 --output="$RLOOP_TEST_TMP/fio.out"
) || fail "fio on the three-level stack failed or hung: $(tail -n 5 "$RLOOP_TEST_TMP/fio.out" 2>/dev/null)"
echo "fio on the stack: $((SECONDS - start)) s"
grep -q '^oom_kill [1-9]' "$cg/memory.events" && fail "the load was OOM-killed: $(cat "$cg/memory.events")"
sync
