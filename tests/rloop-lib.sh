# rloop helpers for the guest tests, on top of lib.sh; sourced after it:
#
#   . "$(dirname "$0")/../lib.sh"
#   . "$(dirname "$0")/../rloop-lib.sh"

# rl_create [RLOOPCTL-CREATE-ARGS...] FILE: create and attach; prints the
# device; it is detached at exit if still there.
rl_create() {
	local dev
	need_tool "$RLOOPCTL"
	dev=$("$RLOOPCTL" create "$@") || fail "rloopctl create $* failed"
	[ -b "$dev" ] || fail "rloopctl create printed '$dev', not a block device"
	on_exit rl_detach_if_present "$dev"
	echo "$dev"
}

# rl_detach_if_present DEV: a clean-up for devices a test may remove itself.
rl_detach_if_present() {
	[ -e "/sys/block/${1#/dev/}" ] || return 0
	"$RLOOPCTL" detach "$1"
}

# rl_index DEV: N of /dev/rloopN.
rl_index() {
	echo "${1#/dev/rloop}"
}

# rl_attr DEV NAME: /sys/block/rloopN/rloop/NAME.
rl_attr() {
	cat "/sys/block/${1#/dev/}/rloop/$2"
}

# rl_queue DEV NAME: /sys/block/rloopN/queue/NAME.
rl_queue() {
	cat "/sys/block/${1#/dev/}/queue/$2"
}

# rl_gone DEV: wait (5 s at most) for DEV to disappear; fails if it stays.
rl_gone() {
	local i
	for i in $(seq 50); do
		[ -e "/sys/block/${1#/dev/}" ] || return 0
		sleep 0.1
	done
	fail "$1 is still there"
}

# expect_ok RLOOP-RAW-ARGS...: run `rloop-raw ARGS...`, which must succeed;
# prints its device (ok rloopN -> /dev/rloopN) and detaches it at exit.
expect_ok() {
	local out
	need_tool "$RLOOP_RAW"
	out=$("$RLOOP_RAW" "$@" 2>&1) || fail "rloop-raw $*: want ok, got: $out"
	case "$out" in
	"ok rloop"*)
		on_exit rl_detach_if_present "/dev/${out#ok }"
		echo "/dev/${out#ok }"
		;;
	ok*) echo "$out" ;;
	*) fail "rloop-raw $*: unexpected output: $out" ;;
	esac
}
