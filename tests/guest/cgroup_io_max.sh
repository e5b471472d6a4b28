#!/bin/bash
# rloop's backing I/O is charged to the cgroup of the task that issued it,
# as loop's is: O_DIRECT writes through rloop from a cgroup with an io.max
# write limit on the backing disk are held to that limit, as they are
# through loop (direct-io=on) in the same boot.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd losetup
load_rloop
cg=$(cgroup_with io rloop-io)
dir=$(scratch_dir "${DISKS[0]}" xfs)
fallocate -l 32M "$dir/backing"
dd if=/dev/zero of="$dir/backing" bs=1M count=32 oflag=direct conv=notrunc status=none
read -r majmin <"/sys/block/${DISKS[0]#/dev/}/dev"
limit=$((1 << 20)) # 1 MiB/s
echo "$majmin wbps=$limit" >"$cg/io.max"

# write_in_cgroup DEV: seconds (x10) for 4 MiB of O_DIRECT writes from the
# cgroup.
write_in_cgroup() {
	local start end
	start=$(date +%s%N)
	(
		echo $BASHPID >"$cg/cgroup.procs"
		exec dd if=/dev/zero of="$1" bs=256k count=16 oflag=direct conv=fsync status=none
	) || fail "the write to $1 failed"
	end=$(date +%s%N)
	echo $(((end - start) / 100000000))
}

dev=$(rl_create "$dir/backing")
rl=$(write_in_cgroup "$dev")
lo=$(loop_dio "$dir/backing")
lp=$(write_in_cgroup "$lo")
echo "4 MiB at 1 MiB/s: rloop $((rl / 10)).$((rl % 10)) s, loop $((lp / 10)).$((lp % 10)) s"
# 4 MiB at 1 MiB/s: about 4 s, less the first slice's allowance.
((lp >= 25)) || fail "loop was not held to io.max ($lp tenths of a second): the test cannot judge rloop"
((rl >= 25)) || fail "rloop was not held to io.max: $rl tenths of a second for 4 MiB at 1 MiB/s"
