#!/usr/bin/env bash
# rustfmt over the module (with the kernel's .rustfmt.toml) and cargo fmt
# over the userspace crates. --check only reports.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/on-error.sh"
top=$(dirname "$here")
check=()
[ "${1:-}" = --check ] && check=(--check)
cd "$top"
rustfmt "${check[@]}" --config-path "$top/.rustfmt.toml" --edition 2021 rloop.rs
if [ -f tools/Cargo.toml ]; then
	cargo fmt --manifest-path tools/Cargo.toml --all -- "${check[@]}"
fi
