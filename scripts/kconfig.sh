# shellcheck shell=bash
# What a kernel's configuration says about how it was built, for
# kbuild.sh and rust-headers.sh; sourced, never run. These two also run
# under DKMS, on a user's machine: nothing here assumes the project's own
# set-up (scripts/env.sh).
#
#   kconfig_load KDIR   reads KDIR's include/config/auto.conf (or .config)
#   kconfig NAME        a value from it, quotes removed ("" if unset)
#   kconfig_llvm        the LLVM= make argument a clang-built kernel needs
#   find_rustc          the rustc whose --version is the config's
#   find_bindgen        the bindgen whose --version is the config's

kconfig_load() {
	local file=$1/include/config/auto.conf
	[ -f "$file" ] || file=$1/.config
	if [ ! -f "$file" ]; then
		echo "$1 has no kernel configuration: not a kernel build tree" >&2
		return 1
	fi
	if ! grep -qx 'CONFIG_RUST=y' "$file"; then
		echo "$1: the kernel is built without CONFIG_RUST; rloop is a Rust module and needs a kernel built with it" >&2
		return 1
	fi
	_kconfig_file=$file
}

kconfig() {
	local v
	v=$(sed -n "s/^$1=//p" "$_kconfig_file")
	v=${v#\"}
	printf '%s\n' "${v%\"}"
}

# clang N: LLVM=1 if it is the default clang, else LLVM=-N (6.12 here is
# built with 14, 7.3 with 19); a gcc-built kernel needs none (its Makefile
# names its gcc, as Debian's headers name gcc-14): prints nothing.
kconfig_llvm() {
	local major
	[ "$(kconfig CONFIG_CC_IS_CLANG)" = y ] || return 0
	major=$(($(kconfig CONFIG_CLANG_VERSION) / 10000))
	if [ "$(clang -dumpversion 2>/dev/null | cut -d. -f1)" = "$major" ]; then
		echo LLVM=1
	elif command -v "clang-$major" >/dev/null; then
		echo "LLVM=-$major"
	else
		echo "the kernel is built with clang $major, which is not installed (clang-$major, lld-$major and llvm-$major)" >&2
		return 1
	fi
}

# _find_tool NAME WANT CANDIDATE...: the first candidate that runs and whose
# `--version` prints exactly WANT; else say what was found and fail.
_find_tool() {
	local name=$1 want=$2 c got seen=()
	shift 2
	for c; do
		[ -n "$c" ] || continue
		c=$(command -v "$c" 2>/dev/null) || continue
		got=$("$c" --version 2>/dev/null) || continue
		got=${got%%$'\n'*}
		[ "$got" != "$want" ] || { echo "$c"; return 0; }
		seen+=("$c: $got")
	done
	{
		echo "the kernel was built with \"$want\", and no $name here is that one:"
		[ ${#seen[@]} -eq 0 ] || printf '  %s\n' "${seen[@]}"
		echo "install that $name (Debian: the release the kernel comes from), or point ${name^^} at it"
	} >&2
	return 1
}

# Versioned toolchains (Ubuntu: rustc-1.80, /usr/lib/rust-1.80/bin) beside
# the default one. (A glob, not a pipe: a pipeline's early exit would trip
# pipefail.)
_versioned() { # NAME: its versioned binaries, newest first
	local f all=()
	for f in /usr/bin/"$1"-[0-9]* /usr/lib/rust-[0-9]*/bin/"$1"; do
		[ ! -x "$f" ] || all+=("$f")
	done
	[ ${#all[@]} -eq 0 ] || printf '%s\n' "${all[@]}" | sort -rV
}

find_rustc() {
	local want
	want=$(kconfig CONFIG_RUSTC_VERSION_TEXT)
	[ -n "$want" ] || { echo "the kernel's config names no rustc (CONFIG_RUSTC_VERSION_TEXT)" >&2; return 1; }
	# shellcheck disable=SC2046 # one path per line, no spaces
	_find_tool rustc "$want" "${RUSTC:-}" rustc /usr/bin/rustc $(_versioned rustc)
}

find_bindgen() {
	local want
	want=$(kconfig CONFIG_BINDGEN_VERSION_TEXT)
	[ -n "$want" ] || { echo "the kernel's config names no bindgen (CONFIG_BINDGEN_VERSION_TEXT)" >&2; return 1; }
	# shellcheck disable=SC2046
	# setup.sh's, in the cache even where RLOOP_CACHE points elsewhere (dkms.conf's).
	_find_tool bindgen "$want" "${BINDGEN:-}" bindgen /usr/bin/bindgen \
		"${RLOOP_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/rloop}/tools/bin/bindgen" \
		"${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/rloop/tools/bin/bindgen" \
		"${HOME:-/root}/.cargo/bin/bindgen" $(_versioned bindgen)
}
