# shellcheck shell=bash
# The host tests of scripts/kernel.sh's cache (tests/host/kernel_*.sh)
# source this after lib.sh. It runs the real kernel.sh the way a new
# machine's first `make check` does, on everything but the compiling:
#
# - a scratch copy of scripts/ and kconfig/ ($KF_TOP), so that a test may
#   change a fragment; kernel.sh runs from there;
# - an empty RLOOP_CACHE;
# - a stand-in for linux-source-6.12.tar.xz (RLOOP_KSRC_TARBALL) whose
#   merge_config.sh merges the fragments into .config;
# - stand-ins for the kernel's make, clang, rustc and bindgen. make writes
#   each call's targets and build directory to $KF_LOG, and what a real
#   build leaves: source (the link to the tree, as Kbuild makes it),
#   kf-llvm (the LLVM= it was given),
#   vmlinux.o (holding a token unique to the build that made
#   it), arch/x86/boot/bzImage and modroot/. KF_HOLD=FILE makes the build
#   step wait until FILE exists; KF_FAIL=TARGET makes that target fail;
#   KF_DROP=SYMBOL makes olddefconfig drop the symbol, as Kconfig does with
#   one it cannot satisfy.
#
# kf_kernel [ARGS...] runs kernel.sh; its stdout goes to $KF_OUT, its
# stderr to $KF_ERR, and its exit status is returned.

KF_WORK=$(scratch_dir)
KF_TOP=$KF_WORK/top
KF_LOG=$KF_WORK/make.log
KF_OUT=$KF_WORK/stdout
KF_ERR=$KF_WORK/stderr
mkdir -p "$KF_TOP" "$KF_WORK/bin" "$KF_WORK/cache" "$KF_WORK/tarball/linux-source-6.12/scripts/kconfig"
cp -r "$RLOOP_TOP/scripts" "$RLOOP_TOP/kconfig" "$KF_TOP/"
: >"$KF_LOG"

cat >"$KF_WORK/tarball/linux-source-6.12/scripts/kconfig/merge_config.sh" <<'MERGE'
#!/bin/bash
# merge_config.sh -m -O DIR BASE FRAGMENT...: each fragment line replaces
# the base's line for the same symbol; "=n" is written as Kconfig does.
set -euo pipefail
[ "$1" = -m ] && [ "$2" = -O ] || { echo "merge_config stand-in: unexpected arguments $*" >&2; exit 2; }
out=$3/.config base=$4
shift 4
cp "$base" "$out.merge"
for f; do
	while IFS= read -r line; do
		case "$line" in CONFIG_*=*) ;; *) continue ;; esac
		sym=${line%%=*}
		grep -v -e "^$sym=" -e "^# $sym is not set" "$out.merge" >"$out.new" || true
		case "$line" in
		*=n) echo "# $sym is not set" >>"$out.new" ;;
		*) echo "$line" >>"$out.new" ;;
		esac
		mv "$out.new" "$out.merge"
	done <"$f"
done
mv "$out.merge" "$out"
MERGE
chmod +x "$KF_WORK/tarball/linux-source-6.12/scripts/kconfig/merge_config.sh"
echo 'stand-in' >"$KF_WORK/tarball/linux-source-6.12/Makefile"
tar -cJf "$KF_WORK/linux-source-6.12.tar.xz" -C "$KF_WORK/tarball" linux-source-6.12

cat >"$KF_WORK/bin/make" <<'MAKE'
#!/bin/bash
# The kernel's make, as kernel.sh calls it: make -C SRC O=BUILD VAR=... TARGET...
set -euo pipefail
src='' build='' modpath='' llvm='' targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	-C) src=$2 && shift ;;
	-j*) ;;
	O=*) build=${1#O=} ;;
	INSTALL_MOD_PATH=*) modpath=${1#INSTALL_MOD_PATH=} ;;
	LLVM=*) llvm=${1#LLVM=} ;;
	*=*) ;;
	*) targets+=("$1") ;;
	esac
	shift
