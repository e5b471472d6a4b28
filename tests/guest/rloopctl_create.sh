#!/bin/bash
# rloopctl create with each option, checked against sysfs; sizes with
# losetup's suffixes.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 1
need_tool "$RLOOPCTL"
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs -s size=512)
truncate -s 64M "$dir/backing"

dev=$("$RLOOPCTL" create "$dir/backing")
on_exit rl_detach_if_present "$dev"
[[ "$dev" =~ ^/dev/rloop[0-9]+$ ]] || fail "create printed '$dev'"
[ -b "$dev" ] || fail "$dev is not a block device"
assert_eq "$(blockdev --getsize64 "$dev")" $((64 << 20)) "size"
assert_eq "$(cat "/sys/block/${dev#/dev/}/ro")" 0 "ro"

# Every option at once; --autoclear with a command that checks the device
# while rloopctl holds it, which then goes.
"$RLOOPCTL" create -r -o 1MiB --sizelimit 16M -b 4096 --autoclear -P --direct-io=on \
	"$dir/backing" -- bash -c '
	. "$RLOOP_TOP/tests/lib.sh"
	dev=$1
	n=${dev#/dev/}
	assert_eq "$(cat "/sys/block/$n/ro")" 1 "--read-only"
	assert_eq "$(rl_attr "$dev" offset)" $((1 << 20)) "--offset 1MiB"
	assert_eq "$(rl_attr "$dev" sizelimit)" $((16 << 20)) "--sizelimit 16M"
	assert_eq "$(rl_queue "$dev" logical_block_size)" 4096 "--sector-size"
	assert_eq "$(rl_attr "$dev" autoclear)" 1 "--autoclear"
	assert_eq "$(rl_attr "$dev" partscan)" 1 "--partscan"
	echo "$dev" >"$RLOOP_TEST_TMP/autoclear-dev"' bash {} >/dev/null || fail "create with every option failed"
rl_gone "$(cat "$RLOOP_TEST_TMP/autoclear-dev")"

dev=$(rl_create --offset 4KiB --sizelimit 1000KB "$dir/backing")
assert_eq "$(rl_attr "$dev" offset)" 4096 "--offset 4KiB"
assert_eq "$(rl_attr "$dev" sizelimit)" 1000000 "--sizelimit 1000KB (powers of 1000)"
# The last partial 512-byte block is not part of the device.
assert_eq "$(blockdev --getsize64 "$dev")" 999936 "size with --sizelimit 1000KB"
dev=$(rl_create --offset 4096 --sizelimit 1G "$dir/backing")
assert_eq "$(blockdev --getsize64 "$dev")" $(((64 << 20) - 4096)) "size limit past EOF is clamped"
