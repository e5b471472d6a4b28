#!/bin/bash
# scripts/rust-headers.sh on a stand-in of Debian's headers (a config, a
# Module.symvers with Rust symbols, a stub Makefile naming KBUILD_OUTPUT,
# relative links into a kbuild directory, no rust/) and of linux-source (a
# tarball whose `make prepare` compiles rust/*.o defining symbols, writes
# rust/*.rmeta and scripts/target.json). The kernel's make, its gcc, rustc
# and bindgen are stand-ins; nm is the real one. Checks the first run (the
# copy, what it holds, the links and KBUILD_OUTPUT), the second (cached: no
# make), a changed Module.symvers (rebuilt), a near-miss compiler (a symbol
# the rebuilt crates lack: refused with the count), a config the source
# changes (refused), a missing source (refused, named), and --remove.
. "${0%/*}/../lib.sh"

need_cmd nm cc
work=$(scratch_dir)
mkdir -p "$work/bin" "$work/src/linux-source-7.3" "$work/usr/kbuild/scripts" "$work/usr/kbuild/tools" \
	"$work/usr/headers/include/config"
log=$work/make.log
export PATH=$work/bin:$PATH RH_LOG=$log RLOOP_CACHE=$work/cache

# The compilers the config names.
printf '#!/bin/sh\necho "rustc 1.85.1 (stub)"\n' >"$work/bin/rustc"
printf '#!/bin/sh\necho "bindgen 0.71.1"\n' >"$work/bin/bindgen"
printf '#!/bin/sh\nexit 0\n' >"$work/bin/stub-gcc-14"
# make -C DIR [-s] [-jN] VAR=VALUE... TARGET: olddefconfig keeps .config
# (or applies RH_CONFIG_EDIT); prepare compiles rust/kernel.o with the
# symbols in RH_SYMS.
cat >"$work/bin/make" <<'MAKE'
#!/bin/bash
set -euo pipefail
[ "$1" = -C ] || { echo "make stand-in: no -C" >&2; exit 2; }
dir=$2
shift 2
target=${*: -1}
echo "$target $*" >>"$RH_LOG"
cd "$dir"
case "$target" in
olddefconfig) [ -z "${RH_CONFIG_EDIT:-}" ] || echo "$RH_CONFIG_EDIT" >>.config ;;
prepare)
	mkdir -p rust scripts
	for s in ${RH_SYMS}; do echo "void $s(void) {}"; done >rust/kernel.c
	/usr/bin/cc -c -o rust/kernel.o rust/kernel.c
	echo rmeta >rust/libkernel.rmeta
	echo so >rust/libmacros.so
	echo '{}' >scripts/target.json
	;;
*) echo "make stand-in: unexpected target $target" >&2; exit 2 ;;
esac
MAKE
chmod +x "$work/bin/"*
export RH_SYMS="_RNvCs1_6kernel3foo _RNvCs1_6kernel3bar"

# linux-source-7.3.tar.xz: a source tree that only the stand-in make reads.
echo 'VERSION = 7' >"$work/src/linux-source-7.3/Makefile"
tar -C "$work/src" -cJf "$work/src/linux-source-7.3.tar.xz" linux-source-7.3
export RLOOP_KSRC_TARBALL=$work/src/linux-source-7.3.tar.xz

# The headers, laid out as Debian's: scripts and tools are relative links.
h=$work/usr/headers
cat >"$h/.config" <<'CONFIG'
CONFIG_RUST=y
CONFIG_CC_IS_GCC=y
CONFIG_CC_VERSION_TEXT="stub-gcc-14 (Debian 14.2.0-19) 14.2.0"
CONFIG_RUSTC_VERSION_TEXT="rustc 1.85.1 (stub)"
CONFIG_BINDGEN_VERSION_TEXT="bindgen 0.71.1"
CONFIG
cp "$h/.config" "$h/include/config/auto.conf"
echo 7.3.4+deb13-amd64 >"$h/include/config/kernel.release"
printf 'KBUILD_OUTPUT=%s\ninclude /elsewhere/Makefile\n' "$h" >"$h/Makefile"
symvers() { printf '0x0\t%s\tvmlinux\tEXPORT_SYMBOL_GPL\t\n' "$@" >"$h/Module.symvers"; }
symvers _RNvCs1_6kernel3foo _RNvCs1_6kernel3bar vfs_read
echo '#!/bin/sh' >"$work/usr/kbuild/scripts/sign-file"
ln -s ../kbuild/scripts "$h/scripts"
ln -s ../kbuild/tools "$h/tools"

