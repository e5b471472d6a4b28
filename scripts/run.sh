#!/usr/bin/env bash
# `make run`: builds rloop.ko and the tools, boots the test kernel in QEMU
# with one 1G disk and shows rloop working (guest/demo.sh).
# V=1 also streams the kernel console. Run dir: out/run/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/env.sh"
cd "$top"

say() { printf '==> run: %s\n' "$*" >&2; }

"$here/setup.sh" >&2
kdir=${RLOOP_KDIR:-${KDIR:-}}
[ -n "$kdir" ] || kdir=$("$here/kernel.sh" test)
export KDIR=$kdir # the module is built against the kernel the VM boots

say "building rloop.ko"
"$here/module.sh"
if [ -f tools/Cargo.toml ]; then
	say "building the tools"
	cargo build --release --manifest-path tools/Cargo.toml >&2
fi

vmargs=(--disk 1G --kernel "$kdir" --out "$top/out/run" --timeout 900)
[ "${V:-0}" = 1 ] || vmargs+=(--quiet)
say "booting the VM (TCG: boot takes a few seconds, the leak scan at the end too)"
exec "$here/vm.sh" "${vmargs[@]}" -- guest/demo.sh
