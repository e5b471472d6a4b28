# shellcheck shell=bash
# Helpers for the guest tests; sourced, never run:
#
#   . "$(dirname "$0")/../lib.sh"
#
# Sourcing turns on `set -euo pipefail` and an EXIT trap that runs the
# clean-ups registered with on_exit, newest first. A test exits 0 to pass,
# 77 (skip) to skip, anything else to fail; fail and skip record their
# message as the reason guest/runner.sh prints.
#
# Clean-ups are kept in a file, not a variable, so that helpers used in a
# command substitution, like `dir=$(scratch_dir)`, still register theirs
# with the test's shell.
set -euo pipefail

# Every exec costs 0.1-0.5 s in the guest (TCG, KASAN, lockdep, kmemleak):
# helpers use bash builtins where they can.

: "${RLOOP_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
# The environment may point these elsewhere (vm.sh passes RLOOP_* on).
: "${RLOOP_KO:=$RLOOP_TOP/rloop.ko}"
: "${RLOOPCTL:=$RLOOP_TOP/tools/target/release/rloopctl}"
: "${RLOOP_RAW:=$RLOOP_TOP/tools/target/release/rloop-raw}"
# fsx from the crate registry (scripts/setup.sh installs it; check.sh says where).
: "${RLOOP_FSX:=${RLOOP_CACHE:-${HOME:-/root}/.cache/rloop}/tools/bin/fsx}"
# shellcheck disable=SC2034 # for the tests that source this file
RLOOP_CONTROL=/dev/rloop-control
: "${RLOOP_TEST_TMP:=${TMPDIR:-/tmp}}"
: "${RLOOP_DISKS:=}"
export RLOOP_TOP RLOOP_KO RLOOPCTL RLOOP_RAW RLOOP_FSX

_rl_exit_file=$RLOOP_TEST_TMP/.on_exit.$$
: >"$_rl_exit_file"

# Records why the test ends (the first reason wins) for the runner.
_rl_reason() {
	if [ -n "${RLOOP_TEST_REASON:-}" ] && [ ! -s "$RLOOP_TEST_REASON" ]; then
		printf '%s\n' "$*" >"$RLOOP_TEST_REASON"
	fi
}

# on_exit CMD [ARGS...]: run CMD when the test exits, whatever the reason.
on_exit() {
	printf '%q ' "$@" >>"$_rl_exit_file"
	echo >>"$_rl_exit_file"
}

# kill_at_exit PID: kill the background process PID at exit, if it still runs.
kill_at_exit() { on_exit _rl_kill_quietly "$1"; }
_rl_kill_quietly() { kill "$1" 2>/dev/null || true; }

_rl_on_exit() {
	local status=$? line
	set +e
	trap - ERR
	# Each clean-up in a subshell, so a failing one (even one calling fail)
	# doesn't stop the others.
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		# (Not as an `if` condition: that would switch set -e off inside.)
		(set -e; eval "$line")
		if [ $? -ne 0 ]; then
			echo "cleanup failed: $line" >&2
			_rl_reason "cleanup failed: $line"
			[ "$status" -ne 0 ] || status=1
		fi
	done < <(tac "$_rl_exit_file")
	rm -f "$_rl_exit_file"
	exit "$status"
}
trap _rl_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# Name the command that made set -e end the test.
trap '_rl_reason "${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND (exit $?)"' ERR
set -E

# fail MSG: end the test as failed.
fail() {
	echo "FAIL: $*" >&2
	_rl_reason "$*"
	exit 1
}

# skip MSG: end the test as skipped.
skip() {
	echo "SKIP: $*" >&2
	_rl_reason "$*"
	exit 77
}

# assert_eq GOT WANT [MSG]
assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-assert_eq}: got '$1', want '$2'"
}