run() { "$RLOOP_TOP/scripts/rust-headers.sh" "$@" >"$work/out" 2>"$work/err"; }
prepares() { grep -c '^prepare ' "$log" || true; }

# First run: the copy.
run "$h" || fail "first run failed: $(cat "$work/err")"
copy=$RLOOP_CACHE/rust-headers/7.3.4+deb13-amd64
assert_eq "$(cat "$work/out")" "$copy" "the tree printed"
for f in rust/libkernel.rmeta rust/libmacros.so scripts/target.json scripts/sign-file Module.symvers .config; do
	[ -e "$copy/$f" ] || fail "the copy lacks $f"
done
assert_eq "$(readlink "$copy/tools")" "$work/usr/kbuild/tools" "the copy's tools link (absolute)"
assert_eq "$(head -n1 "$copy/Makefile")" "KBUILD_OUTPUT=$copy" "the copy's KBUILD_OUTPUT"
[ ! -e "$h/rust" ] && [ ! -e "$work/usr/kbuild/scripts/target.json" ] || fail "the headers were written to"
[ ! -e "$copy.work" ] || fail "the source build was left in the cache"
grep -q 'rebuilt crates define all 2 Rust symbols' "$work/err" || fail "no symbol count: $(cat "$work/err")"
for arg in CC=stub-gcc-14 "RUSTC=$work/bin/rustc" "BINDGEN=$work/bin/bindgen"; do
	grep -q "^prepare .* $arg " "$log" || fail "make prepare without $arg: $(cat "$log")"
done
grep -q 'KERNELRELEASE=7.3.4+deb13-amd64' "$log" || fail "make without the kernel's release: $(cat "$log")"
assert_eq "$(prepares)" 1 "make prepare runs on the first run"

# Second run: cached.
run "$h" || fail "second run failed: $(cat "$work/err")"
assert_eq "$(prepares)" 1 "make prepare runs on a cached run"
assert_eq "$(cat "$work/out")" "$copy" "the tree printed when cached"

# A tree with the metadata (Ubuntu's linux-lib-rust) is used as it is.
mkdir -p "$work/full/rust" && : >"$work/full/rust/libkernel.rmeta"
run "$work/full" || fail "a tree with rust/ failed: $(cat "$work/err")"
assert_eq "$(cat "$work/out")" "$work/full" "a tree that has the metadata"

# New headers under the same release (a rebuild): made again.
symvers _RNvCs1_6kernel3foo vfs_read
run "$h" || fail "run after Module.symvers changed failed: $(cat "$work/err")"
assert_eq "$(prepares)" 2 "make prepare runs when the headers change"

# A near-miss compiler: the kernel exports a symbol the rebuilt crates lack.
symvers _RNvCs1_6kernel3foo _RNvCs2_6kernel3baz
rc=0
run "$h" || rc=$?
assert_eq "$rc" 1 "exit status when a Rust symbol is missing"
grep -q '1 of the kernel.s 2 Rust symbols are not the rebuilt crates' "$work/err" || fail "no refusal: $(cat "$work/err")"

# A config the source changes (a tool it tests for differs).
symvers _RNvCs1_6kernel3foo
rc=0
RH_CONFIG_EDIT=CONFIG_OPENSSL_SUPPORTS_ML_DSA=y run "$h" || rc=$?
assert_eq "$rc" 1 "exit status when the config changes"
grep -q "the kernel's config changes when applied" "$work/err" || fail "no refusal: $(cat "$work/err")"
grep -q '> CONFIG_OPENSSL_SUPPORTS_ML_DSA=y' "$work/err" || fail "the changed line is not shown: $(cat "$work/err")"

# No source.
rc=0
RLOOP_KSRC_TARBALL=$work/src/none.tar.xz run "$h" || rc=$?
assert_eq "$rc" 1 "exit status without the source"
grep -q "none.tar.xz is missing" "$work/err" || fail "the missing source is not named: $(cat "$work/err")"

# --remove forgets the kernel's copy.
run --remove 7.3.4+deb13-amd64 || fail "--remove failed: $(cat "$work/err")"
[ ! -e "$copy" ] && [ ! -e "$copy.lock" ] || fail "--remove left $(ls "$RLOOP_CACHE/rust-headers")"
