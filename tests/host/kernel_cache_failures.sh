#!/bin/bash
# A kernel build that fails says where: kernel.sh exits non-zero, names its
# own line and the command that failed, and leaves no .rloop-done, so the
# next run builds again. A fragment line Kconfig dropped fails the same way,
# naming the line.
. "${0%/*}/../lib.sh"
. "$RLOOP_TOP/tests/kernel-fixture.sh"

rc=0
KF_FAIL=bzImage kf_kernel test || rc=$?
[ "$rc" -ne 0 ] || fail "kernel.sh succeeded though the build step failed"
grep -q 'kernel.sh: line [0-9]*: `.*bzImage modules.*` failed (exit 2)' "$KF_ERR" ||
	fail "kernel.sh did not name the failing line: $(kf_stderr)"
if compgen -G "$RLOOP_CACHE/kernel/test-*/.rloop-done" >/dev/null; then
	fail "a failed build was marked finished"
fi
# The next run builds again, and finishes.
: >"$KF_LOG"
kf_kernel test || fail "kernel.sh after a failed build exited $?: $(kf_stderr)"
build=$(kf_built test)
grep -q "^bzImage modules $build\$" "$KF_LOG" || fail "the run after a failure did not build"

echo 'CONFIG_RLOOP_DROPPED=y' >>"$KF_TOP/kconfig/base.config"
rc=0
KF_DROP=CONFIG_RLOOP_DROPPED kf_kernel test || rc=$?
assert_eq "$rc" 1 "exit status with a fragment line Kconfig dropped"
grep -qx 'kernel.sh: CONFIG_RLOOP_DROPPED=y did not survive olddefconfig' "$KF_ERR" ||
	fail "kernel.sh did not name the dropped line: $(kf_stderr)"
