#!/bin/sh
# Every path an install of rloop may write, one per line, sorted: /usr and
# /etc whole, DKMS's tree and /var/cache (but the caches the system itself
# refreshes on boot or on any package change, and systemd's stamp of the
# first boot after /usr changed, /etc/.updated). debian.sh lists the system
# with it before `make dkms` and `make install`, and the uninstall test
# after removing both: what is new is a leftover.
find /usr /etc /var/lib/dkms /var/cache -xdev \
	\( -path /var/cache/apt -o -path /var/cache/ldconfig -o -path /var/cache/man \
	-o -path /var/cache/debconf -o -path /var/cache/private \) -prune -o \
	! -path /etc/.updated -print 2>/dev/null |
	LC_ALL=C sort
