#!/bin/bash
# The second `make check` finds the finished build: kernel.sh prints the
# same directory, says it is cached and calls make not once.
. "${0%/*}/../lib.sh"
. "$RLOOP_TOP/tests/kernel-fixture.sh"

kf_kernel test || fail "first kernel.sh test exited $?: $(kf_stderr)"
first=$(kf_built test)
: >"$KF_LOG"
kf_kernel test || fail "second kernel.sh test exited $?: $(kf_stderr)"
assert_eq "$(kf_built test)" "$first" "the build the second run printed"
grep -q "cached: $first" "$KF_ERR" || fail "the second run did not say it was cached: $(kf_stderr)"
assert_eq "$(cat "$KF_LOG")" "" "make calls of the second run"
