#!/bin/bash
# guest/fstests.sh (the guest half of scripts/fstests.sh) hands an
# fstests tree rloop devices: with a stand-in ./check that inspects what it
# was given, over md raid0, the devices are md over rloop, TEST_DEV carries
# the file system, local.config says so, the check arguments and exit status
# pass through, and the guest is left clean.
# timeout: 300
. "${0%/*}/../lib.sh"

need_disk 2
need_tool "$RLOOPCTL"
need_cmd mdadm blkid
load_rloop
tree=$(scratch_dir)
mkdir -p "$tree/ltp"
# The stand-in: checks its environment as fstests' ./check would need it,
# says what it saw, exits 3 when asked to fail.
cat >"$tree/check" <<'EOF'
#!/bin/bash
set -eu
. ./local.config
[ -b "$TEST_DEV" ] && [ -b "$SCRATCH_DEV" ] || { echo "not block devices"; exit 10; }
[ "$(blkid -o value -s TYPE "$TEST_DEV")" = "$FSTYP" ] || { echo "TEST_DEV has no $FSTYP"; exit 11; }
mount "$TEST_DEV" "$TEST_DIR"
echo fstests-stand-in >"$TEST_DIR/probe"
sync
umount "$TEST_DIR"
mkdir -p "$RESULT_BASE"
echo "$*" >"$RESULT_BASE/args"
touch ./written-by-check # the tree must be writable
for d in "$TEST_DEV" "$SCRATCH_DEV"; do
	b=${d#/dev/}
	if [ -d "/sys/block/$b/md" ]; then
		echo "$d md: $(ls "/sys/block/$b/slaves" | tr '\n' ' ')"
	else
		echo "$d"
	fi
done
echo "Ran: $*"
[ "$1" != fail ] || { echo "Failures: $*"; exit 3; }
echo "Passed all 1 tests"
EOF
chmod +x "$tree/check"

run() { # EXPECTED-STATUS ARGS...
	local want=$1 rc=0 left
	shift
	RLOOP_OUT=$RLOOP_TEST_TMP/out RLOOP_DISKS="${DISKS[0]} ${DISKS[1]}" \
		"$RLOOP_TOP/guest/fstests.sh" --file-size 64 "$@" >"$RLOOP_TEST_TMP/log" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || fail "guest/fstests.sh $*: exit $rc, want $want: $(tail -n 5 "$RLOOP_TEST_TMP/log")"
	# Everything it set up is gone again.
	left=$(block_devices rloop md)
	[ -z "$left" ] || fail "guest/fstests.sh $* left devices: ${left//$'\n'/ }"
	! grep -q " $tree " /proc/self/mounts || fail "guest/fstests.sh $* left $tree mounted"
}

# One run (each boots md and mkfs's): ext4, md raid0, a failing ./check.
run 3 --fs ext4 --raid0 "$tree" fail generic/002
grep -q '^Failures: fail generic/002$' "$RLOOP_TEST_TMP/log" || fail "no fstests summary in the output"
assert_eq "$(cat "$RLOOP_TEST_TMP/out/fstests/results/args")" "fail generic/002" "./check arguments"
grep -q '^export FSTYP=ext4$' "$RLOOP_TEST_TMP/out/fstests/local.config" || fail "local.config lacks FSTYP=ext4"
[ ! -e "$tree/written-by-check" ] || fail "./check wrote through to the user's tree, not to the overlay"
n=$(grep -c '^/dev/md[0-9]* md: rloop[0-9]* rloop[0-9]* $' "$RLOOP_TEST_TMP/log" || true)
assert_eq "$n" 2 "md raid0 arrays over two rloop devices each (log: $(tr '\n' '|' <"$RLOOP_TEST_TMP/log"))"
