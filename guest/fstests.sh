#!/bin/bash
# The guest half of scripts/fstests.sh: puts rloop devices under a user's
# fstests tree and runs its ./check.
#
# Usage: guest/fstests.sh [--fs TYPE] [--raid0] [--file-size MB] FSTESTS_DIR [CHECK-ARGS...]
#   --fs TYPE   the file system under test (FSTYP; default xfs)
#   --raid0     TEST_DEV and SCRATCH_DEV are md raid0 arrays (4K chunk)
#               over two rloop devices each, instead of one rloop device
#   --file-size MB  size of each backing file (default: an equal share of
#               90% of its disk)
#   CHECK-ARGS  passed to ./check (tests or -g GROUP; default -g quick)
#
# Uses the disks in $RLOOP_DISKS: each gets an xfs holding backing files,
# spread over the disks in turn (two files, four with --raid0), each attached
# with `rloopctl create`. The fstests tree is overlaid with a tmpfs (it may
# be read-only here), results go to $RLOOP_OUT/fstests/results and the
# generated local.config to $RLOOP_OUT/fstests/local.config. Exit status:
# ./check's.
set -euo pipefail
top=${RLOOP_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top/scripts/on-error.sh"
: "${RLOOPCTL:=$top/tools/target/release/rloopctl}"
: "${RLOOP_KO:=$top/rloop.ko}"
: "${RLOOP_OUT:?run in the VM (scripts/fstests.sh)}"

die() { echo "fstests: $*" >&2; exit 2; }
fstyp=xfs raid0=0 file_mb=
while [ $# -gt 0 ]; do
	case "$1" in
	--fs) fstyp=${2:?--fs needs a type}; shift 2 ;;
	--raid0) raid0=1; shift ;;
	--file-size) file_mb=${2:?--file-size needs MB}; shift 2 ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
fstests=${1:?usage: guest/fstests.sh [--fs TYPE] [--raid0] FSTESTS_DIR [CHECK-ARGS...]}
shift
[ $# -gt 0 ] || set -- -g quick
[ -x "$fstests/check" ] || die "$fstests/check is missing: not an fstests tree"
read -ra disks <<<"${RLOOP_DISKS:-}"
[ ${#disks[@]} -gt 0 ] || die "no disks (RLOOP_DISKS is empty)"

work=/run/fstests
out=$RLOOP_OUT/fstests
mkdir -p "$work" "$out/results"

# Leaves the guest as it found it (a test runs this too), newest first.
cleanups=()
clean_up() {
	local i
	for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do eval "${cleanups[i]}" || true; done
}
trap clean_up EXIT
later() { cleanups+=("$*"); }
if [ ! -e /sys/module/rloop ]; then
	insmod "$RLOOP_KO"
	later rmmod rloop
fi

# Backing file systems, one per disk.
nfiles=$((raid0 ? 4 : 2))
per_disk=() bk=()
for i in "${!disks[@]}"; do
	bk[i]=$work/backing$i
	mkdir -p "${bk[i]}"
	mkfs.xfs -f -q "${disks[i]}"
	mount "${disks[i]}" "${bk[i]}"
	later umount "${bk[i]}"
	per_disk[i]=0
done
for ((f = 0; f < nfiles; f++)); do
	i=$((f % ${#disks[@]}))
	per_disk[i]=$((per_disk[i] + 1))
done

# Each file gets an equal share of 90% of its disk, in whole MiB.
devs=()
for ((f = 0; f < nfiles; f++)); do
	i=$((f % ${#disks[@]}))
	size=${file_mb:-$(($(blockdev --getsize64 "${disks[i]}") * 9 / 10 / per_disk[i] >> 20))}
	file=${bk[i]}/file$f
	truncate -s "${size}M" "$file"
	devs+=("$("$RLOOPCTL" create "$file")")
	later "\"\$RLOOPCTL\" detach ${devs[-1]}"
done
echo "fstests: rloop devices: ${devs[*]}"

if [ "$raid0" -eq 1 ]; then
	mdadm --create /dev/md/fstest --run --quiet --level=0 --chunk=4 --raid-devices=2 \
		--metadata=1.2 "${devs[0]}" "${devs[1]}"
	mdadm --create /dev/md/fscratch --run --quiet --level=0 --chunk=4 --raid-devices=2 \
		--metadata=1.2 "${devs[2]}" "${devs[3]}"
	later mdadm --stop /dev/md/fstest
	later mdadm --stop /dev/md/fscratch
	test_dev=$(readlink -f /dev/md/fstest) scratch_dev=$(readlink -f /dev/md/fscratch)
else
	test_dev=${devs[0]} scratch_dev=${devs[1]}
fi
echo "fstests: TEST_DEV=$test_dev SCRATCH_DEV=$scratch_dev FSTYP=$fstyp"

# (No discard first: over md's 4K chunks that is one fallocate per 4K.)
case "$fstyp" in
xfs) mkfs.xfs -f -q -K "$test_dev" ;;
ext2 | ext3 | ext4) "mkfs.$fstyp" -F -q -E nodiscard "$test_dev" ;;
*) "mkfs.$fstyp" "$test_dev" ;;
esac
mkdir -p "$work/test" "$work/scratch"

# ./check writes into its own tree.
mkdir -p "$work/ovl/upper" "$work/ovl/work"
mount -t overlay overlay \
	-o "lowerdir=$fstests,upperdir=$work/ovl/upper,workdir=$work/ovl/work" "$fstests"
later umount "$fstests"
# ./check leaves TEST_DIR mounted, and SCRATCH_MNT after a failure.
later "! mountpoint -q $work/scratch || umount $work/scratch"
later "! mountpoint -q $work/test || umount $work/test"
cat >"$fstests/local.config" <<EOF
export FSTYP=$fstyp
export TEST_DEV=$test_dev
export TEST_DIR=$work/test
export SCRATCH_DEV=$scratch_dev
export SCRATCH_MNT=$work/scratch
export RESULT_BASE=$out/results
EOF
cp "$fstests/local.config" "$out/local.config"

set +e
(cd "$fstests" && ./check "$@") 2>&1 | tee "$out/check.log"
rc=${PIPESTATUS[0]}
set -e
echo "fstests: ./check exit status $rc; log $out/check.log"
exit "$rc"
