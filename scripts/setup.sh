#!/usr/bin/env bash
# Installs everything the kernel build, the VM and the tests need, for the
# kernel RLOOP_KERNEL names (scripts/kernels.sh; 6.12 by default).
# Idempotent: each step checks first and says what it does.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"

say() { printf '==> setup: %s\n' "$*"; }

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# linux-source-6.12 lives in <codename>-backports, served by the same
# mirror as the machine's own <codename> suite (no host is named here).
backports=/etc/apt/sources.list.d/rloop-backports.sources
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || { say "no VERSION_CODENAME in /etc/os-release: add <codename>-backports by hand"; exit 1; }
if ! apt-cache policy linux-source-6.12 2>/dev/null | grep 'Candidate: 6\.12' >/dev/null; then
	mirror=$(apt_uri "^$codename\$")
	[ -n "$mirror" ] || { say "no apt source serves $codename: add $codename-backports by hand"; exit 1; }
	say "adding $codename-backports from $mirror (for linux-source-6.12)"
	$SUDO tee "$backports" >/dev/null <<SRC
Types: deb
URIs: $mirror
Suites: $codename-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	$SUDO apt-get update -q
fi

packages=(
	# kernel + module build (6.12's source is a package; 7.3's is fetched below)
	rustc-web rust-web-src rust-web-clippy clang lld llvm libclang-dev linux-source-6.12
	make bc flex bison libelf-dev libssl-dev cpio xz-utils python3 rsync
	# VM (qemu-system-x86 comes from backports, see below)
	kmod
	# guest tests and benchmarks
	fio xfsprogs e2fsprogs btrfs-progs mdadm dmsetup util-linux stress-ng jq
	python3-fusepy man-db
	# host tests: the shell lint, DKMS (it builds rloop from dkms.conf)
	shellcheck dkms
	# make check-debian: builds a Debian trixie system
	mmdebstrap
)
# 7.3 wants LLVM 17 or newer: Debian 12 has 19 beside its default 14.
[ "$RLOOP_KERNEL" != 7.3 ] || packages+=(clang-19 lld-19 llvm-19)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing Debian packages: ${missing[*]}"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
	say "Debian packages: all present"
fi

# The base image carries qemu-utils from backports, which breaks the
# release's own qemu-system-x86: take both from backports.
if ! command -v qemu-system-x86_64 >/dev/null; then
	say "installing qemu-system-x86 from $codename-backports"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-t "$codename-backports" qemu-system-x86 qemu-utils
else
	say "qemu-system-x86: present"
fi

# A kernel source from another release (7.3, from trixie-backports) is
# downloaded, never installed: an apt state of its own under the cache
# (sources, lists, archives) fetches the package, checked against the
# release's signed index like any apt download, and its tarball is kept.
# The machine's apt sources and installed packages stay as they were.
if [ -n "$KSRC_VERSION_FILE" ]; then
	if [ -f "$KSRC_TARBALL" ] && [ -s "$KSRC_VERSION_FILE" ]; then
		say "$KSRC_PACKAGE $(cat "$KSRC_VERSION_FILE"): present ($KSRC_TARBALL)"
	else
		mirror=$(apt_uri "^$codename\$")
		[ -n "$mirror" ] || { say "no apt source serves $codename: cannot find a mirror for $KSRC_SUITE"; exit 1; }
		aptdir=$RLOOP_CACHE/apt-$KSRC_SUITE
		say "downloading $KSRC_PACKAGE from $KSRC_SUITE ($mirror), into $aptdir only"
		rm -rf "$aptdir"
		mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" "$aptdir/sources.list.d" \
			"$aptdir/preferences.d" "$aptdir/deb"
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $KSRC_SUITE main" \
			>"$aptdir/sources.list"
		apt_own=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o "Dir::Etc::SourceParts=$aptdir/sources.list.d"
			-o "Dir::Etc::Preferences=$aptdir/preferences" -o "Dir::Etc::PreferencesParts=$aptdir/preferences.d"
			-o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir" -o "Dir::Cache::archives=$aptdir/archives"
			-o APT::Sandbox::User=root -o "APT::Architectures=$(dpkg --print-architecture)")
		apt-get "${apt_own[@]}" -q update
		(cd "$aptdir/deb" && apt-get "${apt_own[@]}" -q download "$KSRC_PACKAGE")
		deb=$(ls "$aptdir/deb/${KSRC_PACKAGE}"_*.deb)
		mkdir -p "$(dirname "$KSRC_TARBALL")"
		dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$KSRC_PACKAGE.tar.xz" >"$KSRC_TARBALL.tmp"
		mv "$KSRC_TARBALL.tmp" "$KSRC_TARBALL"
		dpkg-deb -f "$deb" Version >"$KSRC_VERSION_FILE"
		rm -rf "$aptdir"
		say "$KSRC_PACKAGE $(cat "$KSRC_VERSION_FILE"): $KSRC_TARBALL"
	fi
fi

if [ -x "$BINDGEN" ] && "$BINDGEN" --version 2>/dev/null | grep " $BINDGEN_VERSION\$" >/dev/null; then
	say "bindgen-cli $BINDGEN_VERSION: present"
else
	say "installing bindgen-cli $BINDGEN_VERSION into $RLOOP_TOOLS"
	cargo install --locked --root "$RLOOP_TOOLS" "bindgen-cli@$BINDGEN_VERSION"
fi
# fsx (the Rust File System eXerciser) for the data-integrity tests: its
# block mode runs on a device.
if [ -x "$FSX" ] && "$FSX" --version 2>/dev/null | grep " $FSX_VERSION\$" >/dev/null; then
	say "fsx $FSX_VERSION: present"
else
	say "installing fsx $FSX_VERSION into $RLOOP_TOOLS"
	cargo install --locked --root "$RLOOP_TOOLS" "fsx@$FSX_VERSION"
fi
say "done"
