#!/bin/bash
# Opening /dev/rloop-control loads rloop (the static node kmod made at boot
# from the module's devname alias), into Debian's kernel with no unknown
# symbol or version error. Its taint is out-of-tree (O) and, as DKMS signs
# with a key the kernel does not trust, unsigned (E): nothing else.
. "${0%/*}/../lib.sh"

[ ! -e /sys/module/rloop ] || fail "rloop is loaded before anything opened /dev/rloop-control"
[ -c "$RLOOP_CONTROL" ] || fail "$RLOOP_CONTROL is not a character device (no static node from modules.devname)"
tainted_before=$(cat /proc/sys/kernel/tainted)
klog_mark
on_exit unload_rloop
exec 3<>"$RLOOP_CONTROL" || fail "opening $RLOOP_CONTROL failed"
exec 3>&-
[ -e /sys/module/rloop ] || fail "opening $RLOOP_CONTROL did not load rloop"
log=$(klog_since_mark)
printf '%s\n' "$log"
# ("module verification failed: signature and/or required key missing" is
# the unsigned taint, E, checked below.)
if grep -Ei 'unknown symbol|disagrees about version|version magic|rloop: .*(error|fail)' <<<"$log" |
	grep -v 'module verification failed: signature and/or required key missing'; then
	fail "the kernel refused part of rloop (above)"
fi
taint=$(cat /sys/module/rloop/taint)
echo "rloop's taint: $taint; /proc/sys/kernel/tainted: $tainted_before before, $(cat /proc/sys/kernel/tainted) after"
case "$taint" in
O | OE) ;;
*) fail "rloop's taint is '$taint', expected O (out-of-tree) and at most E (unsigned)" ;;
esac
