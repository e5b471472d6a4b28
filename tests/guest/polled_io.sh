#!/bin/bash
# Polled I/O (io_uring IOPOLL): every rloop disk takes polled bios (io_poll
# 1). Where the backing file and its device can poll, the worker issues the
# bio with IOCB_HIPRI, so it lands on a poll queue of the backing device,
# where only a poll completes it, and the submitter's poll through rloop's
# poll_bio does: fio verifies every block, and the backing device's poll
# routine ran. Where they cannot (xfs on a virtio disk without poll queues,
# tmpfs), polled reads and writes complete the usual way, and nothing fails.
# timeout: 360
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd fio
load_rloop
modprobe null_blk nr_devices=1 memory_backed=1 gb=1 poll_queues=2 || skip "no null_blk"
on_exit modprobe -r null_blk
assert_eq "$(cat /sys/block/nullb0/queue/io_poll)" 1 "io_poll of null_blk with poll queues"

# Count calls of null_blk's poll routine with a kprobe event.
tr=/sys/kernel/tracing
if ! mountpoint -q "$tr"; then
	mount -t tracefs nodev "$tr"
	on_exit umount "$tr"
fi
echo 'p:rloop_test/null_poll null_poll' >>"$tr/kprobe_events" || skip "no kprobe on null_poll"
on_exit sh -c "echo 0 >$tr/events/rloop_test/enable; echo '-:rloop_test/null_poll' >>$tr/kprobe_events"
echo 1 >"$tr/events/rloop_test/enable"
polls() { awk '$1 ~ /null_poll$/ { print $2 }' "$tr/kprobe_profile"; }

# polled_verify DEV FILE: polled random writes, each block read back polled
# and checked; then the device and its backing file hold the same bytes.
polled_verify() {
	fio --name=polled --filename="$1" --direct=1 --ioengine=io_uring --hipri --iodepth=4 \
		--rw=randwrite --bs=4k --size=8M --verify=crc32c --verify_fatal=1 \
		--verify_state_save=0 --output=/dev/null || fail "polled fio verify failed on $1"
	cmp "$1" "$2" || fail "$1 and its backing file differ"
}

dir=$(scratch_dir /dev/nullb0 xfs)
truncate -s 64M "$dir/backing"
dev=$(rl_create "$dir/backing")
assert_eq "$(rl_queue "$dev" io_poll)" 1 "io_poll of rloop over a file on xfs on null_blk"
p0=$(polls)
polled_verify "$dev" "$dir/backing"
p1=$(polls)
[ "$p1" -gt "$p0" ] || fail "null_blk was never polled: polled bios did not reach its poll queues"
echo "null_poll calls during the polled run: $((p1 - p0))"

# Unpolled I/O on the same device does not touch the poll queues.
fio --name=plain --filename="$dev" --direct=1 --ioengine=io_uring --iodepth=4 --rw=randread \
	--bs=4k --size=16M --number_ios=2000 --output=/dev/null || fail "fio without --hipri failed"
assert_eq "$(polls)" "$p1" "null_poll calls during unpolled I/O"
"$RLOOPCTL" detach "$dev"

# Backing files that cannot be polled: the usual completion.
vdir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 64M "$vdir/backing"
vdev=$(rl_create "$vdir/backing")
assert_eq "$(rl_queue "$vdev" io_poll)" 1 "io_poll of rloop over a file on xfs on virtio"
polled_verify "$vdev" "$vdir/backing"
tdir=$(scratch_dir tmpfs)
truncate -s 64M "$tdir/backing"
tdev=$(rl_create "$tdir/backing")
assert_eq "$(rl_queue "$tdev" io_poll)" 1 "io_poll of rloop over a file on tmpfs"
polled_verify "$tdev" "$tdir/backing"
assert_eq "$(polls)" "$p1" "null_poll calls during I/O on other backings"
