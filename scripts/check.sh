#!/usr/bin/env bash
# `make check`: host unit tests, then the guest suite in one VM boot.
#
# Usage: check.sh [NAME...]   (make check T="NAME...")
#   NAME: a guest test, tests/guest/NAME.sh; none runs them all.
#   RLOOP_SUITE=stress (`make stress`) runs tests/stress/ instead, without
#   the host tests.
#   V=1 (or RLOOP_VERBOSE=1) streams the kernel console and every test's
#   output; otherwise a failing test shows the end of its output.
#
# 1. sets the machine up (scripts/setup.sh, idempotent) and gets the test
#    kernel (scripts/kernel.sh test; KDIR or RLOOP_KDIR picks another);
# 2. builds rloop.ko (scripts/module.sh) and the tools with their man pages
#    and completions (scripts/tools.sh); a module that doesn't build ends
#    the run here;
# 3. cargo test --release for tools/ (if there is a tools/Cargo.toml) and
#    the shell host tests (scripts/host-tests.sh: tests/host/*.sh, kernel.sh's
#    cache on a stand-in build, shellcheck), in the background while the
#    guest runs: each of cargo's tests and each tests/host file counts;
# 4. boots RLOOP_CHECK_VMS VMs (default: one per two host CPUs, 1 to 4) with
#    the suite's disks (two 1G disks with 512-byte blocks, one 1G disk with
#    4096-byte blocks); each runs guest/runner.sh over the whole list,
#    longest first, and the runners split it between them through claims
#    on a shared directory. A VM-level failure (timeout, crash, a kernel
#    warning or kmemleak report no test accounts for) counts as the failed
#    test "vmN".
# RLOOP_KERNEL (make check KERNEL=7.3) picks the kernel (scripts/kernels.sh);
# RLOOP_HOST_TESTS=0 leaves the host tests out (check-all runs them once).
#
# Prints a line per test and, as the last line, "N passed, N failed" (plus
# ", N skipped" if any were). Exits non-zero if anything failed. Logs are in
# out/check/ (out/check/vmN: the VM run dirs), out/check-7.3/ for 7.3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/env.sh"
cd "$top"

verbose=0
if [ "${V:-0}" = 1 ] || [ "${RLOOP_VERBOSE:-0}" = 1 ]; then verbose=1; fi
export RLOOP_VERBOSE=$verbose
suite=${RLOOP_SUITE:-guest}
# (vm.sh passes RLOOP_* on to the guest.)
export RLOOP_SUITE=$suite RLOOP_FSX=$FSX
logs=$top/out/$([ "$suite" = guest ] && echo check || echo "$suite")
[ "$RLOOP_KERNEL" = 6.12 ] || logs+=-$RLOOP_KERNEL
mkdir -p "$logs"

say() { printf '==> check: %s\n' "$*" >&2; }
npass=0 nfail=0 nskip=0
pass() { npass=$((npass + 1)); echo "PASS $*"; }
failed() { nfail=$((nfail + 1)); echo "FAIL $*"; }
summary() {
	local s="$npass passed, $nfail failed"
	[ "$nskip" -eq 0 ] || s+=", $nskip skipped"
	echo "$s"
	exit $((nfail == 0 ? 0 : 1))
}
# Shows the end of a build log on stderr.
show_log() {
	echo "---- last lines of $1 ----" >&2
	tail -n 40 "$1" >&2
	echo "----" >&2
}

# --- 1. Machine and kernel ----------------------------------------------------
say "setting up the machine (scripts/setup.sh)"
if ! "$here/setup.sh" >"$logs/setup.log" 2>&1; then
	show_log "$logs/setup.log"
	failed "setup: scripts/setup.sh failed"
	summary
fi
kdir=${RLOOP_KDIR:-${KDIR:-}}
if [ -z "$kdir" ]; then
	say "getting the $RLOOP_KERNEL test kernel (scripts/kernel.sh test; a cold build takes a while)"
	if ! kdir=$("$here/kernel.sh" test 2>"$logs/kernel.log"); then
		show_log "$logs/kernel.log"
		failed "build: test kernel (scripts/kernel.sh test)"
		summary
	fi
fi
# The module is built against the kernel the VM boots.
export KDIR=$kdir RLOOP_KDIR=$kdir

# --- 2. Builds --------------------------------------------------------------------
say "building rloop.ko with the kernel's Rust lints (scripts/module.sh, CLIPPY=1)"
if ! RLOOP_CLIPPY=1 "$here/module.sh" >"$logs/module.log" 2>&1; then
	show_log "$logs/module.log"
	failed "build: rloop.ko (scripts/module.sh; log: $logs/module.log)"
	summary
