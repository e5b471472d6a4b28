#!/usr/bin/env bash
# `make check-debian`: rloop on a Debian user's machine. Builds a Debian
# trixie system from Debian's packages, with the newest kernel of
# trixie-backports (7.3), unmodified; installs rloop the way a user does
# (`make dkms`, then `make install`) in that system; boots Debian's own
# kernel, initramfs, systemd and udev in QEMU; runs the checks there; and
# ends with "N passed, N failed".
#
# Usage: debian.sh [--out DIR] [--timeout SECS] [TEST...]
#   TEST   guest suite tests to run (tests/guest/, default all)
#
# The system (cached under $RLOOP_CACHE/debian/, rebuilt when the package
# list below changes; delete the directory to take newer packages):
#   mmdebstrap of trixie (+ -updates, -security), with dkms, the compilers
#   trixie has (gcc-14, rustc, rust-src, bindgen), what a kernel build needs
#   and the guest suite's tools; then, as a user installs a backports
#   kernel, `apt-get install -t trixie-backports linux-image-amd64
#   linux-headers-amd64 linux-source`.
# Each run (out/debian/<date>/), on an overlay of it, in a chroot:
#   lists the system (guest/debian-paths.sh), then `make dkms` for that
#   kernel (DKMS runs scripts/kbuild.sh, which rebuilds the Rust metadata
#   Debian's headers lack from linux-source, a few minutes) and
#   `make install` (rloopctl as this machine built it: trixie has no cargo
#   in the system); copies the result to a disk image and boots it with two
#   scratch disks. In the guest, a systemd unit runs guest/debian.sh: the
#   checks of tests/debian/ and the guest suite through guest/runner.sh,
#   `make uninstall` and `make dkms-remove` last.
#
# Fails on any failed test and on any line of the kernel log (the console)
# matching RLOOP_KLOG_BAD.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/env.sh"

say() { printf '==> debian: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

out='' timeout=3600
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ "$(id -u)" -eq 0 ] || die "run as root: it builds a system with mmdebstrap, chroots into it and mounts an overlay"
# What a fresh machine lacks (mmdebstrap, fsx) and the tools as `make`
# builds them (rloopctl is installed from here, rloop-raw runs the tests).
"$here/setup.sh" >&2
"$here/tools.sh" >&2

suite=trixie
# The machine's own Debian mirror (no host is named here), for trixie too.
mirror=$(apt_uri "^$(. /etc/os-release && echo "$VERSION_CODENAME")\$")
security=$(apt_uri '-security$')
[ -n "$mirror" ] && [ -n "$security" ] || die "no apt source serves this machine's release and its -security suite"

packages=(
	systemd-sysv udev dbus kmod initramfs-tools dkms make
	# what DKMS and rust-headers.sh use: trixie's compilers, the kernel's
	gcc-14 rustc rust-src bindgen
	# what `make prepare` of the kernel's source needs (openssl: the config
	# tests it for ML-DSA)
	flex bison bc libelf-dev libssl-dev openssl python3 xz-utils
	# the guest suite's tools, as on the host
	fio xfsprogs e2fsprogs btrfs-progs mdadm dmsetup util-linux procps stress-ng jq python3-fusepy man-db
)
kernel_packages=(linux-image-amd64 linux-headers-amd64 linux-source)
recipe=5 # bump when the system below is made differently
key=$(printf '%s\n' "$suite" "${packages[@]}" "${kernel_packages[@]}" "$recipe" | sha256sum | cut -c1-16)
base=$RLOOP_CACHE/debian/$suite-$key

# --- The system: built once, kept ------------------------------------------
if [ ! -e "$base/.rloop-done" ]; then
	say "building a Debian $suite system into $base (once; about 2 minutes)"
	rm -rf "$base"
	mkdir -p "$base"
	list=$(IFS=,; echo "${packages[*]}")
	start=$SECONDS
	mmdebstrap --variant=apt --include="$list" \
		--customize-hook="chroot \"\$1\" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -t $suite-backports ${kernel_packages[*]}" \
		--customize-hook='echo rloop-debian >"$1/etc/hostname"' \
		--customize-hook='echo "LABEL=rloop-root / ext4 defaults 0 1" >"$1/etc/fstab"' \
		--customize-hook='chroot "$1" passwd -d root' \
		"$suite" "$base/rootfs" \
		"deb $mirror $suite main" "deb $mirror $suite-updates main" \
		"deb $mirror $suite-backports main" "deb $security $suite-security main" >&2
	touch "$base/.rloop-done"
	say "system built in $((SECONDS - start)) s"
