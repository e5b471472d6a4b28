#!/bin/bash
# `make uninstall` and `make dkms-remove` (dkms remove) leave nothing behind:
# every path under /usr, /etc and /var that exists now and did not before
# `make dkms` and `make install` (debian.sh listed them then, in
# /root/rloop-before.list) is a leftover. Runs last.
. "${0%/*}/../lib.sh"

before=/root/rloop-before.list
[ -s "$before" ] || fail "$before is missing: debian.sh lists the system before installing"
cd "$RLOOP_TOP" || fail "cannot enter $RLOOP_TOP"
make uninstall || fail "make uninstall failed"
make dkms-remove || fail "make dkms-remove failed"
[ -z "$(dkms status -m rloop)" ] || fail "dkms still lists rloop: $(dkms status -m rloop)"
! modinfo -n rloop 2>/dev/null || fail "modinfo still finds rloop: $(modinfo -n rloop)"
# What is not ours: the harness's own unit, and DKMS's signing key, which
# DKMS made on its first build and keeps for every module it signs.
after=$RLOOP_TEST_TMP/after.list
"$RLOOP_TOP/guest/debian-paths.sh" >"$after"
left=$(comm -13 "$before" "$after" | grep -vxE '/etc/systemd/system/rloop-debian-check\.service|/etc/systemd/system/multi-user\.target\.wants(/rloop-debian-check\.service)?|/var/lib/dkms/mok\.(key|pub)' || true)
[ -z "$left" ] || fail "left behind: $(echo $left)"
