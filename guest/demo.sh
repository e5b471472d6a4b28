#!/bin/bash
# Runs in the guest for `make run` (scripts/run.sh): shows rloop at work,
# one command at a time.
#
# Always: insmod, the module's kernel log lines, lsmod, rmmod.
# Once rloopctl is built and the module creates /dev/rloop-control: an XFS
# on the VM's disk holds a 512M file; rloopctl makes it /dev/rloopN; XFS on
# that, 64M of random data written and verified across a remount, rloopctl
# list, detach.
. "$(dirname "$0")/../tests/lib.sh"

step() { printf '\n### %s\n' "$*"; }
# run CMD...: show a command, then run it.
run() {
	local shown=("${1##*/}" "${@:2}")
	printf '$ %s\n' "${shown[*]}"
	"$@"
}
# show 'PIPELINE': the same for a shell pipeline.
show() {
	printf '$ %s\n' "$1"
	eval "$1"
}
# The module's kernel log lines ("rloop: ...", "rloop0: ...").
klog_rloop='dmesg | grep -E "\brloop[0-9]*: " | tail -n 5'

step "load the module"
klog_mark
run insmod "$RLOOP_KO"
on_exit unload_rloop
show "$klog_rloop"
show 'lsmod | grep rloop'

if [ -x "$RLOOPCTL" ] && [ -c "$RLOOP_CONTROL" ]; then
	need_disk 1
	work=$(scratch_dir)
	back=$work/backing inner=$work/inner

	step "a file on XFS on ${DISKS[0]} as the backing file"
	run mkfs.xfs -f -q "${DISKS[0]}"
	mkdir -p "$back" "$inner"
	run mount "${DISKS[0]}" "$back"
	on_exit umount_if_mounted "$back"
	# 512M: mkfs.xfs wants at least 300M.
	run fallocate -l 512M "$back/disk.img"

	step "create /dev/rloopN on it (one ioctl)"
	printf '$ %s\n' "rloopctl create $back/disk.img"
	out=$("$RLOOPCTL" create "$back/disk.img")
	echo "$out"
	# rloopctl prints the device or its index.
	dev=$(grep -o '/dev/rloop[0-9][0-9]*' <<<"$out" | head -n 1) ||
		dev=/dev/rloop$(grep -o '^[0-9][0-9]*$' <<<"$out" | head -n 1) ||
		fail "cannot tell the new device from rloopctl's output: $out"
	sys=/sys/block/${dev#/dev/}
	on_exit eval "[ ! -e $sys ] || $RLOOPCTL detach $dev"
	run cat "$sys/size" "$sys/queue/logical_block_size"

	step "XFS on $dev, 64M of random data"
	run mkfs.xfs -f -q "$dev"
	run mount "$dev" "$inner"
	on_exit umount_if_mounted "$inner"
	run dd if=/dev/urandom of="$inner/data" bs=1M count=64 oflag=direct status=none
	run sha256sum "$inner/data"
	sum=$(sha256sum <"$inner/data")

	step "remount and verify"
	run umount "$inner"
	run mount "$dev" "$inner"
	run sha256sum "$inner/data"
	assert_eq "$(sha256sum <"$inner/data")" "$sum" "checksum after remount"
	echo "the same: verified"

	step "list and detach"
	run "$RLOOPCTL" list
	run umount "$inner"
	run "$RLOOPCTL" detach "$dev"
	[ ! -e "$sys" ] || fail "$dev is still there after detach"
	run umount "$back"
else
	step "(no disk demo: rloopctl not built or no $RLOOP_CONTROL)"
fi

step "unload the module"
run rmmod rloop
show "$klog_rloop"
echo
echo "demo done"
