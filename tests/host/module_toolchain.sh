#!/bin/bash
# scripts/module.sh (through kbuild.sh) builds with the compilers the target
# kernel's config names, never a fixed LLVM=1 or the first rustc on PATH:
# LLVM=1 for the default clang, LLVM=-N for another clang N, nothing for a
# gcc-built kernel; the rustc whose --version is CONFIG_RUSTC_VERSION_TEXT,
# wherever it is, and the bindgen CONFIG_BINDGEN_VERSION_TEXT names; a clear
# refusal for a compiler or bindgen that is not installed or a
# kernel without Rust. The kernel's make is a stand-in that records its
# arguments; KDIR is a stand-in build tree.
. "${0%/*}/../lib.sh"

work=$(scratch_dir)
mkdir -p "$work/bin"
cat >"$work/bin/make" <<'MAKE'
#!/bin/sh
printf '%s\n' "$@" >"$KF_ARGS"
MAKE
printf '#!/bin/sh\necho 14.0.6\n' >"$work/bin/clang"
# The bindgen the configs name, on PATH: it generates the helpers' declarations.
printf '#!/bin/sh\necho "bindgen 0.71.1"\n' >"$work/bin/bindgen"
printf '#!/bin/sh\necho 19.1.7\n' >"$work/bin/clang-19"
# The kernel's rustc on PATH; the one the environment names first is another.
printf '#!/bin/sh\necho "rustc 1.85.1 (stub kernel rustc)"\n' >"$work/bin/rustc"
mkdir -p "$work/other"
printf '#!/bin/sh\necho "rustc 1.96.0 (stub other rustc)"\n' >"$work/other/rustc"
chmod +x "$work/bin/"* "$work/other/rustc"
export KRUSTC=$work/other/rustc
export PATH=$work/bin:$PATH KF_ARGS=$work/args

# tree NAME CONFIG-LINES...: a stand-in build tree with that config.
tree() {
	local dir=$work/$1
	shift
	mkdir -p "$dir/include/config" "$dir/rust"
	printf '%s\n' "$@" >"$dir/include/config/auto.conf"
	grep -q '^CONFIG_RUSTC_VERSION_TEXT=' "$dir/include/config/auto.conf" ||
		echo 'CONFIG_RUSTC_VERSION_TEXT="rustc 1.85.1 (stub kernel rustc)"' >>"$dir/include/config/auto.conf"
	grep -q '^CONFIG_BINDGEN_VERSION_TEXT=' "$dir/include/config/auto.conf" ||
		echo 'CONFIG_BINDGEN_VERSION_TEXT="bindgen 0.71.1"' >>"$dir/include/config/auto.conf"
	: >"$dir/Module.symvers"
	: >"$dir/rust/libkernel.rmeta"
	echo "$dir"
}
# build KDIR: run module.sh for KDIR; its stderr in $work/err.
build() {
	: >"$KF_ARGS"
	KDIR=$1 "$RLOOP_TOP/scripts/module.sh" 2>"$work/err"
}
llvm_arg() { grep '^LLVM=' "$KF_ARGS" || true; }

build "$(tree clang19 CONFIG_RUST=y CONFIG_CC_IS_CLANG=y CONFIG_CLANG_VERSION=190107)" ||
	fail "module.sh for a clang-19 kernel failed: $(cat "$work/err")"
assert_eq "$(llvm_arg)" LLVM=-19 "LLVM= for a kernel built with clang 19"
grep -qx "M=$RLOOP_TOP" "$KF_ARGS" || fail "module.sh did not build the repository top (M=): $(cat "$KF_ARGS")"
grep -qx "RUSTC=$work/bin/rustc" "$KF_ARGS" ||
	fail "module.sh did not pick the rustc the config names over the environment's: $(grep RUSTC= "$KF_ARGS")"
grep -qx "BINDGEN=$work/bin/bindgen" "$KF_ARGS" ||
	fail "module.sh did not pass the bindgen the config names: $(grep BINDGEN= "$KF_ARGS")"

build "$(tree clang14 CONFIG_RUST=y CONFIG_CC_IS_CLANG=y CONFIG_CLANG_VERSION=140006)" ||
	fail "module.sh for a clang-14 kernel failed: $(cat "$work/err")"
assert_eq "$(llvm_arg)" LLVM=1 "LLVM= for a kernel built with the default clang (14)"

build "$(tree gcc CONFIG_RUST=y CONFIG_CC_IS_GCC=y CONFIG_GCC_VERSION=140200)" ||
	fail "module.sh for a gcc kernel failed: $(cat "$work/err")"
assert_eq "$(llvm_arg)" "" "LLVM= for a gcc-built kernel"

rc=0
build "$(tree clang17 CONFIG_RUST=y CONFIG_CC_IS_CLANG=y CONFIG_CLANG_VERSION=170006)" || rc=$?
assert_eq "$rc" 1 "exit status for a kernel built with a clang that is not installed"
grep -q 'is built with clang 17, which is not installed (clang-17, lld-17 and llvm-17)' "$work/err" ||
	fail "module.sh did not say which clang is missing: $(cat "$work/err")"
[ ! -s "$KF_ARGS" ] || fail "module.sh ran make without the kernel's compiler"

rc=0
build "$(tree norust CONFIG_CC_IS_CLANG=y CONFIG_CLANG_VERSION=140006)" || rc=$?
assert_eq "$rc" 1 "exit status for a kernel without CONFIG_RUST"
grep -q 'the kernel is built without CONFIG_RUST' "$work/err" || fail "module.sh did not say the kernel lacks Rust: $(cat "$work/err")"

rc=0
build "$(tree rustc_absent CONFIG_RUST=y CONFIG_CC_IS_GCC=y 'CONFIG_RUSTC_VERSION_TEXT="rustc 1.77.0 (nowhere)"')" || rc=$?
assert_eq "$rc" 1 "exit status for a kernel whose rustc is not installed"
grep -q 'the kernel was built with "rustc 1.77.0 (nowhere)", and no rustc here is that one' "$work/err" ||
	fail "module.sh did not say which rustc is missing: $(cat "$work/err")"
grep -q "$work/other/rustc: rustc 1.96.0 (stub other rustc)" "$work/err" ||
	fail "module.sh did not list the rustc versions it found: $(cat "$work/err")"
[ ! -s "$KF_ARGS" ] || fail "module.sh ran make without the kernel's rustc"

rc=0
build "$(tree bindgen_absent CONFIG_RUST=y CONFIG_CC_IS_GCC=y 'CONFIG_BINDGEN_VERSION_TEXT="bindgen 0.60.0 (nowhere)"')" || rc=$?
assert_eq "$rc" 1 "exit status for a kernel whose bindgen is not installed"
grep -q 'the kernel was built with "bindgen 0.60.0 (nowhere)", and no bindgen here is that one' "$work/err" ||
	fail "module.sh did not say which bindgen is missing: $(cat "$work/err")"
[ ! -s "$KF_ARGS" ] || fail "module.sh ran make without the kernel's bindgen"
