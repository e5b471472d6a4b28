# shellcheck shell=bash
# The kernels rloop is built and tested on; env.sh sources this.
# RLOOP_KERNEL (`make check KERNEL=7.3`) picks one: 6.12 by default.
#
# For each, Debian's own kernel source and the LLVM it is built with:
#   6.12  linux-source-6.12 from <codename>-backports, installed as a
#         package; Debian 12's clang/lld/llvm 14 (LLVM=1).
#   7.3   linux-source-7.3 from trixie-backports, downloaded only: setup.sh
#         fetches the package into the cache with an apt state of its own
#         (the machine's sources and packages stay as they are) and keeps
#         its tarball; LLVM 19 (clang-19, LLVM=-19), as 7.3 wants 17 or
#         newer.
# Both take the same rustc (rustc-web) and bindgen.
#
# Sets KSRC_PACKAGE, KSRC_SUITE (apt suite it comes from, "backports" for
# the machine's own), KSRC_TARBALL and KSRC_VERSION_FILE (where the
# tarball and its version are, for the downloaded one), KLLVM (what make
# takes as LLVM=) and KCLANG (that clang), and LIBCLANG_PATH (below).
: "${RLOOP_KERNEL:=6.12}"
export RLOOP_KERNEL
case "$RLOOP_KERNEL" in
6.12)
	KSRC_PACKAGE=linux-source-6.12 KSRC_SUITE=backports
	KSRC_TARBALL=/usr/src/linux-source-6.12.tar.xz KSRC_VERSION_FILE=''
	KLLVM=1 KCLANG=clang
	;;
7.3)
	KSRC_PACKAGE=linux-source-7.3 KSRC_SUITE=trixie-backports
	KSRC_TARBALL=$RLOOP_CACHE/src/linux-source-7.3.tar.xz
	KSRC_VERSION_FILE=$RLOOP_CACHE/src/linux-source-7.3.version
	KLLVM=-19 KCLANG=clang-19
	;;
*)
	echo "RLOOP_KERNEL=$RLOOP_KERNEL: rloop knows the kernels 6.12 and 7.3" >&2
	exit 2
	;;
esac
export KSRC_PACKAGE KSRC_SUITE KSRC_TARBALL KSRC_VERSION_FILE KLLVM KCLANG
# bindgen loads the newest libclang it finds, but the kernel hands it the
# flags of its own clang: clang 14 needs -enable-trivial-auto-var-init-zero-
# knowing-it-will-be-removed-from-clang for a defconfig's zeroed stack, and
# libclang 19 (installed for 7.3) refuses it, as libclang 14 refuses 7.3's
# flags. So bindgen takes the kernel's clang's libclang, once that clang is
# installed (setup.sh). Always set here, never kept from the environment: a
# script for one kernel runs the other's (check-all), and would hand it its
# own. RLOOP_LIBCLANG_PATH names another directory.
if [ -n "${RLOOP_LIBCLANG_PATH:-}" ]; then
	LIBCLANG_PATH=$RLOOP_LIBCLANG_PATH
	export LIBCLANG_PATH
elif kclang_bin=$(command -v "$KCLANG" 2>/dev/null); then
	kclang_bin=$(readlink -f "$kclang_bin")
	LIBCLANG_PATH=${kclang_bin%/bin/*}/lib
	export LIBCLANG_PATH
else
	unset LIBCLANG_PATH
fi
# Every kernel above, for the scripts that run on each (check-all).
# shellcheck disable=SC2034 # read by the scripts that source env.sh
RLOOP_KERNELS=(6.12 7.3)

# ksrc_version: the version of the selected kernel's source package.
ksrc_version() {
	if [ -n "$KSRC_VERSION_FILE" ]; then
		cat "$KSRC_VERSION_FILE"
	else
		dpkg-query -W -f='${Version}' "$KSRC_PACKAGE"
	fi
}
