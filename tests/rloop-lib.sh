# shellcheck shell=bash
# rloop helpers for the guest tests, on top of lib.sh, which sources this file:
#
#   . "$(dirname "$0")/../lib.sh"

# rl_create [RLOOPCTL-CREATE-ARGS...] FILE: create and attach; prints the
# device; it is detached at exit if still there.
rl_create() {
	local dev
	need_tool "$RLOOPCTL"
	dev=$("$RLOOPCTL" create "$@") || fail "rloopctl create $* failed"
	[ -b "$dev" ] || fail "rloopctl create printed '$dev', not a block device"
	on_exit rl_detach_if_present "$dev"
	echo "$dev"
}

# rl_detach_if_present DEV: a clean-up for devices a test may remove itself.
# It waits for DEV to go: when udev still probes it (after a writer's close),
# detach only sets autoclear, and the backing file stays open until the
# probe's close; the unmount of its file system, the next clean-up, would
# fail with EBUSY.
rl_detach_if_present() {
	[ -e "/sys/block/${1#/dev/}" ] || return 0
	"$RLOOPCTL" detach "$1"
	rl_gone "$1"
}

# rl_index DEV: N of /dev/rloopN.
rl_index() {
	echo "${1#/dev/rloop}"
}

# rl_attr DEV NAME: /sys/block/rloopN/rloop/NAME.
rl_attr() {
	local v
	read -r v <"/sys/block/${1#/dev/}/rloop/$2" || true
	echo "$v"
}

# rl_queue DEV NAME: /sys/block/rloopN/queue/NAME.
rl_queue() {
	local v
	read -r v <"/sys/block/${1#/dev/}/queue/$2" || true
	echo "$v"
}

# rl_gone DEV: wait (5 s at most) for DEV to disappear; fails if it stays.
rl_gone() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ -e "/sys/block/${1#/dev/}" ] || return 0
		sleep 0.1
	done
	fail "$1 is still there"
}

# expect_ok RLOOP-RAW-ARGS...: run `rloop-raw ARGS...`, which must succeed;
# prints its device (ok rloopN -> /dev/rloopN) and detaches it at exit.
expect_ok() {
	local out
	need_tool "$RLOOP_RAW"
	out=$("$RLOOP_RAW" "$@" 2>&1) || fail "rloop-raw $*: want ok, got: $out"
	case "$out" in
	"ok rloop"*)
		on_exit rl_detach_if_present "/dev/${out#ok }"
		echo "/dev/${out#ok }"
		;;
	ok*) echo "$out" ;;
	*) fail "rloop-raw $*: unexpected output: $out" ;;
	esac
}

# rl_fsx DEV SEED OPS [BYTES]: fsx (the fsx crate) in block mode on the
# first BYTES of DEV (default 4 MiB), with fixed SEED and OPS operations:
# reads, writes, mapped reads and writes, fsync, fdatasync, and
# posix_fadvise (whose DONTNEED drops the cached copy, so later reads come
# from the device again). Fails unless fsx ends A-OK.
rl_fsx() {
	local dev=$1 seed=$2 ops=$3 flen=${4:-$((4 << 20))} dir out
	need_tool "$RLOOP_FSX"
	dir=$(mktemp -d "$RLOOP_TEST_TMP/fsx.XXXXXX")
	cat >"$dir/fsx.toml" <<-TOML
		blockmode = true
		nosizechecks = true
		flen = $flen
		[opsize]
		min = 512
		max = 131072
		align = 512
		[weights]
		close_open = 0
		truncate = 0
		posix_fallocate = 0
		read = 10
		write = 10
		mapread = 3
		mapwrite = 3
		fsync = 2
		fdatasync = 1
		posix_fadvise = 3
	TOML
	out=$("$RLOOP_FSX" -f "$dir/fsx.toml" -P "$dir" -S "$seed" -N "$ops" "$dev" 2>&1) ||
		fail "fsx -S $seed -N $ops on $dev failed: $(tail -n 20 <<<"$out")"
	grep -q 'A-OK' <<<"$out" || fail "fsx on $dev did not end A-OK: $(tail -n 5 <<<"$out")"
	echo "fsx: $dev seed $seed: $ops operations A-OK"
}

# rl_raid0 CHUNK_KB DEV0 DEV1: md raid0 /dev/md127 over DEV0 and DEV1 with
# CHUNK_KB chunks; stopped at exit if still there.
rl_raid0() {
	mdadm --create /dev/md127 --run --quiet --level=0 --chunk="$1" --raid-devices=2 \
		--metadata=1.2 "$2" "$3" || fail "mdadm --create failed"
	on_exit sh -c '[ ! -b /dev/md127 ] || mdadm --stop /dev/md127'
}

# rl_fio_verify DISK FS: fio with verify=crc32c through rloop over a file on
# FS (made on DISK): every block read back is the block written, and the
# device and the file hold the same bytes.
rl_fio_verify() {
	local dir dev
	need_cmd fio
	dir=$(scratch_dir "$1" "$2")
	truncate -s 64M "$dir/backing"
	dev=$(rl_create "$dir/backing")
	fio --name=integrity --filename="$dev" --direct=1 --ioengine=io_uring --iodepth=8 \
		--rw=randwrite --bsrange=4k-64k --size=32M --verify=crc32c --verify_fatal=1 \
		--output=/dev/null || fail "fio verify failed on $dev"
	cmp "$dev" "$dir/backing" || fail "the device and its backing file differ"
}
