#!/usr/bin/env bash
# Registers the module's sources with DKMS, which then builds and installs
# rloop.ko for the running kernel (or DKMS_KERNEL, one installed but not
# running) and for every kernel installed later.
# Usage: dkms.sh add|remove   (as root)
#        dkms.sh sources DIR   copy what DKMS builds from into DIR
#
# remove takes rloop out of DKMS for every kernel and deletes its sources
# and the Rust metadata rebuilt for the kernels (/var/cache/rloop).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/on-error.sh"
top=$(dirname "$here")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
src=/usr/src/rloop-$version
[ "${1:-}" = sources ] || command -v dkms >/dev/null ||
	{ echo "dkms.sh: dkms is not installed (apt install dkms)" >&2; exit 1; }
# sources DIR: the module's sources (what Kbuild reads) and the scripts
# dkms.conf runs.
sources() {
	rm -rf "$1"
	mkdir -p "$1"
	(cd "$top" && cp -a --parents Kbuild dkms.conf ./*.rs ./*.c block backing kernel_extras uapi \
		scripts/kbuild.sh scripts/kconfig.sh scripts/rust-headers.sh scripts/on-error.sh "$1/")
}

case "${1:-add}" in
sources) sources "${2:?usage: dkms.sh sources DIR}" ;;
add)
	sources "$src"
	kernel=${DKMS_KERNEL:-$(uname -r)}
	dkms add -m rloop -v "$version"
	dkms build -m rloop -v "$version" -k "$kernel"
	dkms install -m rloop -v "$version" -k "$kernel"
	;;
remove)
	dkms remove -m rloop -v "$version" --all || true
	rm -rf "$src"
	# POST_REMOVE deleted each kernel's copy; the directories may remain.
	rmdir /var/cache/rloop/rust-headers /var/cache/rloop 2>/dev/null || true
	;;
*) echo "dkms.sh: unknown action '$1' (add or remove)" >&2; exit 2 ;;
esac
