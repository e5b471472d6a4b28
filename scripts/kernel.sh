#!/usr/bin/env bash
# Builds Debian's kernel source with Rust out of tree into the cache and
# prints the build directory. Usage: kernel.sh [test|bench]
# RLOOP_KERNEL picks the kernel (scripts/kernels.sh): 6.12 by default, or 7.3.
#
# The build directory is keyed by the source version, the config fragments
# and the toolchain, so an unchanged set-up reuses it and any change rebuilds.
#
# RLOOP_KSRC_TARBALL (with RLOOP_KSRC_VERSION, which goes into the key)
# builds another source tarball instead of the installed package's; the
# host tests (tests/host/kernel_*.sh) run this script on a stand-in.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/env.sh"

flavour=${1:-test}
case "$flavour" in
test) fragments=("$top/kconfig/base.config" "$top/kconfig/debug.config") ;;
bench) fragments=("$top/kconfig/base.config") ;;
*) echo "kernel.sh: unknown flavour '$flavour' (test or bench)" >&2; exit 2 ;;
esac

say() { printf '==> kernel(%s): %s\n' "$flavour" "$*" >&2; }

if [ -n "${RLOOP_KSRC_TARBALL:-}" ]; then
	tarball=$RLOOP_KSRC_TARBALL
	srcver=${RLOOP_KSRC_VERSION:?kernel.sh: RLOOP_KSRC_TARBALL needs RLOOP_KSRC_VERSION}
else
	tarball=$KSRC_TARBALL
	[ -f "$tarball" ] || { echo "kernel.sh: $tarball missing: run scripts/setup.sh (RLOOP_KERNEL=$RLOOP_KERNEL)" >&2; exit 1; }
	srcver=$(ksrc_version)
fi
srcname=$(basename "$tarball" .tar.xz)
key=$({
	echo "$srcver"
	cat "${fragments[@]}"
	"$KRUSTC" --version
	"$BINDGEN" --version
	"$KCLANG" --version | head -1
} | sha256sum | cut -c1-16)

src=$RLOOP_CACHE/src/$srcname-$srcver
build=$RLOOP_CACHE/kernel/$flavour-$key
kmake=(make -C "$src" O="$build" LLVM="$KLLVM" RUSTC="$KRUSTC" RUSTDOC="$KRUSTDOC"
	BINDGEN="$BINDGEN" RUST_LIB_SRC="$RUST_LIB_SRC" -j"$(nproc)")

if [ -f "$build/.rloop-done" ]; then
	say "cached: $build"
	echo "$build"
	exit 0
fi

# One build per directory: a second caller (another make check, vm.sh) waits.
mkdir -p "$RLOOP_CACHE/kernel"
exec {lockfd}>"$build.lock"
if ! flock -n "$lockfd"; then
	say "another build of $build is running: waiting for it"
	flock "$lockfd"
fi
if [ -f "$build/.rloop-done" ]; then
	say "built meanwhile: $build"
	echo "$build"
	exit 0
fi

if [ ! -f "$src/.rloop-unpacked" ]; then
	say "unpacking $tarball ($srcver)"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.rloop-unpacked"
	mv "$src.tmp" "$src"
fi

# A changed fragment need not mean a cold build: start from the newest
# finished build of the same flavour and kernel series (its `source` link,
# which Kbuild makes in an O= build, names the tree it was built from).
# Kbuild records which config symbols each object uses, so make rebuilds
# only what the change touches.
if [ ! -e "$build" ]; then
	seed='' srcdir=$(realpath "$RLOOP_CACHE/src")
	# No earlier build is the first run's normal case, not an error: the
	# glob then matches nothing and ls fails, which set -e must not see.
	while IFS= read -r mark; do
		d=${mark%/.rloop-done}
		case "$(readlink -f "$d/source")" in
		"$srcdir/$srcname-"*) seed=$d && break ;;
		esac
	done < <(ls -dt "$RLOOP_CACHE/kernel/$flavour"-*/.rloop-done 2>/dev/null || true)
	if [ -n "$seed" ]; then
		say "starting from $seed"
		rm -rf "$build.tmp"
		cp -a "$seed" "$build.tmp"
		rm -f "$build.tmp/.rloop-done"
		mv "$build.tmp" "$build"
	fi
fi
mkdir -p "$build"
say "configuring in $build"
"${kmake[@]}" defconfig >&2
"${kmake[@]}" kvm_guest.config >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "${fragments[@]}" >&2
"${kmake[@]}" olddefconfig >&2
# Kconfig drops what it cannot satisfy without a word: check every line.
bad=0
for f in "${fragments[@]}"; do
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=n) want="# ${line%=n} is not set" ;;
		CONFIG_*) want=$line ;;
		*) continue ;;
		esac
		if ! grep -qxF "$want" "$build/.config"; then
			if [ "${line#*=}" = n ] && ! grep -q "^${line%=n}=" "$build/.config"; then
				continue
			fi
			echo "kernel.sh: $line did not survive olddefconfig" >&2
			bad=1
		fi
	done <"$f"
done
[ "$bad" -eq 0 ] || exit 1
"${kmake[@]}" rustavailable >&2

say "building (a cold build takes 15-30 minutes on 2 cores)"
start=$SECONDS
"${kmake[@]}" bzImage modules >&2
rm -rf "$build/modroot"
"${kmake[@]}" INSTALL_MOD_PATH="$build/modroot" modules_install >&2
say "built in $((SECONDS - start)) s"
touch "$build/.rloop-done"
echo "$build"
