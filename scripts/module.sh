#!/usr/bin/env bash
# Builds rloop.ko in the out-of-tree convention (make -C $KDIR M=$PWD).
# Usage: module.sh [--out DIR] [make targets...]   Prints nothing else on
# stdout. With --out, a copy of the sources in DIR is built instead of the
# repository top (the benchmarks build for their own kernel that way, and
# leave the test build alone).
#
# The kernel tree: KDIR if set; else the running kernel's
# (/lib/modules/$(uname -r)/build) when it is built with Rust; else the
# project's cached test kernel (set up and built on first use), which only
# `make run` and `make check` boot: a line on stderr says which.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/env.sh"

say() { printf 'module.sh: %s\n' "$*" >&2; }

src=$top
if [ "${1:-}" = --out ]; then
	src=${2:?module.sh: --out needs a directory}
	shift 2
	mkdir -p "$src"
	(cd "$top" && cp -r Kbuild ./*.rs ./*.c block backing kernel_extras uapi "$src/")
fi

# rust_tree DIR: DIR is a kernel build tree with Rust, or say what it lacks.
rust_tree() {
	local dir=$1 config
	config=$dir/include/config/auto.conf
	[ -f "$config" ] || config=$dir/.config
	if [ ! -f "$config" ]; then
		say "$dir has no kernel configuration: not a build tree"
		return 1
	fi
	if ! grep -qx 'CONFIG_RUST=y' "$config"; then
		say "$dir: the kernel is built without CONFIG_RUST; rloop is a Rust module and needs a kernel built with it"
		return 1
	fi
	if [ ! -f "$dir/Module.symvers" ] || ! compgen -G "$dir/rust/libkernel.*" >/dev/null; then
		say "$dir: CONFIG_RUST=y, but the tree lacks Module.symvers or the kernel crate (rust/libkernel.*): install the full build tree of that kernel"
		return 1
	fi
}

if [ -z "${KDIR:-}" ]; then
	running=/lib/modules/$(uname -r)/build
	if [ -d "$running" ] && rust_tree "$running"; then
		KDIR=$running
		say "building for the running kernel ($(uname -r)): $KDIR"
	else
		[ -d "$running" ] || say "no build tree for the running kernel ($running)"
		say "building against the project's test kernel instead: this rloop.ko loads in 'make run' and 'make check', not on this machine (make KDIR=<kernel build tree> for another kernel)"
		"$here/setup.sh" >&2
		KDIR=$("$here/kernel.sh" test)
	fi
else
	rust_tree "$KDIR" || exit 1
fi

# The C compiler and linker are the kernel's own, named by its config, never
# a fixed LLVM=1: clang N is LLVM=1 if it is the default clang, else LLVM=-N
# (6.12 here is built with 14, 7.3 with 19); a gcc-built kernel gets no LLVM.
config=$KDIR/include/config/auto.conf
[ -f "$config" ] || config=$KDIR/.config
llvm=()
if grep -qx 'CONFIG_CC_IS_CLANG=y' "$config"; then
	major=$(($(sed -n 's/^CONFIG_CLANG_VERSION=//p' "$config") / 10000))
	if [ "$(clang -dumpversion 2>/dev/null | cut -d. -f1)" = "$major" ]; then
		llvm=(LLVM=1)
	elif command -v "clang-$major" >/dev/null; then
		llvm=(LLVM=-"$major")
	else
		say "$KDIR is built with clang $major, which is not installed (apt install clang-$major lld-$major llvm-$major)"
		exit 1
	fi
fi
# RLOOP_CLIPPY=1 (check.sh sets it) compiles the crate with the kernel's Rust
# lints (CLIPPY=1), through the clippy of the same toolchain.
clippy=()
[ "${RLOOP_CLIPPY:-0}" != 1 ] || clippy=(CLIPPY=1 CLIPPY_DRIVER="$KCLIPPY")
make -C "$KDIR" M="$src" "${llvm[@]}" "${clippy[@]}" RUSTC="$KRUSTC" RUSTDOC="$KRUSTDOC" \
	BINDGEN="$BINDGEN" RUST_LIB_SRC="$RUST_LIB_SRC" "${@:-modules}" >&2
