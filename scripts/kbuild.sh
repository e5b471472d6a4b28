#!/usr/bin/env bash
# Builds rloop.ko for one kernel with the compilers that kernel was built
# with, read from its configuration, never from a fixed list: what
# scripts/module.sh (`make`, `make KDIR=...`) and DKMS (dkms.conf) both run.
#
# Usage: kbuild.sh [--src DIR] KDIR [make targets...]   (default: modules)
#   KDIR   the kernel's build tree: a full one, or a distribution's headers
#   --src  the module's sources (default: this script's repository or DKMS
#          tree, the directory above scripts/)
#
# From KDIR's config:
#   C      clang N (CONFIG_CC_IS_CLANG): LLVM=1 if it is the default clang,
#          else LLVM=-N; gcc: nothing (the tree's Makefile names its gcc,
#          as Debian's headers name gcc-14)
#   rustc  the one whose `--version` is CONFIG_RUSTC_VERSION_TEXT: Rust
#          symbols carry a hash of the compiler's version, so any other
#          rustc builds a module that fails to load. Looked for in $RUSTC,
#          on PATH, and as /usr/bin/rustc-X.Y and /usr/lib/rust-X.Y/bin/rustc
#          (Ubuntu's versioned toolchains)
#   bindgen the one whose `--version` is CONFIG_BINDGEN_VERSION_TEXT, for
#          the helpers' Rust declarations (Kbuild)
# A tree without the kernel crate's metadata (Debian's headers ship none) is
# completed first by scripts/rust-headers.sh, which rebuilds it from the
# kernel's source (cached; a few minutes the first time).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/on-error.sh"

say() { printf 'kbuild.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

src=$(dirname "$here")
if [ "${1:-}" = --src ]; then
	src=${2:?kbuild.sh: --src needs a directory}
	shift 2
fi
kdir=${1:?usage: kbuild.sh [--src DIR] KDIR [make targets...]}
shift
# DKMS appends its own guess at the compiler to the make command (CC=clang
# LD=ld.lld in 3.0, LLVM=1 in 3.2, when the kernel is clang-built): the
# default clang, wrong for a kernel built with another. The config decides.
targets=()
for arg; do
	case "$arg" in
	CC=* | LD=* | LLVM=*) say "ignoring $arg (DKMS's guess): the compiler is the one the kernel's config names" ;;
	*) targets+=("$arg") ;;
	esac
done
[ ${#targets[@]} -gt 0 ] || targets=(modules)

. "$here/kconfig.sh"
kconfig_load "$kdir" || exit 1

make_args=()
# C: the kernel's own compiler and linker.
llvm=$(kconfig_llvm) || exit 1
[ -z "$llvm" ] || make_args+=("$llvm")

case " ${targets[*]} " in
*" clean "*) ;; # cleaning compiles nothing: no Rust toolchain needed
*)
	rustc=$(find_rustc) || exit 1
	make_args+=(RUSTC="$rustc")
	rustdoc=${rustc%/*}/rustdoc${rustc##*/rustc}
	[ ! -x "$rustdoc" ] || make_args+=(RUSTDOC="$rustdoc")
	[ -z "${RUST_LIB_SRC:-}" ] || make_args+=(RUST_LIB_SRC="$RUST_LIB_SRC")
	# The crate's helper declarations are generated (Kbuild): the config's bindgen.
	bindgen=$(find_bindgen) || exit 1
	make_args+=(BINDGEN="$bindgen")
	kdir=$("$here/rust-headers.sh" "$kdir")
	;;
esac
exec make -C "$kdir" M="$src" "${make_args[@]}" "${targets[@]}"
