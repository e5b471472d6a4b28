#!/bin/bash
# A regular file that cannot do direct I/O is refused with EINVAL and one
# kernel log line saying why: rloop never falls back to buffered I/O.
# timeout: 120
. "${0%/*}/../lib.sh"

load_rloop
klog_mark
expect_errno EINVAL create --file /proc/version --open ro
klog_since_mark | grep -q 'cannot do direct I/O' || fail "no kernel log line about direct I/O"
assert_eq "$(klog_since_mark | grep -c 'direct I/O')" 1 "kernel log lines about it"
