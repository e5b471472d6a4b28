#!/usr/bin/env bash
# Runs the host tests written in shell, tests/host/NAME.sh (check.sh runs
# them beside the guest suite): the cache bookkeeping of kernel.sh on a
# stand-in build, and shellcheck over every script.
#
# Usage: host-tests.sh LOGDIR [NAME...]
# Each test runs in a fresh bash from the repository top, with TMPDIR and
# RLOOP_TEST_TMP pointing to an empty directory of its own, under a
# timeout of 120 s. Exit 0 passes, 77 skips, anything else fails (the
# reason is what the test gave fail or skip, tests/lib.sh). Prints "PASS
# host: NAME", "FAIL host: NAME: reason" or "SKIP host: NAME: reason" per
# test; LOGDIR/NAME.log has the test's output. Exit status: 0 if nothing
# failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/on-error.sh"

logs=${1:?usage: host-tests.sh LOGDIR [NAME...]}
shift
mkdir -p "$logs"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in "$top"/tests/host/*.sh; do names+=("$(basename "$f" .sh)"); done
fi
failed=0
for name in "${names[@]}"; do
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/rloop-host-$name.XXXXXX")
	reason=$tmp/.reason
	: >"$reason"
	rc=0
	(cd "$top" && TMPDIR=$tmp RLOOP_TEST_TMP=$tmp RLOOP_TEST_REASON=$reason \
		timeout 120 bash "tests/host/$name.sh") >"$logs/$name.log" 2>&1 || rc=$?
	why=$(head -n 1 "$reason")
	case "$rc" in
	0) echo "PASS host: $name" ;;
	77) echo "SKIP host: $name: ${why:-no reason given}" ;;
	124) echo "FAIL host: $name: timed out after 120 s"; failed=1 ;;
	*) echo "FAIL host: $name: ${why:-exit $rc} (log: $logs/$name.log)"; failed=1 ;;
	esac
	rm -rf "$tmp"
done
exit "$failed"
