#!/bin/bash
# RLOOP_KERNEL=7.3 beside a finished 6.12 build: kernel.sh takes the 7.3
# source setup.sh downloaded into the cache (tarball and version file, no
# package), builds it with LLVM=-19 in a directory of its own, and never
# starts from the 6.12 build, which is of another source series.
. "${0%/*}/../lib.sh"
. "$RLOOP_TOP/tests/kernel-fixture.sh"

kf_kernel test || fail "kernel.sh test (6.12) exited $?: $(kf_stderr)"
old=$(kf_built test)
assert_eq "$(cat "$old/kf-llvm")" 1 "LLVM= of the 6.12 build"

# The 7.3 source as setup.sh leaves it: a tarball and its version, in the cache.
mkdir -p "$KF_WORK/t73"
cp -r "$KF_WORK/tarball/linux-source-6.12" "$KF_WORK/t73/linux-source-7.3"
tar -cJf "$RLOOP_CACHE/src/linux-source-7.3.tar.xz" -C "$KF_WORK/t73" linux-source-7.3
echo 7.3.0-stand-in >"$RLOOP_CACHE/src/linux-source-7.3.version"
unset RLOOP_KSRC_TARBALL RLOOP_KSRC_VERSION
: >"$KF_LOG"
RLOOP_KERNEL=7.3 kf_kernel test || fail "RLOOP_KERNEL=7.3 kernel.sh test exited $?: $(kf_stderr)"
new=$(kf_built test)
[ "$new" != "$old" ] || fail "the 7.3 build reused the 6.12 build $old"
! grep -q 'starting from' "$KF_ERR" || fail "the 7.3 build started from another build: $(kf_stderr)"
assert_eq "$(readlink "$new/source")" "$RLOOP_CACHE/src/linux-source-7.3-7.3.0-stand-in" "the 7.3 build's source tree"
assert_eq "$(cat "$new/kf-llvm")" -19 "LLVM= of the 7.3 build"
! grep -q "$old" "$KF_LOG" || fail "the 7.3 build ran make in the 6.12 build's directory"

rc=0
RLOOP_KERNEL=6.13 kf_kernel test || rc=$?
assert_eq "$rc" 2 "exit status with a kernel rloop does not know"
grep -q 'RLOOP_KERNEL=6.13: rloop knows the kernels 6.12 and 7.3' "$KF_ERR" ||
	fail "kernel.sh did not name the unknown kernel: $(kf_stderr)"