fi
# A warning, the compiler's or clippy's, fails the build too: fix it, or allow
# it on its line with the reason.
if grep -q 'warning:' "$logs/module.log"; then
	head -n 60 < <(grep -A8 'warning:' "$logs/module.log") >&2
	failed "build: rloop.ko has $(grep -c 'warning:' "$logs/module.log") warning(s) (log: $logs/module.log)"
fi
host_tests=0 shell_tests=0
if [ -f tools/Cargo.toml ]; then
	say "building the tools, their man pages and completions (scripts/tools.sh)"
	if ! "$here/tools.sh" >"$logs/tools.log" 2>&1; then
		show_log "$logs/tools.log"
		failed "build: tools (scripts/tools.sh; log: $logs/tools.log)"
	fi
	[ "$suite" != guest ] || [ "${RLOOP_HOST_TESTS:-1}" = 0 ] || host_tests=1
fi
[ "$suite" != guest ] || [ "${RLOOP_HOST_TESTS:-1}" = 0 ] || shell_tests=1

# --- 3. Host unit tests, beside the VM -------------------------------------------
# With --release they reuse the dependencies just built; they run while the
# guest boots and are reported after it.
if [ "$host_tests" = 1 ]; then
	say "host unit tests (cargo test --release), beside the guest suite"
	(cargo test --release --manifest-path tools/Cargo.toml >"$logs/cargo-test.log" 2>&1) &
	host_pid=$!
fi
if [ "$shell_tests" = 1 ]; then
	say "shell host tests (scripts/host-tests.sh), beside the guest suite"
	("$here/host-tests.sh" "$logs/host" >"$logs/host-tests.out" 2>&1) &
	shell_pid=$!
fi
report_shell_tests() {
	[ "$shell_tests" = 1 ] || return 0
	local rc=0
	wait "$shell_pid" || rc=$?
	grep -E '^(PASS|FAIL|SKIP) host: ' "$logs/host-tests.out" || true
	npass=$((npass + $(grep -c '^PASS host: ' "$logs/host-tests.out" || true)))
	nfail=$((nfail + $(grep -c '^FAIL host: ' "$logs/host-tests.out" || true)))
	nskip=$((nskip + $(grep -c '^SKIP host: ' "$logs/host-tests.out" || true)))
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL host: ' "$logs/host-tests.out"; then
		show_log "$logs/host-tests.out"
		failed "host: scripts/host-tests.sh exited $rc without a failing test"
	fi
}
report_host_tests() {
	[ "$host_tests" = 1 ] || return 0
	local rc=0 p f i
	wait "$host_pid" || rc=$?
	sed -n -e 's/^test \(.*\) \.\.\. ok$/PASS host: \1/p' \
		-e 's/^test \(.*\) \.\.\. FAILED$/FAIL host: \1/p' \
		-e 's/^test \(.*\) \.\.\. ignored.*$/SKIP host: \1: ignored/p' "$logs/cargo-test.log"
	# The counts come from cargo's own "test result:" lines.
	read -r p f i < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed; \([0-9]*\) ignored.*/\1 \2 \3/p' \
		"$logs/cargo-test.log" | awk '{ p += $1; f += $2; i += $3 } END { print p + 0, f + 0, i + 0 }')
	npass=$((npass + p)) nfail=$((nfail + f)) nskip=$((nskip + i))
	if [ "$rc" -ne 0 ]; then
		show_log "$logs/cargo-test.log"
		[ "$f" -gt 0 ] || failed "host: cargo test exited $rc without a failing test (build error?)"
	fi
}

