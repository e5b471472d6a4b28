#!/bin/bash
# The checks of `make check-debian` (scripts/debian.sh), run at boot by a
# systemd unit in the Debian system, as root, after multi-user.target: udev,
# systemd and the kernel are Debian's, rloop is what DKMS and `make install`
# installed. Results go to the run's share (9p, "rloopout"): one
# guest/runner.sh results file per phase, then "done"; the unit powers the
# machine off when this ends.
#
#   1. tests/debian/: dkms_module, autoload, by_uuid
#   2. the guest suite (tests/guest/, or the tests debian.sh was given),
#      against the module DKMS installed and the installed rloopctl
#   3. tests/debian/uninstall: make uninstall, make dkms-remove, nothing left
set -uo pipefail
top=/root/rloop
share=/run/rloop-out
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root

echo "rloop-test: checks starting" >/dev/kmsg
mkdir -p "$share"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 rloopout "$share" || {
	echo "rloop-check: cannot mount the results share" >&2
	exit 1
}
# Everything to the share, not to the serial line: the getty that starts
# on it hangs up whoever else has it open.
exec >"$share/output.log" 2>&1
# shellcheck source=/dev/null # written by scripts/debian.sh
. "$share/env"

# The scratch disks, by the serials debian.sh gave them.
disks=()
for b in /sys/block/vd*; do
	[ -e "$b/serial" ] || continue
	read -r s <"$b/serial" || :
	case "$s" in rloop-disk*) disks[${s#rloop-disk}]=/dev/${b##*/} ;; esac
done
export RLOOP_DISKS="${disks[*]}"
export RLOOP_TOP=$top RLOOP_KLOG_BAD
RLOOP_KO=$(modinfo -n rloop) || RLOOP_KO=/nonexistent/rloop.ko
export RLOOP_KO
RLOOPCTL=$(command -v rloopctl) || RLOOPCTL=/nonexistent/rloopctl
export RLOOPCTL RLOOP_RAW=$top/tools/target/release/rloop-raw RLOOP_FSX=/root/rloop-test-tools/fsx

phase() { # NAME SUITE [TESTS...]: guest/runner.sh into share/NAME
	local name=$1 suite=$2
	shift 2
	echo "rloop-check: $name" >&2
	RLOOP_OUT=$share/$name RLOOP_SUITE=$suite "$top/guest/runner.sh" "$@" || true
}
phase 1-debian debian dkms_module autoload by_uuid
phase 2-guest guest "${RLOOP_GUEST_TESTS[@]}"
phase 3-uninstall debian uninstall
dmesg >"$share/dmesg.txt"
echo finished >"$share/done"
sync
