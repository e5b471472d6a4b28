#!/usr/bin/env bash
# Registers the module's sources with DKMS, which then builds and installs
# rloop.ko for the running kernel and for every kernel installed later.
# Usage: dkms.sh add|remove   (as root)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/on-error.sh"
top=$(dirname "$here")
command -v dkms >/dev/null || { echo "dkms.sh: dkms is not installed (apt install dkms)" >&2; exit 1; }
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
src=/usr/src/rloop-$version
case "${1:-add}" in
add)
	rm -rf "$src"
	mkdir -p "$src"
	# The module's sources only: what Kbuild reads.
	(cd "$top" && cp -a --parents Kbuild dkms.conf ./*.rs ./*.c block backing kernel_extras uapi "$src/")
	dkms add -m rloop -v "$version"
	dkms build -m rloop -v "$version"
	dkms install -m rloop -v "$version"
	;;
remove)
	dkms remove -m rloop -v "$version" --all || true
	rm -rf "$src"
	;;
*) echo "dkms.sh: unknown action '$1' (add or remove)" >&2; exit 2 ;;
esac
