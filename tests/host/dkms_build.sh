#!/bin/bash
# DKMS builds rloop from dkms.conf for the test kernel of this `make check`
# (ours: clang-built, 6.12 or 7.3), as `make check-debian` does for
# Debian's gcc-built 7.3: the same dkms.conf, no compiler named in it. The
# DKMS tree and the sources are scratch directories: the machine's DKMS
# state is not touched, and nothing is installed.
# timeout: 300
. "${0%/*}/../lib.sh"

need_cmd dkms
[ -n "${RLOOP_KDIR:-}" ] || skip "needs RLOOP_KDIR, the test kernel (make check sets it)"
work=$(scratch_dir)
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$RLOOP_TOP/dkms.conf")
release=$(cat "$RLOOP_KDIR/include/config/kernel.release")
"$RLOOP_TOP/scripts/dkms.sh" sources "$work/src/rloop-$version"
conf=$(grep -v '^#' "$work/src/rloop-$version/dkms.conf")
! [[ $conf =~ (LLVM|CC=|clang|gcc|rustc|RUSTC|BINDGEN)[^$'\n']* ]] ||
	fail "dkms.conf names a compiler: ${BASH_REMATCH[0]}"
mkdir -p "$work/dkms"
trees=(--sourcetree "$work/src" --dkmstree "$work/dkms")
dkms add -m rloop -v "$version" "${trees[@]}" >"$work/add.log" 2>&1 ||
	fail "dkms add failed: $(tail -n 5 "$work/add.log")"
# The kernel's rustc is not first on PATH (rustup's is) and RUSTC is unset:
# kbuild.sh finds it by the version the kernel's config names.
env -u RUSTC dkms build -m rloop -v "$version" -k "$release" \
	--kernelsourcedir "$RLOOP_KDIR" "${trees[@]}" >"$work/build.log" 2>&1 ||
	fail "dkms build for $release failed: $(tail -n 20 "$work/build.log"; tail -n 20 "$work/dkms/rloop/$version/build/make.log" 2>/dev/null)"
ko=$work/dkms/rloop/$version/$release/x86_64/module/rloop.ko
[ -e "$ko" ] || ko=$(compgen -G "$work/dkms/rloop/$version/$release/x86_64/module/rloop.ko*" | head -n 1)
[ -n "$ko" ] && [ -e "$ko" ] || fail "no module in the DKMS tree: $(find "$work/dkms" -name 'rloop.ko*')"
vermagic=$(modinfo -F vermagic "$ko")
assert_eq "${vermagic%% *}" "$release" "the DKMS-built module's vermagic"