# --- 4. The guest suite -----------------------------------------------------------
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in "tests/$suite"/*.sh; do [ -e "$f" ] && names+=("$(basename "$f" .sh)"); done
fi
test_limit() { # NAME: the test's `# timeout: N`, else the default
	local t
	t=$(sed -n 's/^# timeout: *\([0-9][0-9]*\) *$/\1/p' "tests/$suite/$1.sh" 2>/dev/null | head -n 1)
	echo "${t:-${RLOOP_TEST_TIMEOUT:-300}}"
}
test_boot() { # NAME: the test's `# boot: ARGS`, kernel arguments it needs a VM of its own for
	sed -n 's/^# boot: *\(.*[^ ]\) *$/\1/p' "tests/$suite/$1.sh" 2>/dev/null | head -n 1
}
test_alone() { # NAME: whether the test needs a VM of its own (`# boot:`, or `# alone: WHY`)
	[ -n "$(test_boot "$1")" ] || grep -q '^# alone: *[^ ]' "tests/$suite/$1.sh" 2>/dev/null
}
# Longest first (by their limits), so that the VMs finish close together.
mapfile -t names < <(for n in "${names[@]}"; do echo "$(test_limit "$n") $n"; done | sort -k1,1nr -k2,2 | cut -d' ' -f2)
# A test with a boot line runs alone, in a VM booted with it, after the
# shared VMs; so does one whose `# alone:` line says why it must.
shared=() alone=()
for name in "${names[@]}"; do
	if test_alone "$name"; then alone+=("$name"); else shared+=("$name"); fi
done
# The VMs' limit: every test's own limit (one VM may end up running them
# all), plus boot and the kmemleak scan.
limit=300
for name in "${shared[@]}"; do limit=$((limit + $(test_limit "$name"))); done

# Several VMs share the list through claims (guest/runner.sh). A TCG
# guest with two CPUs running the suite keeps about two host CPUs busy (on
# two, a second VM made the run slower, not faster).
nvm=${RLOOP_CHECK_VMS:-$(($(nproc) / 2))}
[ "$nvm" -le 4 ] || nvm=4
[ "$nvm" -le ${#shared[@]} ] || nvm=${#shared[@]}
rm -rf "$logs"/vm "$logs"/vm[0-9]* "$logs/claims"
claims=$logs/claims
mkdir -p "$claims"
vmargs_common=(--disk 1G --disk 1G --disk 1G:4096 --kernel "$kdir")
[ "$verbose" -eq 1 ] || vmargs_common+=(--quiet)
pids=()
if [ "$nvm" -gt 0 ]; then
	say "running ${#shared[@]} guest test(s) in $nvm VM(s) (limit ${limit}s; run dirs $logs/vm*)"
fi
for ((i = 0; i < nvm; i++)); do
	vmargs=("${vmargs_common[@]}" --timeout "$limit" --out "$logs/vm$i")
	[ "$nvm" -eq 1 ] || vmargs+=(--share "$claims")
	RLOOP_CLAIMS=$([ "$nvm" -eq 1 ] || echo /run/rloopshare) \
		"$here/vm.sh" "${vmargs[@]}" -- guest/runner.sh "${shared[@]}" &
	pids+=($!)
done
vmrc=()
for pid in "${pids[@]}"; do
	rc=0
	wait "$pid" || rc=$?
	vmrc+=("$rc")
done
# One at a time: each keeps about two host CPUs busy.
for name in "${alone[@]}"; do
	boot=$(test_boot "$name")
	say "running $name alone in a VM${boot:+ booted with: $boot} (run dir $logs/vm$nvm)"
	rc=0
	RLOOP_VM_APPEND="${RLOOP_VM_APPEND:-} $boot" "$here/vm.sh" "${vmargs_common[@]}" \
		--timeout $((300 + $(test_limit "$name"))) --out "$logs/vm$nvm" -- guest/runner.sh "$name" || rc=$?
	vmrc+=("$rc")
	nvm=$((nvm + 1))
done

report_host_tests
report_shell_tests
all_results=()
for ((i = 0; i < nvm; i++)); do
	vmout=$logs/vm$i
	results=$vmout/out/results
	[ -f "$results" ] || : >"$results"
	all_results+=("$results")
	gp=$(grep -c '^PASS ' "$results" || true)
	gf=$(grep -c '^FAIL ' "$results" || true)
	gs=$(grep -c '^SKIP ' "$results" || true)
	npass=$((npass + gp)) nfail=$((nfail + gf)) nskip=$((nskip + gs))

	# What the VM run says that its test results don't already.
	vmwhy=()
	while IFS= read -r line; do
		case "$line" in
		ok | '') ;;
		exit\ *) [ "$gf" -gt 0 ] || vmwhy+=("guest/runner.sh ${line}") ;;
		klog\ *) grep -q '^FAIL [^:]*: .*kernel log: ' "$results" || vmwhy+=("kernel log: ${line#klog }") ;;
		*) vmwhy+=("$line") ;;
		esac
	done <"$vmout/vm-result" 2>/dev/null || vmwhy+=("no VM result (vm.sh exit ${vmrc[i]})")
	if [ ${#vmwhy[@]} -gt 0 ]; then
		failed "vm$i: $(printf '%s; ' "${vmwhy[@]}" | sed 's/; $//') (run dir $vmout)"
	fi
done
notrun=()
for name in "${names[@]}"; do
	grep -q -h "^[A-Z]* $name\(:.*\)\?$" "${all_results[@]}" || notrun+=("$name")
done
[ ${#notrun[@]} -eq 0 ] || failed "vm: not run: ${notrun[*]}"
summary
