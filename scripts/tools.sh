#!/usr/bin/env bash
# Builds the user-space tools (rloopctl, rloop-raw) and rloopctl's man
# pages and shell completions into tools/target/release and
# tools/target/docs. Needs cargo (scripts/setup.sh checks for it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/on-error.sh"
top=$(dirname "$here")
manifest=$top/tools/Cargo.toml
cargo build --release --manifest-path "$manifest" >&2
# The man pages and completions come from the same clap definition.
cargo run --release --quiet --manifest-path "$manifest" -p rloopctl --example gen-docs -- \
	"$top/tools/target/docs" >&2
