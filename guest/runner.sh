#!/bin/bash
# Runs the guest test suite inside the VM (scripts/vm.sh starts it; check.sh
# does that for `make check`).
#
# Usage: guest/runner.sh [NAME...]
#   NAME is a file of tests/$RLOOP_SUITE/ (default tests/guest/; `make
#   stress` runs tests/stress/) without .sh; none runs them all, sorted.
#
# Each test runs in a fresh bash, in its own session, from the repository
# top, with TMPDIR and RLOOP_TEST_TMP pointing to an empty directory of its
# own, under a timeout (300 s, or a `# timeout: N` line in the test; the
# environment's RLOOP_TEST_TIMEOUT changes the default). Exit 0 passes, 77
# skips, anything else fails. The test also fails if
#   - the kernel log written while it ran matches $RLOOP_KLOG_BAD,
#   - it leaves anything behind: processes, mounts, block devices (rloop,
#     md, dm, loop, ...), or the rloop, loop, null_blk or scsi_debug module;
#     the runner cleans those up for the next test.
# Prints "PASS name (1.2s)", "FAIL name (1.2s): reason" (and the end of the
# test's output) or "SKIP name: reason"; writes "PASS name", "FAIL name:
# reason" or "SKIP name: reason" lines to $RLOOP_OUT/results and each test's
# output to $RLOOP_OUT/logs/NAME.log. RLOOP_VERBOSE=1 streams the output of
# every test. Exit status: 0 if nothing failed.
#
# RLOOP_CLAIMS (a directory on a share several VMs see, scripts/vm.sh
# --share) splits one list between runners in several VMs: a runner runs a
# test only if its mkdir of CLAIMS/NAME is the one that succeeds, so each
# test runs once and a runner that is free takes the next.
#
# Every exec costs 0.2-0.5 s in the guest (TCG, KASAN, lockdep): the
# bookkeeping between tests sticks to bash builtins.
set -euo pipefail
top=${RLOOP_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top/scripts/on-error.sh"
: "${RLOOP_OUT:?run in the VM: scripts/vm.sh -- guest/runner.sh}"
: "${RLOOP_KLOG_BAD:?run in the VM: scripts/vm.sh -- guest/runner.sh}"
default_timeout=${RLOOP_TEST_TIMEOUT:-300}
verbose=${RLOOP_VERBOSE:-0}
suite=${RLOOP_SUITE:-guest}
results=$RLOOP_OUT/results
logs=$RLOOP_OUT/logs
tmproot=/tmp/rloop-tests
# Modules a test may load and must unload again.
test_modules=(rloop null_blk scsi_debug loop)

mkdir -p "$logs" "$tmproot"
: >"$results"
# `read -t` on a FIFO nobody writes to: sleep without an exec.
[ -p "$tmproot/.sleep" ] || mkfifo "$tmproot/.sleep"
exec {sleepfd}<>"$tmproot/.sleep"
nap() { read -r -t "$1" -u "$sleepfd" _ || true; }
now_us() { echo "${EPOCHREALTIME/./}"; }
secs_since() { # START_US: seconds since, one decimal
	local d=$(($(now_us) - $1))
	printf '%d.%d' $((d / 1000000)) $((d / 100000 % 10))
}

tests=()
if [ $# -eq 0 ]; then
	for f in "$top/tests/$suite"/*.sh; do
		[ -e "$f" ] || continue
		f=${f##*/}
		tests+=("${f%.sh}")
	done
else
	tests=("$@")
fi

# --- State snapshots: what a test must leave as it found it -----------------
# Each prints one item per line.
mounts() {
	local _ mnt _
	# (Not systemd's: on a booted system (make check-debian) it mounts
	# /run/credentials/<unit> whenever a unit starts, a getty or a timer's.)
	while read -r _ mnt _; do [[ $mnt == /run/credentials/* ]] || echo "$mnt"; done </proc/self/mounts
}
blockdevs() {
	local b
	for b in /sys/block/*; do echo "${b##*/}"; done
}
modules() {
	local m
	for m in "${test_modules[@]}"; do [ ! -e "/sys/module/$m/initstate" ] || echo "$m"; done
}
# Processes of session SID (what the test started and left running).
session_procs() {
	local f stat pid comm rest
	for f in /proc/[0-9]*/stat; do
		read -r stat 2>/dev/null <"$f" || continue
		pid=${stat%% *} comm=${stat#*(} comm=${comm%)*} rest=${stat##*) }
		# rest: state ppid pgrp session ...
		set -- $rest
		if [ "$4" = "$sid_" ]; then echo "$comm($pid)"; fi
	done
}
declare -A base
snapshot() {
	local x
	base=()
	while read -r x; do base[m:$x]=1; done < <(mounts)
	while read -r x; do base[b:$x]=1; done < <(blockdevs)
	while read -r x; do base[k:$x]=1; done < <(modules)
}
# Prints what the last test (session SID) left behind, "kind: what" a line.
leftovers() {
	local sid_=$1 x
	local -a p
	mapfile -t p < <(session_procs)
	[ ${#p[@]} -eq 0 ] || echo "processes: ${p[*]}"
	while read -r x; do [ -n "${base[m:$x]:-}" ] || echo "mount: $x"; done < <(mounts)
	while read -r x; do [ -n "${base[b:$x]:-}" ] || echo "block device: $x"; done < <(blockdevs)
	while read -r x; do [ -n "${base[k:$x]:-}" ] || echo "module: $x"; done < <(modules)
}

# Undoes everything leftovers() can report, innermost first. Every step is
# bounded: what is stuck in the kernel stays stuck.
try() { timeout 10 "$@" >/dev/null 2>&1; }
clean_up() {
	local sid_=$1 m d i
	local -a mnts p
	try pkill -KILL -s "$sid_" || true
	for i in {1..30}; do
		mapfile -t p < <(session_procs)
		[ ${#p[@]} -gt 0 ] || break
		nap 0.1
	done
	# Newest mounts first (a mount can sit on top of another).
	mapfile -t mnts < <(mounts)
	for ((i = ${#mnts[@]} - 1; i >= 0; i--)); do
		m=${mnts[i]}
		[ -z "${base[m:$m]:-}" ] || continue
		try umount "$m" || try umount -l "$m" || true
	done
	! compgen -G '/sys/block/dm-*' >/dev/null || try dmsetup remove_all --force || true
	for d in /dev/md[0-9]* /dev/md/*; do
		[ ! -b "$d" ] || try mdadm --stop "$d" || true
	done
	for d in /sys/block/rloop[0-9]*; do
		[ -e "$d" ] || continue
		# RLOOP_CTL_REMOVE = _IO(0xd1, 0x01) (uapi/rloop_uapi.rs), arg = index.
		try python3 -c 'import fcntl, os, sys
fd = os.open("/dev/rloop-control", os.O_RDWR)
fcntl.ioctl(fd, 0xd101, int(sys.argv[1]))' "${d##*/rloop}" || true
	done
	[ ! -e /sys/module/loop/initstate ] || try losetup -D || true
	for m in "${test_modules[@]}"; do
		[ -n "${base[k:$m]:-}" ] || [ ! -e "/sys/module/$m/initstate" ] || try rmmod "$m" || true
	done
}

# The kernel log, followed from the start of the run by one dmesg: each test
# reads only its own lines, with builtins, instead of scanning the whole log.
klog=$tmproot/.kmsg
: >"$klog"
stdbuf -oL dmesg --follow-new >"$klog" 2>&1 &
klog_pid=$!
exec {klogfd}<"$klog"
klog_partial=
# klog_upto MARKER: reads the log up to the line holding MARKER (10 s at
# most); klog_found gets the lines on the way that fail a test (the
# harness's own lines, which may quote anything, excepted).
klog_found=
klog_upto() {
	local line deadline=$((SECONDS + 10))
	klog_found=
	while :; do
		while IFS= read -r -u "$klogfd" line; do
			line=$klog_partial$line klog_partial=
			[[ "$line" != *"$1"* ]] || return 0
			if [[ "$line" =~ $RLOOP_KLOG_BAD ]] && ! [[ "$line" =~ rloop-(init|test):\  ]]; then
				klog_found+=$line$'\n'
			fi
		done
		# (At the end of the file: what was read may be half a line.)
		klog_partial+=$line
		[ "$SECONDS" -lt "$deadline" ] || break
		nap 0.05
	done
	klog_found+="(the kernel log did not show '$1' within 10 s)"$'\n'
}

# The `# timeout: N` line of a test, else the default.
test_timeout() {
	local line
	while IFS= read -r line; do
		if [[ "$line" =~ ^#\ timeout:\ *([0-9]+)\ *$ ]]; then
			echo "${BASH_REMATCH[1]}"
			return
		fi
	done <"$1"
	echo "$default_timeout"
}

# --- Running the tests ----------------------------------------------------------
npass=0 nfail=0 nskip=0
record() { # RESULT NAME TIME [REASON]
	local res=$1 name=$2 time=$3 reason=${4:-}
	case "$res" in
	PASS) npass=$((npass + 1)); echo "PASS $name (${time}s)"; echo "PASS $name" >>"$results" ;;
	SKIP) nskip=$((nskip + 1)); echo "SKIP $name: $reason"; echo "SKIP $name: $reason" >>"$results" ;;
	FAIL) nfail=$((nfail + 1)); echo "FAIL $name (${time}s): $reason"; echo "FAIL $name: $reason" >>"$results" ;;
	esac
}

# A test stuck in the kernel (D state) survives SIGKILL and so does its
# timeout(1): at the limit the watchdog dumps the blocked tasks into the
# kernel log, 30 s later it tells us to give up on the suite.
hung=0
trap 'hung=1' USR1
watchdog() { # LIMIT
	nap "$1"
	echo w >/proc/sysrq-trigger 2>/dev/null || true
	nap 30
	kill -USR1 $$
}

n=0
dirty=
snapshot
claims=${RLOOP_CLAIMS:-}
for name in "${tests[@]}"; do
	n=$((n + 1))
	[ -z "$claims" ] || mkdir "$claims/$name" 2>/dev/null || continue
	file=$top/tests/$suite/$name.sh
	if [ ! -f "$file" ]; then
		record FAIL "$name" 0 "no such test: tests/$suite/$name.sh"
		continue
	fi
	limit=$(test_timeout "$file")
	tmp=$tmproot/$name
	[ ! -e "$tmp" ] || rm -rf "$tmp"
	mkdir "$tmp"
	reasonf=$tmproot/.reason.$name
	log=$logs/$name.log

	marker="rloop-test: start $name #$n"
	echo "$marker" >/dev/kmsg
	# (What came before belongs to no test; vm.sh still checks it.)
	klog_upto "$marker"
	start=$(now_us)
	# setsid: the test and all it starts share a session we can list and
	# kill afterwards; timeout signals the whole group on expiry.
	(
		cd "$top"
		export RLOOP_TEST_NAME=$name RLOOP_TEST_TMP=$tmp TMPDIR=$tmp RLOOP_TEST_REASON=$reasonf
		exec {klogfd}<&- {sleepfd}<&- setsid timeout -k 10 "$limit" bash "$file"
	) </dev/null >"$log" 2>&1 &
	pid=$!
	watchdog "$limit" &
	wdpid=$!
	tailpid=
	if [ "$verbose" = 1 ]; then
		tail -n +1 -s 0.2 -f --pid="$pid" "$log" &
		tailpid=$!
	fi
	rc=0
	wait "$pid" 2>/dev/null || rc=$? # (no "Killed" job notice)
	time=$(secs_since "$start")
	end_marker="rloop-test: end $name #$n"
	echo "$end_marker" >/dev/kmsg
	if [ "$hung" = 1 ]; then
		record FAIL "$name" "$time" "hung in the kernel: still running ${time}s after its ${limit}s timeout (blocked tasks in the kernel log); stopping the suite"
		# (With claims, the other runners take the rest.)
		[ -n "$claims" ] || for rest in "${tests[@]:$n}"; do record FAIL "$rest" 0 "not run: $name hung"; done
		exit 1
	fi
	kill "$wdpid" 2>/dev/null || true
	wait "$wdpid" 2>/dev/null || true
	[ -z "$tailpid" ] || wait "$tailpid" 2>/dev/null || true

	reasons=()
	reason=
	[ ! -s "$reasonf" ] || read -r reason <"$reasonf" || true
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		reasons+=("timed out after ${limit}s${reason:+ ($reason)}")
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		reasons+=("${reason:-exit status $rc}")
	fi
	klog_upto "$end_marker"
	bad=${klog_found%$'\n'}
	if [ -n "$bad" ]; then
		first=${bad%%$'\n'*}
		reasons+=("kernel log: $(sed 's/^\[[^]]*\] *//' <<<"$first")")
	fi
	left=$(leftovers "$pid")
	if [ -n "$left" ]; then
		reasons+=("left behind: ${left//$'\n'/; }")
		clean_up "$pid"
		still=$(leftovers "$pid")
		if [ -n "$still" ]; then
			# Carry on (tests that don't need what is stuck can still
			# pass), but say why the ones that do fail.
			dirty="the guest is dirty since $name (${still//$'\n'/; })"
			echo "runner: could not clean up after $name: ${still//$'\n'/; }; carrying on" >&2
			snapshot
		fi
	fi
	rm -rf "$tmp" "$reasonf"

	if [ ${#reasons[@]} -gt 0 ]; then
		[ -z "$dirty" ] || [ "${dirty#*since $name }" != "$dirty" ] || reasons+=("($dirty)")
		all=$(printf '%s; ' "${reasons[@]}")
		record FAIL "$name" "$time" "${all%; }"
		[ "$verbose" = 1 ] || tail -n 40 "$log" | sed 's/^/    | /'
		[ -z "$bad" ] || head -n 20 <<<"$bad" | sed 's/^/    kernel: /'
	elif [ "$rc" -eq 77 ]; then
		record SKIP "$name" "$time" "${reason:-skipped}"
	else
		record PASS "$name" "$time"
	fi
done

kill "$klog_pid" 2>/dev/null || true
echo "guest: $npass passed, $nfail failed, $nskip skipped"
exit $((nfail == 0 ? 0 : 1))
