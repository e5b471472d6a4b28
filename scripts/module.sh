#!/usr/bin/env bash
# Builds rloop.ko in the out-of-tree convention (make -C $KDIR M=$PWD).
# With KDIR unset, sets up the machine and builds the cached test kernel
# first. Usage: module.sh [make targets...]   Prints nothing else on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/env.sh"

if [ -z "${KDIR:-}" ]; then
	"$here/setup.sh" >&2
	KDIR=$("$here/kernel.sh" test)
fi
[ -f "$KDIR/Module.symvers" ] || { echo "module.sh: $KDIR is not a built kernel tree" >&2; exit 1; }
grep -qx 'CONFIG_RUST=y' "$KDIR/.config" || { echo "module.sh: $KDIR has no CONFIG_RUST" >&2; exit 1; }
make -C "$KDIR" M="$top" LLVM=1 RUSTC="$KRUSTC" RUSTDOC="$KRUSTDOC" BINDGEN="$BINDGEN" \
	RUST_LIB_SRC="$RUST_LIB_SRC" "${@:-modules}" >&2
