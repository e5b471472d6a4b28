#!/usr/bin/env bash
# Installs what `make` built, or removes it. Usage: install.sh install|uninstall
#
#   rloop.ko       $DESTDIR/lib/modules/<its kernel>/updates/, then depmod;
#                  not built here while DKMS has rloop (make dkms): DKMS
#                  installs the module then, for every kernel
#   rloopctl       $DESTDIR$PREFIX/bin/
#   rloop.h        $DESTDIR$PREFIX/include/linux/
#   60-rloop.rules $DESTDIR$UDEVRULESDIR/ (default /etc/udev/rules.d)
#   man pages      $DESTDIR$PREFIX/share/man/man8/
#   completions    bash, zsh and fish, under $DESTDIR$PREFIX/share/
#
# PREFIX defaults to /usr/local. With DESTDIR set (a staging tree for a
# package), depmod and udev are left to whoever installs the tree.
# Building is `make`'s job: this script only copies.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/on-error.sh"
top=$(dirname "$here")
action=${1:-install}
: "${DESTDIR:=}"
: "${PREFIX:=/usr/local}"
: "${UDEVRULESDIR:=/etc/udev/rules.d}"

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

ko=$top/rloop.ko
ctl=$top/tools/target/release/rloopctl
docs=$top/tools/target/docs
dkms_rloop=
! command -v dkms >/dev/null || dkms_rloop=$(dkms status -m rloop 2>/dev/null || true)
with_ko=1
if [ "$action" = install ]; then
	if [ ! -e "$ko" ] && [ -n "$dkms_rloop" ]; then
		with_ko=0
		say "rloop.ko: not built here, DKMS installs it (${dkms_rloop%%$'\n'*})"
	fi
	for f in "$ctl" "$docs/man8/rloopctl.8"; do
		[ -e "$f" ] || die "$f is missing: run make first (as yourself, not root)"
	done
	[ "$with_ko" = 0 ] || [ -e "$ko" ] || die "$ko is missing: run make first (as yourself, not root)"
fi
# The kernel the module was built for, from the module itself.
if [ -e "$ko" ]; then
	release=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
else
	release=${KERNELRELEASE:-$(uname -r)}
fi
moddir=$DESTDIR/lib/modules/$release/updates
share=$DESTDIR$PREFIX/share

# What goes where: "source destination mode".
files=()
[ "$with_ko" = 0 ] || files+=("$ko $moddir/rloop.ko 644")
files+=(
	"$ctl $DESTDIR$PREFIX/bin/rloopctl 755"
	"$top/uapi/linux/rloop.h $DESTDIR$PREFIX/include/linux/rloop.h 644"
	"$top/udev/60-rloop.rules $DESTDIR$UDEVRULESDIR/60-rloop.rules 644"
	"$docs/completions/rloopctl.bash $share/bash-completion/completions/rloopctl 644"
	"$docs/completions/_rloopctl $share/zsh/site-functions/_rloopctl 644"
	"$docs/completions/rloopctl.fish $share/fish/vendor_completions.d/rloopctl.fish 644"
)
# The pages: this build's when installing; when removing, every rloopctl
# page there, whatever this checkout generates.
if [ "$action" = install ]; then
	pages=("$docs"/man8/*.8)
else
	pages=("$share"/man/man8/rloopctl.8 "$share"/man/man8/rloopctl-*.8)
fi
for page in "${pages[@]}"; do
	if [ -e "$page" ]; then files+=("$page $share/man/man8/${page##*/} 644"); fi
done

case "$action" in
install)
	for f in "${files[@]}"; do
		read -r src dst mode <<<"$f"
		install -D -m "$mode" "$src" "$dst"
		say "installed $dst"
	done
	;;
uninstall)
	# The directories install -D made for these files go too once empty,
	# up to the ones every system has.
	keep=" $DESTDIR$PREFIX $DESTDIR$PREFIX/bin $DESTDIR$PREFIX/include $DESTDIR$PREFIX/share $share/man $DESTDIR$UDEVRULESDIR $DESTDIR/lib/modules/$release "
	for f in "${files[@]}"; do
		read -r _ dst _ <<<"$f"
		[ ! -e "$dst" ] || { rm -f "$dst"; say "removed $dst"; }
		dir=${dst%/*}
		while [[ $keep != *" $dir "* ]] && [ "$dir" != / ] && rmdir "$dir" 2>/dev/null; do
			say "removed $dir/"
			dir=${dir%/*}
		done
	done
	;;
*) die "unknown action '$action' (install or uninstall)" ;;
esac

if [ -n "$DESTDIR" ]; then
	say "DESTDIR set: run depmod -a $release and udevadm control --reload on the target"
	exit 0
fi
if [ -d "/lib/modules/$release/kernel" ]; then
	depmod -a "$release"
	say "depmod -a $release: done"
else
	say "/lib/modules/$release is not an installed kernel: depmod skipped"
fi
if udevadm control --reload 2>/dev/null; then
	say "udev rules reloaded"
fi
if [ "$action" = uninstall ] && [ -e /sys/module/rloop ]; then
	say "rloop is still loaded: rloopctl detach --all, then modprobe -r rloop"
fi