# need_disk N: skip unless the VM has N extra disks. They are $RLOOP_DISKS,
# also in the array DISKS.
need_disk() {
	[ ${#DISKS[@]} -ge "$1" ] || skip "needs $1 extra disk(s), the VM has ${#DISKS[@]}"
}
read -r -a DISKS <<<"$RLOOP_DISKS"

# need_cmd CMD...: skip unless every CMD is on PATH.
need_cmd() {
	local c
	for c; do command -v "$c" >/dev/null || skip "$c is not installed"; done
}

# load_rloop [PARAM=VALUE...]: insmod rloop.ko; it is removed at exit.
load_rloop() {
	[ -f "$RLOOP_KO" ] || fail "$RLOOP_KO is not built"
	# RLOOP_MODULE_ARGS: module parameters for the whole run (linger_us=0, say).
	# shellcheck disable=SC2086
	insmod "$RLOOP_KO" ${RLOOP_MODULE_ARGS:-} "$@" || fail "insmod rloop.ko failed"
	on_exit unload_rloop
}

# unload_rloop: rmmod rloop if it is loaded. An open device holds a module
# reference, and udev may still be probing one a test has just finished
# with: rmmod is tried for a second.
unload_rloop() {
	local i
	[ -e /sys/module/rloop ] || return 0
	for ((i = 0; i < 10; i++)); do
		rmmod rloop 2>/dev/null && return 0
		sleep 0.1
	done
	rmmod rloop || fail "rmmod rloop failed"
}

# need_tool PATH: fail unless a tools/ binary is built (check.sh builds them).
need_tool() {
	[ -x "$1" ] || fail "$1 is not built (cargo build --release --manifest-path tools/Cargo.toml)"
}

# expect_errno ERRNAME ARGS...: run `rloop-raw ARGS...` and check that it
# reports `err ERRNAME`.
expect_errno() {
	local want=$1 out got
	shift
	need_tool "$RLOOP_RAW"
	out=$("$RLOOP_RAW" "$@" 2>&1) || true
	got=
	[[ "$out" =~ (^|$'\n')err\ ([A-Z0-9_]+) ]] && got=${BASH_REMATCH[2]}
	if [ -z "$got" ]; then
		fail "rloop-raw $*: want err $want, got success: $(head -c 300 <<<"$out")"
	fi
	[ "$got" = "$want" ] || fail "rloop-raw $*: want err $want, got err $got"
}

# expect_write_errno ERRNAME FILE TEXT: one write(2) of TEXT to FILE (a
# sysfs attribute, say) must fail with ERRNAME.
expect_write_errno() {
	expect_errno "$1" write "$2" "$3"
}

# mkfs_mount TYPE DEV DIR [MKFS-OPTIONS...]: make a TYPE file system on DEV
# and mount it on DIR (created if needed; with -o $RL_MOUNT_OPTS if set);
# unmounted at exit.
mkfs_mount() {
	local type=$1 dev=$2 dir=$3
	shift 3
	case "$type" in
	xfs) mkfs.xfs -f -q "$@" "$dev" ;;
	ext2 | ext3 | ext4) "mkfs.$type" -F -q "$@" "$dev" ;;
	btrfs) mkfs.btrfs -f -q "$@" "$dev" ;;
	*) "mkfs.$type" "$@" "$dev" ;;
	esac >/dev/null || fail "mkfs.$type $dev failed"
	mkdir -p "$dir"
	mount -t "$type" ${RL_MOUNT_OPTS:+-o "$RL_MOUNT_OPTS"} "$dev" "$dir" || fail "mount $dev on $dir failed"
	on_exit umount_if_mounted "$dir"
}

# umount_if_mounted DIR: a clean-up that a test may have done already.
umount_if_mounted() {
	! mountpoint -q "$1" || umount "$1"
}

