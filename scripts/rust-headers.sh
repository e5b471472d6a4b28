#!/usr/bin/env bash
# Completes a kernel's headers with the Rust metadata an out-of-tree Rust
# module is compiled against, where the distribution ships none.
#
# Usage: rust-headers.sh [--cache DIR] KDIR
#          prints a build tree for KDIR's kernel that has the kernel crate's
#          metadata: KDIR itself if it has it, else a completed copy
#        rust-headers.sh [--cache DIR] --remove KERNELRELEASE
#          forgets the copy made for that kernel (DKMS's POST_REMOVE)
#
# DIR defaults to $RLOOP_CACHE/rust-headers (~/.cache/rloop/rust-headers);
# DKMS uses /var/cache/rloop/rust-headers.
#
# A Rust module is compiled against the kernel crate's metadata (rust/*.rmeta,
# the proc-macro libraries) and, on x86, scripts/target.json. Ubuntu ships
# them (linux-lib-rust); a tree that has them is used as it is. Debian's
# linux-headers have the config, Module.symvers (with the kernel's Rust
# symbols) and rustc_cfg, but no rust/ and no target.json. They are made
# here the only honest way: the kernel's own source (Debian's linux-source
# package, of the same version as the headers), configured with the
# kernel's own config, built up to `make prepare` (which builds rust/) with
# the compilers the config names, the rustc and bindgen exactly. Nothing else
# is taken from the source build: the copy is the distribution's headers
# plus rust/*.rmeta, rust/*.so and scripts/target.json.
#
# Rust symbol names carry a hash of the crate and the compiler, so a
# near-miss is caught here, before any module is built: every Rust symbol in
# the kernel's Module.symvers must be one the rebuilt crates define.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/on-error.sh"
. "$here/kconfig.sh"

