#!/bin/bash
# Backing files on btrfs. btrfs answers no STATX_DIOALIGN and has no single
# device, and it serves direct I/O unaligned to its sector size through its
# page cache. So rloop takes the sector size as the block size it inherits
# (sysfs dio_align "4096 assumed"), and a bio smaller than that never
# reaches the file: the block layer refuses a 512-byte O_DIRECT write with
# EINVAL, and a create asking for 512-byte blocks fails with EINVAL. On a
# checksummed file and on a nodatacow one (chattr +C, no
# checksums), fio verifies random writes through rloop, and a scrub of the
# file system then finds every checksum right.
# timeout: 300
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd mkfs.btrfs btrfs fio chattr
grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null || skip "no btrfs in this kernel"
load_rloop
dir=$(scratch_dir "${DISKS[0]}" btrfs)
sector=$(stat -f -c %S "$dir")
assert_eq "$sector" 4096 "btrfs sector size"

for kind in checksummed nodatacow; do
	f=$dir/$kind
	touch "$f"
	# Only on an empty file: +C sets nodatacow and nodatasum.
	[ "$kind" = checksummed ] || chattr +C "$f" || fail "chattr +C $f failed"
	truncate -s 64M "$f"
	dev=$(rl_create "$f")
	assert_eq "$(rl_queue "$dev" logical_block_size)" "$sector" "logical block size over a $kind btrfs file"
	assert_eq "$(rl_attr "$dev" dio_align)" "$sector assumed" "sysfs dio_align over a $kind btrfs file"
	if out=$(dd if=/dev/zero of="$dev" bs=512 count=1 oflag=direct 2>&1); then
		fail "a 512-byte O_DIRECT write to rloop over a $kind btrfs file succeeded"
	fi
	grep -q 'Invalid argument' <<<"$out" || fail "512-byte O_DIRECT write: want EINVAL, got: $out"
	# Nor can a smaller block size be asked for.
	expect_errno EINVAL create --file "$f" --open rw --block-size 512
	fio --name="$kind" --filename="$dev" --direct=1 --ioengine=io_uring --iodepth=8 \
		--rw=randwrite --bsrange=4k-64k --size=32M --verify=crc32c --verify_fatal=1 \
		--verify_state_save=0 --output=/dev/null || fail "fio verify on rloop over a $kind btrfs file failed"
	cmp "$dev" "$f" || fail "$dev and its $kind backing file differ"
	"$RLOOPCTL" detach "$dev"
	rl_gone "$dev"
done

sync
out=$(btrfs scrub start -B "$dir" 2>&1) || fail "btrfs scrub failed: $out"
grep -q "no errors found" <<<"$out" || fail "btrfs scrub found errors: $out"
