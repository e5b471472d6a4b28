#!/bin/bash
# make install on a system like a user's: udevd running, kmod, the kernel's
# modules tree. The staged files are put in place as a package would (the
# module into /lib/modules/<release>/updates and depmod, the rules into
# udev's rules directory), and then, as loop-control does: the static node
# from modules.devname loads the module on its first open; the node gets
# group disk; a file system on a new device appears in /dev/disk/by-uuid and
# by-label; a device detached right after umount (udev still probing it)
# goes, with its links; the man page renders and the bash completion loads;
# make uninstall removes every file install put there.
# Where DKMS installed the module (make check-debian) and none is built in
# the tree, install leaves the module to DKMS and says so, and the module
# loaded is DKMS's.
# timeout: 300
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd udevadm
need_cmd man
pgrep -x systemd-udevd >/dev/null || fail "systemd-udevd is not running (guest/init.sh starts it)"
unload_rloop
kver=$(uname -r)
stage=$(scratch_dir)
dkms=
[ -e "$RLOOP_TOP/rloop.ko" ] || ! command -v dkms >/dev/null || dkms=$(dkms status -m rloop -k "$kver")
make -s -C "$RLOOP_TOP" install DESTDIR="$stage" 2>"$RLOOP_TEST_TMP/install.log" ||
	fail "make install DESTDIR=$stage failed: $(tail -n 5 "$RLOOP_TEST_TMP/install.log")"
ctl=$stage/usr/local/bin/rloopctl
modules=/lib/modules/$kver
if [ -z "$dkms" ]; then
	ko=updates/rloop.ko
	[ -f "$stage/$modules/$ko" ] || fail "make install did not install $modules/$ko"
else
	ko=updates/dkms/rloop.ko
	grep -q 'rloop.ko: not built here, DKMS installs it' "$RLOOP_TEST_TMP/install.log" ||
		fail "make install did not leave the module to DKMS: $(cat "$RLOOP_TEST_TMP/install.log")"
	[ ! -e "$stage/$modules" ] || fail "make install installed a module beside DKMS's: $(find "$stage/$modules")"
fi
for f in usr/local/bin/rloopctl usr/local/include/linux/rloop.h \
	etc/udev/rules.d/60-rloop.rules usr/local/share/man/man8/rloopctl.8 \
	usr/local/share/bash-completion/completions/rloopctl usr/local/share/zsh/site-functions/_rloopctl \
	usr/local/share/fish/vendor_completions.d/rloopctl.fish; do
	[ -f "$stage/$f" ] || fail "make install did not install /$f"
done

if [ -z "$dkms" ]; then
	# Into place. /lib/modules/$kver is the kernel cache's, read-only here:
	# an overlay takes the module and depmod's files.
	upper=$(scratch_dir tmpfs) # an overlay's upper layer cannot be the overlay /tmp is
	mkdir "$upper/upper" "$upper/work"
	mount -t overlay overlay -o "lowerdir=$modules,upperdir=$upper/upper,workdir=$upper/work" "$modules" ||
		fail "overlay on $modules failed"
	# udevd's kmod keeps the index files open: unmount lazily, and have it
	# reopen the kernel's own.
	on_exit sh -c "umount -l '$modules' && udevadm control --reload"
	cp -r "$stage/lib/modules/$kver/updates" "$modules/"
	depmod -a "$kver" || fail "depmod failed"
fi
on_exit modprobe -r rloop
mkdir -p /run/udev/rules.d
cp "$stage/etc/udev/rules.d/60-rloop.rules" /run/udev/rules.d/
on_exit sh -c 'rm -f /run/udev/rules.d/60-rloop.rules; udevadm control --reload'
udevadm control --reload

# The static node, as systemd-tmpfiles makes it at boot from kmod's list;
# its first open loads the module through the char-major-10-243 alias.
static=$(kmod static-nodes --format=tmpfiles | grep ' /dev/rloop-control ') ||
	fail "kmod static-nodes does not list /dev/rloop-control"
[[ "$static" == "c! /dev/rloop-control "*" 10:243" ]] || fail "static node line: $static"
# (A booted system made it at boot; our bare guest has none.) Not devtmpfs's
# own node, so it outlives the module: one made here is gone at exit, as in
# a system without static nodes, the other tests' setting.
if [ ! -e /dev/rloop-control ]; then
	mknod -m 600 /dev/rloop-control c 10 243
	on_exit rm -f /dev/rloop-control
fi
: </dev/rloop-control || fail "open of /dev/rloop-control failed"
[ -e /sys/module/rloop ] || fail "opening /dev/rloop-control did not load rloop"
[[ $(modinfo -F filename rloop) == "$modules/$ko"* ]] || fail "modprobe found another rloop: $(modinfo -F filename rloop)"
udevadm settle
assert_eq "$(stat -c '%G %a' /dev/rloop-control)" "disk 660" "group and mode of /dev/rloop-control"

# A file system on a device: its links come and go with it.
dir=$(scratch_dir "${DISKS[0]}" xfs)
truncate -s 64M "$dir/backing"
dev=$("$ctl" create "$dir/backing") || fail "rloopctl create failed"
on_exit rl_detach_if_present "$dev"
uuid=$(cat /proc/sys/kernel/random/uuid)
mkfs.ext4 -q -U "$uuid" -L rloop-test "$dev" || fail "mkfs.ext4 failed"
udevadm settle
assert_eq "$(readlink -f "/dev/disk/by-uuid/$uuid")" "$dev" "/dev/disk/by-uuid/$uuid"
assert_eq "$(readlink -f /dev/disk/by-label/rloop-test)" "$dev" "/dev/disk/by-label/rloop-test"
inode_link=/dev/disk/by-rloop-inode/$(stat -c '%Hd:%Ld-%i' "$dir/backing")
assert_eq "$(readlink -f "$inode_link")" "$dev" "$inode_link"
mnt=$(scratch_dir)
mount "$dev" "$mnt" || fail "mount failed"
echo data >"$mnt/file"
umount "$mnt"
# Right after umount udev probes the device (its watch saw a writer close):
# detach succeeds all the same, as losetup -d does.
"$ctl" detach "$dev" 2>"$RLOOP_TEST_TMP/detach.err" || fail "detach after umount failed: $(cat "$RLOOP_TEST_TMP/detach.err")"
rl_gone "$dev"
udevadm settle
[ ! -e "/dev/disk/by-uuid/$uuid" ] || fail "/dev/disk/by-uuid/$uuid outlived the device"

# The man page and the completions.
MANPAGER=cat MANWIDTH=80 man -l "$stage/usr/local/share/man/man8/rloopctl.8" >"$RLOOP_TEST_TMP/man" 2>&1 ||
	fail "man -l rloopctl.8 failed: $(head -n 3 "$RLOOP_TEST_TMP/man")"
for word in SYNOPSIS create detach list; do
	grep -q "$word" "$RLOOP_TEST_TMP/man" || fail "the man page lacks '$word'"
done
bash -c '. "$1" && complete -p rloopctl' _ "$stage/usr/local/share/bash-completion/completions/rloopctl" >/dev/null ||
	fail "the bash completion does not load"

make -s -C "$RLOOP_TOP" uninstall DESTDIR="$stage" 2>"$RLOOP_TEST_TMP/uninstall.log" ||
	fail "make uninstall failed: $(tail -n 5 "$RLOOP_TEST_TMP/uninstall.log")"
left=$(find "$stage" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
