#!/bin/bash
# rloopctl's errors: one line naming the file or device and the reason, exit
# status 1 for a failed operation and 2 for a usage error; --help everywhere.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 1
need_tool "$RLOOPCTL"
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs -s size=512)
truncate -s 16M "$dir/backing"

# expect_fail STATUS PATTERN ARGS...: rloopctl ARGS fails with STATUS and a
# one-line message matching PATTERN.
expect_fail() {
	local want=$1 pattern=$2 out status=0
	shift 2
	out=$("$RLOOPCTL" "$@" 2>&1) || status=$?
	assert_eq "$status" "$want" "exit status of rloopctl $*"
	grep -Eq -- "$pattern" <<<"$out" || fail "rloopctl $*: message '$out' does not match '$pattern'"
}
expect_fail 1 "^rloopctl: $dir/nope: .*(No such file|not exist)" create "$dir/nope"
expect_fail 1 "^rloopctl: $dir: .*not a regular file or block device" create "$dir"
expect_fail 1 "^rloopctl: /proc/version: .*direct I/O" create /proc/version
expect_fail 1 "^rloopctl: $dir/backing: .*offset.*(align|multiple)" create -o 1000 "$dir/backing"
expect_fail 1 "^rloopctl: $dir/backing: block size must be a power of two from 512 to the page size \(sector size 3; page size [0-9]+; " create -b 3 "$dir/backing"
# The module's rules, named before the ioctl.
expect_fail 1 "^rloopctl: $dir/backing: offset at or beyond the end of the backing file \(offset 16777216; " create -o 16M "$dir/backing"
expect_fail 1 "^rloopctl: $dir/backing: block size must be a power of two from 512 to the page size \(sector size 1048576; " create -b 1M "$dir/backing"
# Detaching an open device, as losetup -d: it succeeds, says so, and the
# device goes on its last close.
dev=$(rl_create "$dir/backing")
exec 3<"$dev"
msg=$("$RLOOPCTL" detach "$dev" 2>&1) || fail "detach of an open device failed: $msg"
[[ "$msg" == "rloopctl: $dev: busy: autoclear turned on, it is detached on its last close" ]] ||
	fail "detach of an open device said: $msg"
[ -e "/sys/block/${dev#/dev/}" ] || fail "an open device went at detach"
assert_eq "$(rl_attr "$dev" autoclear)" 1 "autoclear after a busy detach"
exec 3<&-
rl_gone "$dev"
expect_fail 1 "^rloopctl: /dev/rloop999: " detach /dev/rloop999
# Usage errors: clap's message, with the same prefix as every other error.
expect_fail 2 "^rloopctl: " create
expect_fail 2 "^rloopctl: invalid value '12Q' for '--offset <SIZE>'" create -o 12Q "$dir/backing"
expect_fail 2 "^rloopctl: .*unknown column: NOPE" list -O NOPE
expect_fail 2 "^rloopctl: unrecognized subcommand 'frobnicate'" frobnicate
expect_fail 2 "^rloopctl: invalid value 'off' for '--direct-io.*direct I/O" create --direct-io=off "$dir/backing"
for cmd in create detach list find set-capacity; do
	"$RLOOPCTL" "$cmd" --help >/dev/null || fail "rloopctl $cmd --help failed"
done
"$RLOOPCTL" --help >/dev/null || fail "rloopctl --help failed"
