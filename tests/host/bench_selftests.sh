#!/bin/bash
# The benchmark reports' own self-tests (bench/report.py, bench/hops.py): the
# ratios, verdicts and tables they make from planted fio results, so that a
# change to a report is checked without a benchmark run.
. "${0%/*}/../lib.sh"

need_cmd python3
for script in bench/report.py bench/hops.py; do
	out=$(python3 "$script" --self-test 2>&1) || fail "$script --self-test: $(grep -m3 FAIL <<<"$out")"
	echo "$script: ${out##*$'\n'}"
done
