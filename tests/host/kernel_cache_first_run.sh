#!/bin/bash
# A new machine's first `make check`: with an empty cache and no earlier
# build, scripts/kernel.sh unpacks the source, configures, builds, installs
# the modules, marks the build finished and prints its directory.
. "${0%/*}/../lib.sh"
. "$RLOOP_TOP/tests/kernel-fixture.sh"

kf_kernel test || fail "kernel.sh test on an empty cache exited $?: $(kf_stderr)"
build=$(kf_built test)
src=$RLOOP_CACHE/src/linux-source-6.12-$RLOOP_KSRC_VERSION
[ -f "$src/.rloop-unpacked" ] || fail "the source was not unpacked into $src"
grep -q 'unpacking' "$KF_ERR" || fail "kernel.sh did not say it unpacked: $(kf_stderr)"
! grep -q 'starting from' "$KF_ERR" || fail "a first run started from an earlier build: $(kf_stderr)"
# Every step, in order, in the build directory and nowhere else.
assert_eq "$(cat "$KF_LOG")" "defconfig $build
kvm_guest.config $build
olddefconfig $build
rustavailable $build
bzImage modules $build
modules_install $build" "the kernel make calls"
# Both fragments of the test flavour made it into the configuration.
grep -qx 'CONFIG_KASAN=y' "$build/.config" || fail "debug.config's CONFIG_KASAN=y is not in $build/.config"
grep -qx 'CONFIG_RUST=y' "$build/.config" || fail "CONFIG_RUST=y is not in $build/.config"
