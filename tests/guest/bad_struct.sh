#!/bin/bash
# The create structure is checked before anything else: a wrong size field,
# unknown flags or non-zero reserved words give EINVAL; an ioctl number with
# another structure size, or an unknown command, ENOTTY; without
# CAP_SYS_ADMIN, EPERM.
# timeout: 120
. "${0%/*}/../lib.sh"

need_disk 1
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 16M "$dir/backing"
f=(--file "$dir/backing" --open rw)
for size in 0 64 71 73 80 4096; do
	expect_errno EINVAL create "${f[@]}" --size $size
done
for flags in 2 16 32 0x100 0x80000000; do
	expect_errno EINVAL create "${f[@]}" --flags $flags
done
expect_errno EINVAL create "${f[@]}" --reserved0 1
for i in 0 1 2 3; do
	expect_errno EINVAL create "${f[@]}" --reserved $i=1
done
expect_errno ENOTTY create "${f[@]}" --cmd-size 64
expect_errno ENOTTY create "${f[@]}" --cmd-size 80
expect_errno ENOTTY ioctl /dev/rloop-control 0x4c00
expect_errno ENOTTY ioctl /dev/rloop-control 0x12345678
[ -z "$(block_devices rloop)" ] || fail "a refused create left a device"
if command -v capsh >/dev/null; then
	out=$(capsh --drop=cap_sys_admin -- -c "$RLOOP_RAW create --file $dir/backing --open rw" 2>&1) || true
	assert_eq "$out" "err EPERM" "create without CAP_SYS_ADMIN"
fi
