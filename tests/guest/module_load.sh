#!/bin/bash
# rloop.ko loads, says so in the kernel log, creates /dev/rloop-control, and
# unloads without a trace.
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

unload_rloop
[ ! -e /sys/module/rloop ] || fail "rloop is still loaded after rmmod"
[ ! -e /dev/rloop-control ] || fail "/dev/rloop-control is still there after rmmod"
