#!/bin/bash
# rmmod removes every device; an open device keeps the module loaded; the
# module loads and unloads cleanly again and again.
# timeout: 300
. "${0%/*}/../lib.sh"

need_disk 1
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 16M "$dir/a" "$dir/b"
a=$(rl_create "$dir/a")
b=$(rl_create "$dir/b")
exec 3<"$a"
if rmmod rloop 2>/dev/null; then fail "rmmod succeeded with $a open"; fi
[ -e /sys/module/rloop ] || fail "the module went away with a device open"
exec 3<&-
unload_rloop
[ ! -e "/sys/block/${a#/dev/}" ] && [ ! -e "/sys/block/${b#/dev/}" ] ||
	fail "devices are left after rmmod"
# The node itself may stay: where kmod's static nodes are made (systemd),
# /dev/rloop-control exists without the module, as /dev/loop-control does.
[ ! -e /sys/class/misc/rloop-control ] || fail "the rloop-control misc device is left after rmmod"
for i in 1 2 3; do # (make stress does 20 cycles: tests/stress/race_long.sh)
	insmod "$RLOOP_KO" || fail "insmod #$i failed"
	d=$(rl_create "$dir/a")
	dd if="$d" of=/dev/null bs=1M count=1 iflag=direct status=none
	unload_rloop
done
