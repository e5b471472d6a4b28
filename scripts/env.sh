# shellcheck shell=bash
# Shared settings for every script: sourced, never run.
. "$(dirname "${BASH_SOURCE[0]}")/on-error.sh"
# The kernel's Rust toolchain is Debian's rustc-web, never rustup's, which
# comes first on PATH and is another version.
: "${RLOOP_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/rloop}"
: "${RLOOP_TOOLS:=$RLOOP_CACHE/tools}"
: "${BINDGEN_VERSION:=0.73.2}"
: "${FSX_VERSION:=0.3.1}"
: "${KRUSTC:=/usr/bin/rustc}"
: "${KRUSTDOC:=/usr/bin/rustdoc}"
: "${KCLIPPY:=/usr/bin/clippy-driver}"
: "${BINDGEN:=$RLOOP_TOOLS/bin/bindgen}"
: "${FSX:=$RLOOP_TOOLS/bin/fsx}"
export RLOOP_CACHE RLOOP_TOOLS BINDGEN_VERSION FSX_VERSION KRUSTC KRUSTDOC KCLIPPY BINDGEN FSX
. "$(dirname "${BASH_SOURCE[0]}")/kernels.sh"
: "${RUST_LIB_SRC:=$(dpkg -L rust-web-src 2>/dev/null | grep -m1 -x '/usr/src/rustc-[^/]*/library' || true)}"
export RUST_LIB_SRC
