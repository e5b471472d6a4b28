#!/bin/bash
# Create and remove racing on the same indices while I/O runs on another
# device: every call returns a defined result (ok, EBUSY, ENODEV), the
# survivors keep working, and nothing is left behind.
# timeout: 400
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../rloop-lib.sh"

need_disk 1
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 16M "$dir/a" "$dir/b"
keep=$(rl_create "$dir/a")
dd if=/dev/urandom of=/tmp/pattern bs=1M count=4 status=none
(
	for i in $(seq 8); do
		dd if=/tmp/pattern of="$keep" bs=64k oflag=direct status=none || exit 1
		cmp /tmp/pattern <(dd if="$keep" bs=64k count=64 iflag=direct status=none) || exit 1
	done
) &
io=$!
worker() {
	local i out
	for i in $(seq 25); do
		out=$("$RLOOP_RAW" create --file "$dir/b" --open rw 2>&1) || true
		case "$out" in "ok rloop"* | "err EBUSY") ;; *) echo "create: $out"; return 1 ;; esac
		for n in 1 2 3; do
			out=$("$RLOOP_RAW" remove $n 2>&1) || true
			case "$out" in ok* | "err ENODEV" | "err EBUSY") ;; *) echo "remove: $out"; return 1 ;; esac
		done
	done
}
worker & w1=$!
worker & w2=$!
wait "$w1" || fail "worker 1 saw an unexpected result"
wait "$w2" || fail "worker 2 saw an unexpected result"
wait "$io" || fail "I/O on $keep failed during the races"
for n in 1 2 3 4 5; do "$RLOOP_RAW" remove $n >/dev/null 2>&1 || true; done
assert_eq "$(ls /sys/block | grep -c '^rloop')" 1 "devices left besides $keep"
rm -f /tmp/pattern
