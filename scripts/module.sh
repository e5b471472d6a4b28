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
# (Its Rust metadata may be missing: kbuild.sh then rebuilds it.)
rust_tree() (
	. "$here/kconfig.sh"
	kconfig_load "$1" || exit 1
	[ -f "$1/Module.symvers" ] || { say "$1 has no Module.symvers: install the full build tree or headers of that kernel"; exit 1; }
)

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

# kbuild.sh takes the compilers from the kernel's config; the toolchain
# env.sh names is the one it tries first.
# RLOOP_CLIPPY=1 (check.sh sets it) compiles the crate with the kernel's Rust
# lints (CLIPPY=1), through the clippy of the same toolchain.
clippy=()
[ "${RLOOP_CLIPPY:-0}" != 1 ] || clippy=(CLIPPY=1 CLIPPY_DRIVER="$KCLIPPY")
RUSTC=$KRUSTC BINDGEN=$BINDGEN RUST_LIB_SRC=$RUST_LIB_SRC \
	"$here/kbuild.sh" --src "$src" "$KDIR" "${clippy[@]}" "${@:-modules}" >&2
