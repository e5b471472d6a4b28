#!/bin/bash
# Two callers at once (two `make check`s, or check and bench's vm.sh): the
# second waits for the first's build instead of building into the same
# directory, then prints the same finished build; make builds once.
. "${0%/*}/../lib.sh"
. "$RLOOP_TOP/tests/kernel-fixture.sh"

export KF_HOLD=$KF_WORK/release
"$KF_TOP/scripts/kernel.sh" test >"$KF_WORK/first.out" 2>"$KF_WORK/first.err" &
first_pid=$!
kill_at_exit "$first_pid"
# Whatever happens, the held build step ends.
on_exit touch "$KF_HOLD"
# The first holds the lock once its build step has started.
for ((i = 0; i < 600; i++)); do
	grep -q '^bzImage' "$KF_LOG" && break
	sleep 0.1
done
grep -q '^bzImage' "$KF_LOG" || fail "the first caller never reached its build step: $(tail -n 5 "$KF_WORK/first.err")"
"$KF_TOP/scripts/kernel.sh" test >"$KF_WORK/second.out" 2>"$KF_WORK/second.err" &
second_pid=$!
kill_at_exit "$second_pid"
for ((i = 0; i < 600; i++)); do
	grep -qs 'another build of .* is running: waiting for it' "$KF_WORK/second.err" && break
	sleep 0.1
done
grep -q 'another build of .* is running: waiting for it' "$KF_WORK/second.err" ||
	fail "the second caller did not wait for the first: $(tail -n 5 "$KF_WORK/second.err")"
touch "$KF_HOLD"
rc=0
wait "$first_pid" || rc=$?
assert_eq "$rc" 0 "exit status of the first caller"
rc=0
wait "$second_pid" || rc=$?
assert_eq "$rc" 0 "exit status of the second caller"
cp "$KF_WORK/first.out" "$KF_OUT"
build=$(kf_built test)
assert_eq "$(cat "$KF_WORK/second.out")" "$build" "the build the second caller printed"
grep -q "built meanwhile: $build" "$KF_WORK/second.err" || fail "the second caller did not take the first's build"
assert_eq "$(grep -c '^bzImage' "$KF_LOG")" 1 "build steps run"
