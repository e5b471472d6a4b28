#!/bin/bash
# The workers' adaptive lingering (how long a worker whose list ran dry
# keeps watching it before it sleeps): the module parameter gives new devices
# their cap, the device's linger_us takes 0 to 1000 and refuses anything else
# with EINVAL; at queue depth 1 a lingering worker catches bios without being
# woken (linger_stats counts the hits), with linger_us 0 it never lingers and
# bios wake it (linger_stats counts the wake-ups), and an
# idle device lingers not at all: four devices that have just been busy leave
# the guest as idle as it was without them.
# timeout: 300
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd fio
load_rloop
param=/sys/module/rloop/parameters/linger_us
assert_eq "$(cat "$param")" 50 "default of the linger_us parameter"
dir=$(scratch_dir "${DISKS[0]}" xfs)
for i in 0 1 2 3; do truncate -s 64M "$dir/backing$i"; done
dev=$(rl_create "$dir/backing0")
knob=/sys/block/${dev#/dev/}/rloop/linger_us
assert_eq "$(rl_attr "$dev" linger_us)" 50 "linger_us of a new device"

# The knob's range, and the exact errno of what it refuses.
echo 0 >"$knob"
assert_eq "$(rl_attr "$dev" linger_us)" 0 "linger_us after writing 0"
echo 1000 >"$knob"
assert_eq "$(rl_attr "$dev" linger_us)" 1000 "linger_us after writing 1000"
for bad in 1001 -1 abc " 5" 0x10 4294967296 "5 "; do
	expect_write_errno EINVAL "$knob" "$bad"
done
assert_eq "$(rl_attr "$dev" linger_us)" 1000 "linger_us after refused writes"
# The parameter is what the next device starts with; it does not touch this one.
echo 7 >"$param"
on_exit sh -c "echo 50 >$param"
dev1=$(rl_create "$dir/backing1")
assert_eq "$(rl_attr "$dev1" linger_us)" 7 "linger_us of a device made after the parameter changed"
assert_eq "$(rl_attr "$dev" linger_us)" 1000 "linger_us of the older device"
echo 50 >"$param"

# stats DEV: hits misses lingered_us window_us wakeups
stats() { rl_attr "$1" linger_stats; }
qd1() {
	fio --name=qd1 --filename="$1" --direct=1 --ioengine=psync --rw=randread --bs=4k \
		--size=32M --time_based --runtime=3 --output=/dev/null || fail "fio on $1 failed"
}

# Queue depth 1 with a generous cap: the next bio comes while the worker lingers.
read -r h0 m0 us0 _ <<<"$(stats "$dev")"
qd1 "$dev"
read -r h1 m1 us1 w1 wk1 <<<"$(stats "$dev")"
echo "QD1, linger_us 1000: hits $h0 -> $h1, misses $m0 -> $m1, lingered $us0 -> $us1 us, window $w1 us"
[ "$h1" -gt "$h0" ] || fail "no linger window caught a bio at QD1 (hits $h0 -> $h1, misses $m0 -> $m1)"
[ "$us1" -gt "$us0" ] || fail "lingering took no time ($us0 -> $us1 us)"

# Lingering off: not one window.
echo 0 >"$knob"
qd1 "$dev"
read -r h2 m2 us2 w2 wk2 <<<"$(stats "$dev")"
assert_eq "$h2 $m2 $us2 $w2" "$h1 $m1 $us1 0" "linger_stats across a run with linger_us 0"
# Without lingering, bios at QD1 keep finding the worker asleep.
[ "$wk2" -gt "$wk1" ] || fail "no wake-up counted at QD1 with linger_us 0 ($wk1 -> $wk2)"
echo 1000 >"$knob"

# Idle: after the last bio a worker lingers one window at most, then sleeps.
dev2=$(rl_create "$dir/backing2")
dev3=$(rl_create "$dir/backing3")
busy_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
idle_cost() {
	local b0 b1
	sleep 1
	b0=$(busy_jiffies)
	sleep 4
	b1=$(busy_jiffies)
	echo $((b1 - b0))
}
for d in "$dev" "$dev1" "$dev2" "$dev3"; do
	echo 1000 >"/sys/block/${d#/dev/}/rloop/linger_us"
	fio --name=warm --filename="$d" --direct=1 --ioengine=psync --rw=randread --bs=4k \
		--size=32M --number_ios=2000 --output=/dev/null || fail "fio on $d failed"
done
# hits misses lingered_us wakeups: the window is what the next bio would get.
counters() { for d in "$dev" "$dev1" "$dev2" "$dev3"; do stats "$d" | cut -d' ' -f1-3,5; done; }
before=$(counters)
with=$(idle_cost)
after=$(counters)
assert_eq "$after" "$before" "linger_stats of four idle devices"
# Idle for seconds: a bio arriving now would find no worker lingering.
for d in "$dev" "$dev1" "$dev2" "$dev3"; do
	assert_eq "$(stats "$d" | cut -d' ' -f4)" 0 "linger window of idle $d"
done
for d in "$dev" "$dev1" "$dev2" "$dev3"; do "$RLOOPCTL" detach "$d"; done
without=$(idle_cost)
hz=$(getconf CLK_TCK)
# One spinning worker would show as 4 s of CPU; the guest's own idle noise
# is a few tenths of a second either way under TCG, so allow 1 s.
[ "$with" -le $((without + hz)) ] ||
	fail "an idle guest with four rloop devices used $with jiffies of CPU in 4 s, without them $without"
echo "idle CPU over 4 s: $with jiffies with four devices, $without without (HZ $hz)"
