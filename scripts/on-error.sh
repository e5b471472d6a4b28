# shellcheck shell=bash
# Sourced by every script that runs under `set -e` (scripts/env.sh sources
# it for the host side): when set -e ends the script, say which script,
# line and command did it, instead of stopping without a word in the
# middle of a log.
#
# errtrace (-E) carries the trap into functions and subshells, so a failure
# inside `x=$(...)` is named twice: once inside, once as the assignment.

rloop_on_error() {
	printf '%s: line %s: `%s` failed (exit %s)\n' \
		"${BASH_SOURCE[1]:-$0}" "${BASH_LINENO[0]}" "$BASH_COMMAND" "$1" >&2
}
set -E
trap 'rloop_on_error $?' ERR
