#!/bin/bash
# RLOOP_SET_CAPACITY changes the device: as for loop's LOOP_SET_CAPACITY, it
# needs a writable open or CAP_SYS_ADMIN. A user without either gets EPERM,
# and no line is logged for it.
# timeout: 120
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd setpriv
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 16M "$dir/backing"
dev=$(rl_create "$dir/backing")
# udev owns the modes of /dev nodes and resets them on every event for the
# disk (add, and the change its watch sends after a writable close), so
# the unprivileged user gets a private node of its own, on a tmpfs of the
# test's (a distribution's /tmp is mounted nodev).
nodes=$(scratch_dir tmpfs)
chmod 755 "$nodes"
node=$nodes/rloop
read -r major minor < <(stat -c '%Hr %Lr' "$dev")
mknod -m 0666 "$node" b "$major" "$minor"
truncate -s 32M "$dir/backing"
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all)
klog_mark
out=$("${as_nobody[@]}" "$RLOOP_RAW" ioctl "$node" 0xd102 --open ro 2>&1 || true)
[[ "$out" == *"err EPERM"* ]] || fail "read-only open without CAP_SYS_ADMIN: want err EPERM, got: $out"
assert_eq "$(blockdev --getsize64 "$dev")" $((16 << 20)) "size after the refused call"
# A writable open is enough.
out=$("${as_nobody[@]}" "$RLOOP_RAW" ioctl "$node" 0xd102 --open rw 2>&1 || true)
[[ "$out" == "ok"* ]] || fail "read-write open: want ok, got: $out"
assert_eq "$(blockdev --getsize64 "$dev")" $((32 << 20)) "size after set-capacity"
logged=$(klog_since_mark | grep -c 'rloop: ' || true)
assert_eq "$logged" 0 "kernel log lines from set-capacity"
