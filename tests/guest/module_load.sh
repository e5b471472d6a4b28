#!/bin/bash
# rloop.ko loads, says so in the kernel log, creates /dev/rloop-control (misc
# 10:243), and unloads without a trace.
# timeout: 120
. "${0%/*}/../lib.sh"

klog_mark
load_rloop
[ -e /sys/module/rloop ] || fail "rloop is not in /sys/module after insmod"
lsmod | grep -q '^rloop ' || fail "lsmod does not list rloop"
# The module's own line ("rloop: loaded: /dev/rloop-control"), not the
# kernel's "loading out-of-tree module taints kernel" about it.
klog_since_mark | grep -q 'rloop: loaded' ||
	fail "no 'rloop: loaded' line in the kernel log after insmod: $(klog_since_mark | tr '\n' ' ')"
[ -c /dev/rloop-control ] || fail "/dev/rloop-control is missing or not a character device"
# A misc device on the minor the module's aliases name (char-major-10-243),
# so that an open of a node made at boot can load it.
assert_eq "$(stat -c '%Hr:%Lr' /dev/rloop-control)" "10:243" "major:minor of /dev/rloop-control"
[ -e /sys/class/misc/rloop-control ] || fail "rloop-control is not in /sys/class/misc"

unload_rloop
[ ! -e /sys/module/rloop ] || fail "rloop is still loaded after rmmod"
# (Not the /dev node: kmod's static nodes keep it, as they keep loop-control.)
[ ! -e /sys/class/misc/rloop-control ] || fail "the rloop-control misc device is still there after rmmod"
