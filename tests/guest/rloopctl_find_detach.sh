#!/bin/bash
# rloopctl find lists the devices of a file; detach takes several devices in
# the forms /dev/rloopN, rloopN and N; detach --all (-D) removes every one.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 1
need_tool "$RLOOPCTL"
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 32M "$dir/a" "$dir/b"
a1=$(rl_create "$dir/a")
a2=$(rl_create -o 1M "$dir/a")
b=$(rl_create "$dir/b")
found=$("$RLOOPCTL" find "$dir/a")
assert_eq "$(wc -l <<<"$found")" 2 "devices of $dir/a"
grep -q "^$a1:" <<<"$found" && grep -q "^$a2:" <<<"$found" || fail "find output: $found"
grep -q "^$b:" <<<"$found" && fail "find lists $b for $dir/a"
assert_eq "$("$RLOOPCTL" find "$dir/b" | cut -d: -f1)" "$b" "find $dir/b"
# losetup -j's line: the file system's device number as stat %d prints it,
# zero-padded to four digits, then the inode.
assert_eq "$("$RLOOPCTL" find "$dir/b")" \
	"$b: [$(printf %04d "$(stat -c %d "$dir/b")")]:$(stat -c %i "$dir/b") ($dir/b)" "find line of $b"
assert_eq "$("$RLOOPCTL" find -o 1M "$dir/a")" \
	"$a2: [$(printf %04d "$(stat -c %d "$dir/a")")]:$(stat -c %i "$dir/a") ($dir/a), offset 1048576" "find -o 1M"

"$RLOOPCTL" detach "$a1" "${a2#/dev/}" || fail "detach of two devices failed"
rl_gone "$a1"
rl_gone "$a2"
assert_eq "$("$RLOOPCTL" find "$dir/a")" "" "find after detach"
c=$(rl_create "$dir/a")
"$RLOOPCTL" detach "$(rl_index "$c")" || fail "detach by index failed"
rl_gone "$c"
e=$(rl_create "$dir/a")
"$RLOOPCTL" detach --all || fail "detach --all failed"
# udev may still be probing the new disk: it then goes on that probe's
# close (detach turned autoclear on), as loop's does.
rl_gone "$e"
assert_eq "$(block_devices rloop)" "" "devices after detach --all"
# -D, as losetup's; -v names each device it detached.
d=$(rl_create "$dir/a")
udevadm settle # udev's probe holds a new disk open for a moment: it would be busy
out=$("$RLOOPCTL" -v detach -D 2>&1) || fail "detach -D failed: $out"
assert_eq "$out" "rloopctl: $d: detached" "detach -v -D"
rl_gone "$d"