say() { printf 'rust-headers.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

cache=${RLOOP_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/rloop}/rust-headers
if [ "${1:-}" = --cache ]; then
	cache=${2:?rust-headers.sh: --cache needs a directory}
	shift 2
fi

if [ "${1:-}" = --remove ]; then
	krel=${2:?usage: rust-headers.sh [--cache DIR] --remove KERNELRELEASE}
	rm -rf "${cache:?}/$krel" "$cache/$krel.lock" "$cache/$krel.work" "$cache/$krel.tmp"
	rmdir "$cache" 2>/dev/null || true
	exit 0
fi

kdir=${1:?usage: rust-headers.sh [--cache DIR] KDIR}
kdir=$(cd "$kdir" && pwd)
if [ -e "$kdir/rust/libkernel.rmeta" ]; then
	echo "$kdir"
	exit 0
fi
kconfig_load "$kdir" || exit 1
[ -f "$kdir/Module.symvers" ] || die "$kdir has no Module.symvers: install the kernel's full headers"
krel=$(cat "$kdir/include/config/kernel.release")
out=$cache/$krel
# The copy stands for these headers only: a package update under the same
# release name (Debian rebuilds happen) makes a new one.
key=$(cat "$kdir/.config" "$kdir/Module.symvers" | sha256sum | cut -c1-16)
if [ "$(cat "$out/.rloop-rust-headers" 2>/dev/null || true)" = "$key" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$cache"
exec {lock}>"$cache/$krel.lock"
flock "$lock"
if [ "$(cat "$out/.rloop-rust-headers" 2>/dev/null || true)" = "$key" ]; then
	echo "$out" # another caller made it while this one waited
	exit 0
fi
say "$kdir has no Rust metadata (rust/libkernel.rmeta): rebuilding it from the kernel's source, once ($out)"

# --- The source: the kernel's own, of the same version ----------------------
IFS=.- read -r major minor _ <<<"$krel"
tarball=${RLOOP_KSRC_TARBALL:-/usr/src/linux-source-$major.$minor.tar.xz}
pkgver() { # FILE: "package version" of the Debian package that owns FILE
	local pkg
	pkg=$(dpkg-query -S "$1" 2>/dev/null) || return 1
	pkg=${pkg%%:*}
	echo "$pkg $(dpkg-query -W -f='${Version}' "$pkg")"
}
if command -v dpkg-query >/dev/null && headers=$(pkgver "$(readlink -f "$kdir/.config")"); then
	want=${headers#* }
	[ -f "$tarball" ] ||
		die "$tarball is missing: apt install linux-source-$major.$minor=$want (the source of ${headers% *})"
	if [ -z "${RLOOP_KSRC_TARBALL:-}" ]; then
		source=$(pkgver "$tarball") || die "no package owns $tarball"
		[ "${source#* }" = "$want" ] ||
			die "$tarball is ${source% *} ${source#* }, the headers are ${headers% *} $want: apt install ${source% *}=$want"
	fi
else
	[ -f "$tarball" ] || die "$tarball is missing: the source of $krel, as a tarball (RLOOP_KSRC_TARBALL=...)"
fi

# --- The compilers the config names ------------------------------------------
args=(KERNELRELEASE="$krel")
llvm=$(kconfig_llvm) || exit 1
if [ -n "$llvm" ]; then
	args+=("$llvm")
else
	cc=$(kconfig CONFIG_CC_VERSION_TEXT)
	cc=${cc%% *}
	command -v "$cc" >/dev/null || die "the kernel is built with $cc, which is not installed"
	args+=(CC="$cc")
fi
rustc=$(find_rustc) || exit 1
bindgen=$(find_bindgen) || exit 1
args+=(RUSTC="$rustc" BINDGEN="$bindgen")
[ -z "${RUST_LIB_SRC:-}" ] || args+=(RUST_LIB_SRC="$RUST_LIB_SRC")
say "with $("$rustc" --version), $("$bindgen" --version), ${llvm:-${cc}}"

# --- make prepare, with the kernel's config ----------------------------------
work=$cache/$krel.work
rm -rf "$work" "$out.tmp"
mkdir -p "$work"
tar -xf "$tarball" -C "$work" --strip-components=1
cp "$kdir/.config" "$work/.config"
make -C "$work" -s "${args[@]}" olddefconfig >&2
# The config must come through unchanged: a symbol that flips means a tool
# the config tests for (a compiler, openssl) differs from the kernel's.
if ! cmp -s "$kdir/.config" "$work/.config"; then
	diff "$kdir/.config" "$work/.config" | grep '^[<>]' | head -n 20 >&2 || true
	die "the kernel's config changes when applied to $tarball (above: < the kernel's, > here): a tool it tests for is missing or another version"
fi
make -C "$work" -j"$(nproc)" "${args[@]}" prepare >&2

# --- The rebuilt crates must be the kernel's ---------------------------------
want_syms=$(awk '$2 ~ /^_R/ { print $2 }' "$kdir/Module.symvers" | sort -u)
have_syms=$(for o in "$work"/rust/*.o; do nm --defined-only "$o"; done | awk '$3 ~ /^_R/ { print $3 }' | sort -u)
missing=$(comm -23 <(echo "$want_syms") <(echo "$have_syms") | grep -c . || true)
total=$(echo "$want_syms" | grep -c . || true)
[ "$missing" -eq 0 ] ||
	die "$missing of the kernel's $total Rust symbols are not the rebuilt crates': the source or a compiler differs from the kernel's"
say "the rebuilt crates define all $total Rust symbols the kernel exports"

# --- The copy: the headers, plus rust/ and target.json -----------------------
mkdir -p "$out.tmp"
cp -a "$kdir/." "$out.tmp/"
# Relative links (Debian's scripts/ and tools/ point into linux-kbuild) must
# still resolve from the copy.
for link in "$out.tmp"/*; do
	[ -L "$link" ] || continue
	target=$(readlink -f "$kdir/${link##*/}")
	rm "$link"
	ln -s "$target" "$link"
done
if [ -e "$work/scripts/target.json" ]; then
	if [ -L "$out.tmp/scripts" ]; then
		# A directory of links to the headers' scripts, to add one file.
		target=$(readlink -f "$out.tmp/scripts")
		rm "$out.tmp/scripts"
		mkdir "$out.tmp/scripts"
		for f in "$target"/* "$target"/.[!.]*; do [ ! -e "$f" ] || ln -s "$f" "$out.tmp/scripts/"; done
	fi
	cp "$work/scripts/target.json" "$out.tmp/scripts/"
fi
mkdir -p "$out.tmp/rust"
cp "$work"/rust/*.rmeta "$work"/rust/*.so "$out.tmp/rust/"
# Debian's headers Makefile names its own directory as the build's output.
sed -i "s|^KBUILD_OUTPUT=.*|KBUILD_OUTPUT=$out|" "$out.tmp/Makefile"
echo "$key" >"$out.tmp/.rloop-rust-headers"
rm -rf "$out" "$work"
mv "$out.tmp" "$out"
say "done: $out"
echo "$out"