# scratch_dir [DEV [TYPE [MKFS-OPTIONS...]]]: print a fresh directory,
# removed at exit: in the test's temporary directory (an overlay), with
# "tmpfs" a tmpfs of its own (direct I/O works there: backing files for
# tests where the file system does not matter, without a mkfs), or with DEV
# the root of a new TYPE (default xfs) file system on DEV; unmounted at exit.
# shellcheck disable=SC2120 # the tests that source this file pass them
scratch_dir() {
	local dir
	dir=$(mktemp -d "$RLOOP_TEST_TMP/scratch.XXXXXX")
	on_exit rm -rf "$dir"
	if [ "${1:-}" = tmpfs ]; then
		mount -t tmpfs -o size=1g tmpfs "$dir" || fail "mount tmpfs on $dir failed"
		on_exit umount_if_mounted "$dir"
	elif [ $# -gt 0 ]; then
		local dev=$1 type=${2:-xfs}
		shift $(($# > 1 ? 2 : 1))
		mkfs_mount "$type" "$dev" "$dir" "$@"
	fi
	echo "$dir"
}

# klog_mark: remember "now" in the kernel log; klog_since_mark prints the
# kernel log lines written since.
_rl_klog_mark=
klog_mark() {
	_rl_klog_mark="rloop-test: mark $$.$RANDOM$RANDOM"
	echo "$_rl_klog_mark" >/dev/kmsg
}
klog_since_mark() {
	[ -n "$_rl_klog_mark" ] || fail "klog_since_mark without klog_mark"
	dmesg | awk -v m="$_rl_klog_mark" 'f; index($0, m) { f = 1 }'
}

# block_devices PREFIX...: the disks in /sys/block whose name is one of the
# PREFIXes followed by a number, one per line (a glob, not ls: no exec).
block_devices() {
	local b p name
	for b in /sys/block/*; do
		name=${b##*/}
		for p in "$@"; do
			if [[ $name =~ ^${p}[0-9]+$ ]]; then
				echo "$name"
				break
			fi
		done
	done
	return 0
}

# fail_disk DISK: from now on every bio to DISK fails (fail_make_request);
# lifted at exit, or earlier with heal_disk DISK. Skips without the knob.
_rl_fail_dir=/sys/kernel/debug/fail_make_request
fail_disk() {
	[ -d "$_rl_fail_dir" ] || skip "no $_rl_fail_dir (CONFIG_FAIL_MAKE_REQUEST)"
	echo 100 >"$_rl_fail_dir/probability"
	echo -1 >"$_rl_fail_dir/times"
	echo 0 >"$_rl_fail_dir/interval"
	echo 0 >"$_rl_fail_dir/verbose"
	echo 1 >"/sys/block/${1#/dev/}/make-it-fail"
	on_exit sh -c "echo 0 >/sys/block/${1#/dev/}/make-it-fail; echo 0 >$_rl_fail_dir/probability"
}
heal_disk() {
	echo 0 >"/sys/block/${1#/dev/}/make-it-fail"
}

# expect_eio WHAT CMD...: CMD fails within 60 s and says EIO.
expect_eio() {
	local what=$1 rc=0
	shift
	timeout 60 "$@" 2>"$RLOOP_TEST_TMP/err" || rc=$?
	[ "$rc" -ne 0 ] || fail "$what succeeded with the disk failing"
	[ "$rc" -ne 124 ] || fail "$what hung with the disk failing"
	grep -q 'Input/output error' "$RLOOP_TEST_TMP/err" || fail "$what: want EIO, got: $(cat "$RLOOP_TEST_TMP/err")"
}

# loop_dio FILE: print a loop device with direct I/O over FILE, the
# baseline rloop is compared with (loading the loop module; skips without
# it). At exit the device is detached and, once udev has let go of it (a
# detach is a change event it probes), the module removed.
loop_dio() {
	local lo
	modprobe loop || skip "no loop module"
	lo=$(losetup --find --show --direct-io=on "$1") || {
		modprobe -r loop
		fail "losetup --direct-io=on $1 failed"
	}
	on_exit _rl_loop_gone "$lo"
	echo "$lo"
}
_rl_loop_gone() {
	losetup -d "$1"
	udevadm settle
	modprobe -r loop
}

# cgroup_with CONTROLLER NAME: print a new cgroup v2 directory NAME with
# CONTROLLER enabled for it, removed at exit; skips without cgroup2 or the
# controller.
cgroup_with() {
	local root=/sys/fs/cgroup
	[ -f "$root/cgroup.controllers" ] || skip "no cgroup2 at $root"
	grep -qw "$1" "$root/cgroup.controllers" || skip "no $1 controller"
	echo "+$1" >"$root/cgroup.subtree_control"
	mkdir "$root/$2"
	on_exit rmdir "$root/$2"
	echo "$root/$2"
}

# The rloop helpers (rl_*), for every test.
. "${BASH_SOURCE[0]%/*}/rloop-lib.sh"

# errfs_mount STORE: mount tests/errfs.py, a FUSE file system serving STORE
# as MOUNTPOINT/disk, whose reads, writes or fsyncs fail or stall on request
# (see there); print MOUNTPOINT. Unmounted at exit.
# _rl_errfs_stop MNT PID: unmount errfs and wait for its daemon to exit, so
# that its store file is closed before the file system under it unmounts.
_rl_errfs_stop() {
	local i
	umount_if_mounted "$1"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$2" 2>/dev/null || return 0
		sleep 0.1
	done
	fail "errfs (pid $2) did not exit after its unmount"
}
errfs_mount() {
	local mnt i
	[ -c /dev/fuse ] || fail "no /dev/fuse: the kernel lacks CONFIG_FUSE_FS"
	/usr/bin/python3 -c 'import fusepy' 2>/dev/null || fail "no python3-fusepy (scripts/setup.sh installs it)"
	mnt=$(scratch_dir)
	/usr/bin/python3 "$RLOOP_TOP/tests/errfs.py" "$mnt" "$1" >/dev/null 2>"$RLOOP_TEST_TMP/errfs.log" &
	on_exit _rl_errfs_stop "$mnt" $!
	for ((i = 0; i < 100; i++)); do
		! mountpoint -q "$mnt" || break
		sleep 0.1
	done
	mountpoint -q "$mnt" || fail "errfs did not mount: $(cat "$RLOOP_TEST_TMP/errfs.log")"
	echo "$mnt"
}
