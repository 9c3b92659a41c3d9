#!/bin/bash
# test-summary.sh -- count the results of the last `make check` in one or
# more build directories, from automake's per-test .trs files (the same
# numbers as the "# PASS:" ... lines of test-suite.log, which are computed
# from them, but also there when make check was interrupted).
#
# Usage: scripts/test-summary.sh [--numbers] BUILD_DIR...
#   default    one line per directory and a total:
#                build: 120 passed, 0 failed, 3 skipped (14 scripts)
#   --numbers  only "PASSED FAILED SKIPPED" of all directories together
#
# PASS and XFAIL count as passed; FAIL, XPASS and ERROR as failed; SKIP as
# skipped. Results of make distcheck's own build (arcdns-*/) are not counted.
set -euo pipefail

numbers=
if [ "${1:-}" = --numbers ]; then
	numbers=yes
	shift
fi
if [ "$#" -eq 0 ]; then
	echo "usage: $0 [--numbers] BUILD_DIR..." >&2
	exit 2
fi

count() {
	# Prints "passed failed skipped scripts" for one build directory.
	local dir=$1
	if [ ! -d "$dir" ]; then
		echo "0 0 0 0"
		return
	fi
	find "$dir" -path "$dir/arcdns-*" -prune -o -name '*.trs' -print0 |
		xargs -0 -r awk '
			FNR == 1 { scripts++ }
			$1 == ":test-result:" {
				if ($2 == "PASS" || $2 == "XFAIL") p++
				else if ($2 == "SKIP") s++
				else f++
			}
			END { printf "%d %d %d %d\n", p, f, s, scripts }' |
		awk '{ p += $1; f += $2; s += $3; n += $4 }
			END { printf "%d %d %d %d\n", p, f, s, n }'
}

tp=0 tf=0 ts=0 tn=0
for dir in "$@"; do
	read -r p f s n < <(count "$dir")
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s)) tn=$((tn + n))
	[ -n "$numbers" ] ||
		echo "$dir: $p passed, $f failed, $s skipped ($n test scripts)"
done
if [ -n "$numbers" ]; then
	echo "$tp $tf $ts"
elif [ "$#" -gt 1 ]; then
	echo "total: $tp passed, $tf failed, $ts skipped ($tn test scripts)"
fi