fi
krel=
for k in "$base"/rootfs/boot/vmlinuz-*; do krel=${k##*/vmlinuz-}; done
[ -n "$krel" ] || die "no kernel in $base/rootfs/boot"
say "Debian's kernel: $krel ($(chroot "$base/rootfs" dpkg-query -W -f='${Package} ${Version}' "linux-image-$krel"))"

# --- This run: an overlay of the system -------------------------------------
out=${out:-$top/out/debian/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/upper" "$out/work" "$out/root" "$out/share" "$out"/*.img
mkdir -p "$out/upper" "$out/work" "$out/root" "$out/share"
root=$out/root
mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" || true; done
	rm -rf "$out/upper" "$out/work" "$out"/*.img
	rmdir "$root" 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$base/rootfs,upperdir=$out/upper,workdir=$out/work" "$root"
mounted+=("$root")
mounted+=("$root/proc" "$root/sys" "$root/dev" "$root/dev/pts")
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount -t devpts devpts "$root/dev/pts"

# The repository as a user has it after `make` (the tools built), and the
# harness's extras: fsx, the unit that runs the checks at boot.
say "installing rloop in the system: make dkms, make install"
mkdir -p "$root/root/rloop"
(cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$root/root/rloop/")
(cd "$top" && cp -a --parents tools/target/release/rloopctl tools/target/release/rloop-raw tools/target/docs \
	"$root/root/rloop/")
install -D -m 755 "$FSX" "$root/root/rloop-test-tools/fsx"
chroot "$root" /root/rloop/guest/debian-paths.sh >"$root/root/rloop-before.list"
start=$SECONDS
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	make -C /root/rloop dkms DKMS_KERNEL="$krel" >"$out/dkms.log" 2>&1 ||
	{ tail -n 40 "$out/dkms.log" >&2; die "make dkms failed in the Debian system ($out/dkms.log)"; }
say "make dkms: $((SECONDS - start)) s"
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	make -C /root/rloop install >"$out/install.log" 2>&1 ||
	{ tail -n 20 "$out/install.log" >&2; die "make install failed in the Debian system ($out/install.log)"; }
cat >"$root/etc/systemd/system/rloop-debian-check.service" <<'UNIT'
[Unit]
Description=rloop checks (make check-debian)
After=multi-user.target getty.target
[Service]
Type=oneshot
ExecStart=/root/rloop/guest/debian.sh
ExecStopPost=/bin/systemctl poweroff --no-block
UNIT
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf ../rloop-debian-check.service "$root/etc/systemd/system/multi-user.target.wants/"
{
	printf 'export RLOOP_KLOG_BAD=%q\n' "$RLOOP_KLOG_BAD"
	printf 'RLOOP_GUEST_TESTS=(%s)\n' "$*"
} >"$out/share/env"

# (Lazily: a process the installation started may still be leaving.)
for ((i = ${#mounted[@]} - 1; i >= 1; i--)); do umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}"; done
mounted=("$root")
say "making the disk image"
truncate -s 8G "$out/root.img"
# (By label: the disks' order on the PCI bus is not the command line's.)
mkfs.ext4 -q -F -L rloop-root -d "$root" "$out/root.img"
umount "$root"
mounted=()
# The guest suite's disks, as make check gives them: two with 512-byte
# blocks, one with 4096.
truncate -s 1G "$out/disk0.img" "$out/disk1.img" "$out/disk2.img"

# --- Boot Debian's kernel ----------------------------------------------------
say "booting $krel (TCG); console: $out/console.log"
start=$SECONDS
rc=0
timeout "$timeout" qemu-system-x86_64 -nodefaults -no-reboot -display none -monitor none \
	-accel tcg -cpu 'max,la57=off' -smp 2 -m 4096 \
	-kernel "$base/rootfs/boot/vmlinuz-$krel" -initrd "$base/rootfs/boot/initrd.img-$krel" \
	-append 'root=LABEL=rloop-root rw console=ttyS0 panic=-1' \
	-chardev "file,id=con,path=$out/console.log" -serial chardev:con \
	-drive "file=$out/root.img,if=virtio,format=raw" \
	-drive "file=$out/disk0.img,if=none,id=d0,format=raw" -device virtio-blk-pci,drive=d0,serial=rloop-disk0 \
	-drive "file=$out/disk1.img,if=none,id=d1,format=raw" -device virtio-blk-pci,drive=d1,serial=rloop-disk1 \
	-drive "file=$out/disk2.img,if=none,id=d2,format=raw" \
	-device virtio-blk-pci,drive=d2,serial=rloop-disk2,logical_block_size=4096,physical_block_size=4096 \
	-fsdev "local,id=fsout,path=$out/share,security_model=none" \
	-device virtio-9p-pci,fsdev=fsout,mount_tag=rloopout \
	-device virtio-rng-pci || rc=$?
say "the guest ran $((SECONDS - start)) s"
[ "$rc" != 124 ] || say "timed out after $timeout s"

# --- The verdict -------------------------------------------------------------
passed=0 failed=0 skipped=0
for results in "$out"/share/*/results; do
	[ -e "$results" ] || continue
	while read -r verdict name rest; do
		case "$verdict" in
		PASS) passed=$((passed + 1)) ;;
		FAIL) failed=$((failed + 1)); printf 'FAIL %s %s\n' "$name" "$rest" ;;
		SKIP) skipped=$((skipped + 1)); printf 'SKIP %s %s\n' "$name" "$rest" ;;
		esac
	done <"$results"
done
[ ! -e "$out/share/output.log" ] || cp "$out/share/output.log" "$out/output.log"
[ -e "$out/share/done" ] || { failed=$((failed + 1)); echo "FAIL guest: the checks did not finish (console: $out/console.log)"; tail -n 30 "$out/console.log"; }
if bad=$(grep -E "$RLOOP_KLOG_BAD" "$out/console.log" | grep -vE 'rloop-test: '); then
	failed=$((failed + 1))
	echo "FAIL kernel log:"
	printf '%s\n' "$bad" | head -n 20
fi
summary="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || summary+=", $skipped skipped"
echo "$summary"
exit $((failed == 0 ? 0 : 1))
