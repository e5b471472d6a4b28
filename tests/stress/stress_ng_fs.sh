#!/bin/bash
# stress-ng's I/O and file-system stressors (hdd with verify, iomix, aio,
# fallocate, fpunch) on xfs and on ext4 over rloop, then xfs_repair -n and
# e2fsck -fn find the file systems clean.
# timeout: 1500
. "${0%/*}/../lib.sh"

need_disk 2
need_cmd stress-ng xfs_repair e2fsck
load_rloop
secs=${RLOOP_STRESS_NG_SECS:-90}
for fs in xfs ext4; do
	case $fs in xfs) disk=${DISKS[0]} ;; ext4) disk=${DISKS[1]} ;; esac
	bk=$(scratch_dir "$disk" xfs)
	truncate -s 768M "$bk/backing"
	dev=$(rl_create "$bk/backing")
	mnt=$(scratch_dir "$dev" "$fs")
	stress-ng --temp-path "$mnt" --timeout "${secs}s" --metrics-brief --verify \
		--hdd 2 --hdd-opts wr-seq,rd-rnd --hdd-bytes 64M \
		--iomix 1 --iomix-bytes 64M --aio 1 --aio-requests 16 \
		--fallocate 1 --fallocate-bytes 64M --fpunch 1 \
		>"$RLOOP_TEST_TMP/stress-ng.$fs" 2>&1 ||
		fail "stress-ng on $fs over $dev failed: $(tail -n 10 "$RLOOP_TEST_TMP/stress-ng.$fs")"
	grep -q 'successful run completed' "$RLOOP_TEST_TMP/stress-ng.$fs" ||
		fail "stress-ng on $fs did not complete: $(tail -n 5 "$RLOOP_TEST_TMP/stress-ng.$fs")"
	# stress-ng's last children may still hold files there for a moment.
	for try in 1 2 3 4 5 6 7 8 9 10; do
		umount "$mnt" 2>/dev/null && break
		[ "$try" -lt 10 ] || fail "umount $mnt: still busy 10 s after stress-ng on $fs ended ($(fuser -vm "$mnt" 2>&1 | tr '\n' ' '))"
		sleep 1
	done
	case $fs in
	xfs) xfs_repair -n "$dev" >"$RLOOP_TEST_TMP/fsck" 2>&1 ;;
	ext4) e2fsck -fn "$dev" >"$RLOOP_TEST_TMP/fsck" 2>&1 ;;
	esac || fail "$fs over $dev is not clean after stress-ng: $(tail -n 5 "$RLOOP_TEST_TMP/fsck")"
	"$RLOOPCTL" detach "$dev"
	rl_gone "$dev"
	umount "$bk"
	echo "stress-ng ${secs}s on $fs over rloop: completed, file system clean"
done
