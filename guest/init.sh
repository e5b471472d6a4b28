#!/bin/bash
# The guest's init (PID 1) under scripts/vm.sh: makes the read-only 9p root
# usable, runs the command vm.sh wrote into the run dir, checks kmemleak,
# leaves the exit status and the kernel log in the run dir and powers off.
#
# PID 1 must never exit (that panics the kernel): every failure goes through
# die(), which records the reason and reboots; with -no-reboot QEMU then
# exits.
#
# Every exec costs 0.2-0.5 s here (TCG, KASAN, lockdep), hence bash builtins
# where they do, and the mounts in two `mount --all` calls.
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LANG=C.UTF-8 HOME=/root TERM=dumb
vm=/run/rloopvm # the run dir, shared read-write

log() { echo "rloop-init: $*" >/dev/kmsg 2>/dev/null || echo "rloop-init: $*" >/dev/console; }
power_off() {
	sync
	reboot -f >/dev/null 2>&1
	echo b >/proc/sysrq-trigger
	sleep 10
	exit 1
}
die() {
	log "FATAL: $*"
	if [ -d "$vm/guest" ]; then
		echo "rloop-init: FATAL: $*" >>"$vm/output.log"
		echo "$*" >"$vm/guest/init-error"
	fi
	power_off
}
# Any failing command of the set-up below is fatal.
trap 'die "line $LINENO: $BASH_COMMAND failed"' ERR
set -E

# --- File systems ------------------------------------------------------------
mount -t proc proc /proc
log "init started"
mount -t tmpfs -o mode=755 tmpfs /run
fstab() { # mount the table on stdin (mount wants a regular file)
	local lines
	mapfile -t lines
	printf '%s\n' "${lines[@]}" >/run/fstab
	mount --all --fstab /run/fstab
}
fstab <<'TABLE'
sysfs     /sys                sysfs     defaults                    0 0
devpts    /dev/pts            devpts    X-mount.mkdir,gid=5,mode=620,ptmxmode=666 0 0
tmpfs     /dev/shm            tmpfs     X-mount.mkdir,mode=1777     0 0
debugfs   /sys/kernel/debug   debugfs   defaults                    0 0
configfs  /sys/kernel/config  configfs  defaults                    0 0
cgroup2   /sys/fs/cgroup      cgroup2   nsdelegate                  0 0
rloopvm   /run/rloopvm        9p        X-mount.mkdir,trans=virtio,version=9p2000.L,msize=262144 0 0
TABLE
# /dev/fd and friends, which udev would make; in the background, as they
# are four execs.
(
	ln -sfn /proc/self/fd /dev/fd
	ln -sfn /proc/self/fd/0 /dev/stdin
	ln -sfn /proc/self/fd/1 /dev/stdout
	ln -sfn /proc/self/fd/2 /dev/stderr
) &
links=$!

. "$vm/guest/env"
read -r kver </proc/sys/kernel/osrelease

