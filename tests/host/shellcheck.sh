#!/bin/bash
# Every shell script of the project (scripts/, guest/, tests/ with the
# stress tests, .ci/run) is clean under shellcheck at warning level. A
# finding that is not a bug is disabled on its own line, with the reason.
. "${0%/*}/../lib.sh"

command -v shellcheck >/dev/null || fail "shellcheck is not installed (scripts/setup.sh installs it)"
cd "$RLOOP_TOP" || fail "cannot enter $RLOOP_TOP"
files=()
while IFS= read -r f; do
	case "$f" in
	*.sh) files+=("$f") ;;
	*) [[ $(head -n 1 "$f" 2>/dev/null) =~ ^\#!.*/(env\ )?(ba)?sh ]] && files+=("$f") ;;
	esac
done < <(if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files --cached --others --exclude-standard
else
	find . -path ./tools/target -prune -o -type f -print | sed 's|^\./||'
fi)
[ ${#files[@]} -ge 40 ] || fail "found only ${#files[@]} shell scripts: the search is broken"
# (A here-string, not printf | grep -q: grep may exit before printf is done,
# and pipefail would count printf's SIGPIPE as a miss.)
for d in scripts guest tests/guest tests/stress tests/host; do
	grep -q "^$d/" <<<"$(printf '%s\n' "${files[@]}")" || fail "no script of $d/ was found"
done
out=$(shellcheck --severity=warning --format=gcc "${files[@]}") ||
	fail "shellcheck reports $(grep -c . <<<"$out") finding(s) in ${#files[@]} scripts:
$out"
