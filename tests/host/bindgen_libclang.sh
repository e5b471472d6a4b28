#!/bin/bash
# The kernel build's bindgen parses C with the flags of the kernel's own
# clang, so it must load that clang's libclang (scripts/kernels.sh sets
# LIBCLANG_PATH): for each kernel whose clang is installed, the real bindgen,
# in the environment env.sh gives that kernel, takes the zeroed-stack flags
# that clang takes for a defconfig (clang 14 needs the "knowing it will be
# removed" enabler beside -ftrivial-auto-var-init=zero, which libclang 19
# refuses; libclang 14 refuses clang 19's -fstrict-flex-arrays=3). Each
# runs in the environment the other kernel's env.sh left behind, as `make
# check-all` runs 7.3's check from a script that sourced 6.12's: what one
# kernel picked must not carry over to the other.
. "${0%/*}/../lib.sh"

work=$(scratch_dir)
printf 'struct rloop_probe { int a; };\nint rloop_probe_fn(struct rloop_probe *p);\n' >"$work/probe.h"
# The kernels rloop knows (scripts/kernels.sh).
read -r -a kernels <<<"$(bash -c '. scripts/env.sh; echo "${RLOOP_KERNELS[*]}"')"
tried=0
for kernel in "${kernels[@]}"; do
	for other in "${kernels[@]}"; do [ "$other" = "$kernel" ] || break; done
	# A subshell per kernel, started from one that sourced another's env.sh.
	status=0
	RLOOP_KERNEL=$other bash -c '. scripts/env.sh; exec "$@"' _ \
		env RLOOP_KERNEL="$kernel" WORK="$work" bash -c '
		set -euo pipefail
		. scripts/env.sh
		command -v "$KCLANG" >/dev/null || exit 77
		[ -x "$BINDGEN" ] || { echo "no bindgen at $BINDGEN (scripts/setup.sh builds it)"; exit 1; }
		flags=(-ftrivial-auto-var-init=zero)
		enabler=-enable-trivial-auto-var-init-zero-knowing-it-will-be-removed-from-clang
		if ! "$KCLANG" -Werror "${flags[@]}" -c -x c /dev/null -o /dev/null 2>/dev/null; then
			flags+=("$enabler")
		fi
		"$KCLANG" -Werror "${flags[@]}" -c -x c /dev/null -o /dev/null ||
			{ echo "$KCLANG takes neither form of the zeroed-stack flags"; exit 1; }
		# A flag 7.3 passes where its clang has it (16 and newer), which
		# libclang 14 does not know.
		if "$KCLANG" -Werror -fstrict-flex-arrays=3 -c -x c /dev/null -o /dev/null 2>/dev/null; then
			flags+=(-fstrict-flex-arrays=3)
		fi
		out=$("$BINDGEN" "$WORK/probe.h" -- "${flags[@]}" 2>&1) ||
			{ echo "bindgen with $KCLANG'"'"'s flags (${flags[*]}), LIBCLANG_PATH=${LIBCLANG_PATH:-unset}: $out"; exit 1; }
		grep -q "pub fn rloop_probe_fn" <<<"$out" || { echo "bindgen gave no rloop_probe_fn: $out"; exit 1; }
	' >"$work/$kernel.log" 2>&1 || status=$?
	case $status in
	0) tried=$((tried + 1)) ;;
	77) echo "$kernel: its clang is not installed" ;;
	*) fail "RLOOP_KERNEL=$kernel: $(head -c 600 "$work/$kernel.log")" ;;
	esac
done
[ "$tried" -gt 0 ] || skip "no kernel's clang is installed"
echo "bindgen took the kernel clang's flags for $tried kernel(s)"