# Writable over read-only: an overlay with a tmpfs upper layer keeps the
# host's files visible (the repository or the kernel cache may be in /root or /tmp).
ovl() { # DIR: print the fstab line of an overlay on DIR
	local o=/run/overlay${1//\//_}
	mkdir -p "$o/upper" "$o/work"
	echo "overlay $1 overlay lowerdir=$1,upperdir=$o/upper,workdir=$o/work 0 0"
}
# modprobe looks in /lib/modules/$(uname -r): bind the kernel's
# modules_install there. The host may have no /lib/modules to mount over;
# an overlay on /usr/lib (where /lib points) then makes room for it.
mods=$RLOOP_KDIR/modroot/lib/modules
table=$(
	if [ -d "$mods/$kver" ]; then
		[ -d /lib/modules ] || ovl /usr/lib
		echo "$mods /usr/lib/modules none bind,X-mount.mkdir 0 0"
	fi
	# The repository (a CI clone, say) may live under any of these.
	ovl /root
	ovl /tmp
	ovl /var/tmp
	[ -z "${RLOOP_SHARE:-}" ] ||
		echo "rloopshare $RLOOP_SHARE 9p X-mount.mkdir,trans=virtio,version=9p2000.L,msize=262144 0 0"
)
fstab <<<"$table"
[ -d "$mods/$kver" ] || log "no modules for $kver under $mods: modprobe will not work"
mkdir -p /run/lock /run/mdadm
wait "$links"
log "file systems mounted"
cd "$RLOOP_TOP" || die "cannot enter $RLOOP_TOP"

# Extra disks, in --disk order (vm.sh gave disk N the serial rloop-diskN).
disks=()
for b in /sys/block/vd*; do
	[ -e "$b/serial" ] || continue
	read -r s <"$b/serial" || : # (no newline at the end)
	case "$s" in rloop-disk*) disks[${s#rloop-disk}]=/dev/${b##*/} ;; esac
done
[ "${#disks[@]}" -eq "$RLOOP_NDISKS" ] || die "found ${#disks[@]} of $RLOOP_NDISKS disks"
export RLOOP_DISKS="${disks[*]}"

# udev, as on any distribution: systemd-udevd with the host's rules (seen
# read-only through 9p) opens and probes every new disk, makes the
# /dev/disk/by-* links, and dmsetup and mdadm wait for it. The block devices
# there already are get their "add" event again.
mkdir -p /run/udev
/lib/systemd/systemd-udevd --daemon || die "systemd-udevd did not start"
udevadm trigger --subsystem-match=block --action=add
udevadm settle --timeout=60 || log "udevadm settle: timed out"
log "udevd running"
export MDADM_NO_SYSTEMCTL=1

# --- The command -------------------------------------------------------------
mapfile -d '' -t cmd <"$vm/guest/cmd"

kmemleak=/sys/kernel/debug/kmemleak
[ "$RLOOP_VM_KMEMLEAK" = 1 ] && [ -w "$kmemleak" ] || kmemleak=
# kmemleak reports an object only when two scans in a row found it
# unreferenced and unchanged (the first scan of an object only takes its
# checksum), so a `scan; clear` before the command hides no boot-time leak
# (it would take two scans, 20 s under TCG). Instead the leaks allocated
# before the command started are told apart afterwards by their jiffies.
jiffies() {
	local key value
	while read -r key value; do
		[ "$key" != jiffies: ] || { echo "$value"; return; }
	done </proc/timer_list
}
[ -z "$kmemleak" ] || start_jiffies=$(jiffies)

trap - ERR
set +E
log "running: ${cmd[*]}"
# Output into the run dir, which the host streams: no terminal (programs
# print no progress bars), and nothing is lost if the kernel dies.
"${cmd[@]}" </dev/null >>"$vm/output.log" 2>&1
status=$?
log "exit status $status"

# --- Leaks -------------------------------------------------------------------
if [ -n "$kmemleak" ]; then
	log "kmemleak: scanning"
	end=$EPOCHSECONDS
	echo scan >"$kmemleak"
	# Objects younger than 5 s when a scan starts are never reported.
	while [ $((EPOCHSECONDS - end)) -lt 6 ]; do sleep 1; done
	echo scan >"$kmemleak"
	# Records: "unreferenced object ..." then `comm "x", pid N, jiffies J`.
	awk -v start="$start_jiffies" -v cmd="$vm/guest/kmemleak.txt" -v boot="$vm/guest/kmemleak-boot.txt" '
		function flush() { if (rec != "") printf "%s", rec > (j >= start ? cmd : boot); rec = "" }
		/^unreferenced object/ { flush() }
		/^  comm .*jiffies/ { j = $NF + 0 }
		{ rec = rec $0 "\n" }
		END { flush() }' "$kmemleak"
	[ ! -s "$vm/guest/kmemleak.txt" ] || log "kmemleak: suspected leaks, see kmemleak.txt"
	[ ! -s "$vm/guest/kmemleak-boot.txt" ] || log "kmemleak: leaks from before the command (ignored): kmemleak-boot.txt"
	log "kmemleak: done"
fi

dmesg >"$vm/guest/dmesg.txt"
echo "$status" >"$vm/guest/status"
power_off