done
[ -n "$build" ] || { echo "make stand-in: no O=" >&2; exit 2; }
echo "${targets[*]} $build" >>"$KF_LOG"
for t in "${targets[@]}"; do
	[ "$t" != "${KF_FAIL:-}" ] || { echo "make stand-in: $t fails (KF_FAIL)" >&2; exit 2; }
	case "$t" in
	defconfig)
		printf 'CONFIG_64BIT=y\nCONFIG_RUST=y\n' >"$build/.config"
		ln -sfn "$src" "$build/source" # as Kbuild's outputmakefile does
		echo "$llvm" >"$build/kf-llvm"
		;;
	olddefconfig)
		if [ -n "${KF_DROP:-}" ]; then
			grep -v "^$KF_DROP=" "$build/.config" >"$build/.config.new" || true
			mv "$build/.config.new" "$build/.config"
		fi
		;;
	bzImage)
		if [ -n "${KF_HOLD:-}" ]; then
			while [ ! -e "$KF_HOLD" ]; do sleep 0.05; done
		fi
		mkdir -p "$build/arch/x86/boot"
		echo "$RANDOM$RANDOM$$" >"$build/vmlinux.o"
		cp "$build/vmlinux.o" "$build/arch/x86/boot/bzImage"
		;;
	modules_install) mkdir -p "$modpath/lib/modules/6.12.0" ;;
	esac
done
MAKE
printf '#!/bin/sh\necho "%s version 0"\n' clang >"$KF_WORK/bin/clang"
printf '#!/bin/sh\necho "%s version 0"\n' clang-19 >"$KF_WORK/bin/clang-19"
printf '#!/bin/sh\necho "%s 0.0.0"\n' rustc >"$KF_WORK/bin/rustc"
printf '#!/bin/sh\necho "%s 0.0.0"\n' bindgen >"$KF_WORK/bin/bindgen"
chmod +x "$KF_WORK/bin/"*

export KF_LOG
# The tests say which kernel they build; make check KERNEL=7.3 must not
# change what a "6.12" build is here.
export RLOOP_KERNEL=6.12
export PATH=$KF_WORK/bin:$PATH
export RLOOP_CACHE=$KF_WORK/cache
export RLOOP_KSRC_TARBALL=$KF_WORK/linux-source-6.12.tar.xz RLOOP_KSRC_VERSION=6.12.0-stand-in
export KRUSTC=$KF_WORK/bin/rustc KRUSTDOC=$KF_WORK/bin/rustc BINDGEN=$KF_WORK/bin/bindgen
export RUST_LIB_SRC=$KF_WORK/no-rust-lib-src

kf_kernel() {
	local rc=0
	"$KF_TOP/scripts/kernel.sh" "$@" >"$KF_OUT" 2>"$KF_ERR" || rc=$?
	return "$rc"
}

# kf_built FLAVOUR: fail unless $KF_OUT is exactly one line naming a
# finished build of FLAVOUR in the cache; print it.
kf_built() {
	local dir
	assert_eq "$(wc -l <"$KF_OUT")" 1 "lines kernel.sh printed"
	dir=$(cat "$KF_OUT")
	case "$dir" in
	"$RLOOP_CACHE/kernel/$1-"*) ;;
	*) fail "kernel.sh printed '$dir', not a $1 build under $RLOOP_CACHE/kernel" ;;
	esac
	[ -f "$dir/.rloop-done" ] || fail "$dir has no .rloop-done"
	[ -f "$dir/arch/x86/boot/bzImage" ] || fail "$dir has no bzImage"
	[ -d "$dir/modroot/lib/modules" ] || fail "$dir has no modules_install tree"
	echo "$dir"
}

# kf_stderr: kernel.sh's stderr, for a failure message.
kf_stderr() { tail -n 15 "$KF_ERR"; }
