#!/bin/bash
# A changed config fragment gets a build directory of its own, started
# from a copy of the newest finished build of the same flavour (so make
# rebuilds only what the change touches); the earlier build stays as it was.
. "${0%/*}/../lib.sh"
. "$RLOOP_TOP/tests/kernel-fixture.sh"

kf_kernel test || fail "first kernel.sh test exited $?: $(kf_stderr)"
first=$(kf_built test)
token=$(cat "$first/vmlinux.o")
echo 'CONFIG_RLOOP_HOST_TEST=y' >>"$KF_TOP/kconfig/debug.config"
: >"$KF_LOG"
kf_kernel test || fail "kernel.sh test after a fragment changed exited $?: $(kf_stderr)"
second=$(kf_built test)
[ "$second" != "$first" ] || fail "a changed fragment reused $first"
grep -q "starting from $first" "$KF_ERR" || fail "the changed build did not start from $first: $(kf_stderr)"
grep -qx 'CONFIG_RLOOP_HOST_TEST=y' "$second/.config" || fail "the new fragment line is not in $second/.config"
# The copy was what make started from: the seed's objects were there before
# the build step replaced them (the log's first make call is in $second).
assert_eq "$(head -n 1 "$KF_LOG")" "defconfig $second" "the first make call of the changed build"
assert_eq "$(cat "$first/vmlinux.o")" "$token" "the earlier build's vmlinux.o after the new build"
[ -f "$first/.rloop-done" ] || fail "the earlier build lost its .rloop-done"
! grep -q "$first" "$KF_LOG" || fail "the changed build ran make in the earlier build's directory"
