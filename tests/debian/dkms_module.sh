#!/bin/bash
# DKMS built and installed rloop for the running kernel, Debian's own: its
# vermagic is `uname -r`, and it sits where DKMS puts modules.
. "${0%/*}/../lib.sh"

need_cmd dkms
release=$(uname -r)
status=$(dkms status -m rloop -k "$release")
case "$status" in
*": installed"*) ;;
*) fail "dkms status for $release: '$status', not installed" ;;
esac
path=$(modinfo -n rloop) || fail "modinfo finds no rloop module for $release"
case "$path" in
/lib/modules/"$release"/updates/dkms/rloop.ko* | /usr/lib/modules/"$release"/updates/dkms/rloop.ko*) ;;
*) fail "modinfo rloop is $path, not DKMS's module" ;;
esac
vermagic=$(modinfo -F vermagic rloop)
echo "uname -r: $release"
echo "vermagic: $vermagic"
echo "signer:   $(modinfo -F signer rloop)"
assert_eq "${vermagic%% *}" "$release" "the module's vermagic"
