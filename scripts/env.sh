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

# apt_uri RELEASE: the URI of the first apt source of this machine that
# serves a release matching RELEASE (an awk regex: "^bookworm$",
# "-security$"); nothing if none does. The scripts fetch from the mirror
# the machine already uses, never a host they name. (awk reads to the end:
# an early exit could kill apt-get with SIGPIPE, which pipefail reports.)
apt_uri() {
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
		awk -v want="$1" '$2 ~ want && !found++ { print $1 }'
}

# A kernel log line matching this fails a VM run (vm.sh, debian.sh) and, in
# the guest runner, the test during which it appeared. Most lockdep reports
# start with "WARNING:", a few with "INFO:"; DEBUG_ATOMIC_SLEEP and KASAN say
# "BUG:"; Rust panics say "panicked at" before BUG(). (kmemleak's "N new suspected memory leaks" is
# left out: the guest's own scan prints it, and the leaks it counts are
# judged from the debugfs file, where boot-time ones can be told apart.)
export RLOOP_KLOG_BAD='BUG:|WARNING:|Oops|kernel BUG at|Kernel panic|general protection fault|UBSAN:|KASAN:|KFENCE:|INFO: possible|INFO: trying to register non-static key|INFO: task .* blocked for more than|detected stalls? on CPU|panicked at|list_(add|del) corruption|refcount_t: '
