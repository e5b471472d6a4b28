#!/bin/bash
# The bench flavour beside a finished test build: its own directory, only
# base.config (none of debug.config's symbols), and never seeded from the
# test flavour's build.
. "${0%/*}/../lib.sh"
. "$RLOOP_TOP/tests/kernel-fixture.sh"

kf_kernel test || fail "kernel.sh test exited $?: $(kf_stderr)"
test_build=$(kf_built test)
: >"$KF_LOG"
kf_kernel bench || fail "kernel.sh bench exited $?: $(kf_stderr)"
bench_build=$(kf_built bench)
! grep -q 'starting from' "$KF_ERR" || fail "the bench build started from another: $(kf_stderr)"
! grep -q 'unpacking' "$KF_ERR" || fail "the bench build unpacked the source again: $(kf_stderr)"
! grep -q "$test_build" "$KF_LOG" || fail "the bench build ran make in the test build's directory"
grep -qx 'CONFIG_RUST=y' "$bench_build/.config" || fail "base.config's CONFIG_RUST=y is not in the bench build"
! grep -q '^CONFIG_KASAN=y' "$bench_build/.config" || fail "debug.config's CONFIG_KASAN=y is in the bench build"
kf_kernel nonsense && fail "kernel.sh nonsense succeeded"
assert_eq "$?" 2 "exit status of kernel.sh with an unknown flavour"
