#!/bin/sh
# corpus.sh -- run `arcdnsd -t -c FILE` over the config corpus; print TAP.
#
# From tests/conf (the runner cd's there, so names in messages are short):
#   good-*.yaml  must exit 0 and print "FILE: OK" on stdout;
#   bad-*.yaml   must exit 1, print nothing on stdout, and print on stderr
#                the line given in the file's first line:
#                    # expect: <the exact line>
#                A zone file's message may carry the zone file's folder in
#                front ("/abs/path/bad-zone-x.zone:3: ..."): the expected
#                line then matches what follows a '/'.
# Every example in conf/*.yaml must pass too (run as ../../conf/NAME),
# except conf/sim.yaml, which configures arcsim (test_simconf loads it).
#
# Environment (set by `make check`): ARCDNSD, the daemon to run;
# TOP_SRCDIR, the source tree. Without them the script finds both from its
# own location and an in-tree build. TEST_RUNNER (e.g. "valgrind -q
# --error-exitcode=99") wraps the daemon.

set -u

here=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$here/../.." && pwd)}
ARCDNSD=${ARCDNSD:-${TOP_BUILDDIR:-$TOP_SRCDIR}/src/arcdnsd}
TEST_RUNNER=${TEST_RUNNER:-}

corpus="$TOP_SRCDIR/tests/conf"
if [ ! -x "$ARCDNSD" ]; then
	echo "Bail out! arcdnsd not found at $ARCDNSD (build it, or set ARCDNSD)"
	exit 1
fi
cd "$corpus" || { echo "Bail out! cannot cd to $corpus"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/arcdns-corpus.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# The files, in a stable order: bad, good, then the shipped examples.
list=""
for f in bad-*.yaml good-*.yaml ../../conf/*.yaml; do
	case $f in */sim.yaml) continue ;; esac	# arcsim's, not arcdnsd's
	[ -f "$f" ] && list="$list $f"
done
n=0
for f in $list; do n=$((n + 1)); done
echo "1..$n"

# Print a file as TAP diagnostics.
diag() {
	sed 's/^/#   /' "$1"
}

# True when some line of file $2 is $1, or ends in "/$1".
has_line() {
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		"$1" | */"$1") return 0 ;;
		esac
	done <"$2"
	return 1
}

i=0
fails=0
for f in $list; do
	i=$((i + 1))
	# $TEST_RUNNER is deliberately split into words.
	# shellcheck disable=SC2086
	$TEST_RUNNER "$ARCDNSD" -t -c "$f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	why=""
	case $(basename "$f") in
	bad-*)
		expect=$(sed -n '1s/^# expect: //p' "$f")
		if [ -z "$expect" ]; then
			why="first line is not '# expect: <message>'"
		elif [ "$rc" -ne 1 ]; then
			why="exit status $rc, want 1"
		elif [ -s "$tmp/out" ]; then
			why="printed on stdout"
		elif ! has_line "$expect" "$tmp/err"; then
			why="stderr lacks the expected line"
		fi
		;;
	*)
		expect="$f: OK"
		if [ "$rc" -ne 0 ]; then
			why="exit status $rc, want 0"
		elif ! has_line "$expect" "$tmp/out"; then
			why="stdout lacks '$expect'"
		fi
		;;
	esac
	# A sanitizer report fails the test whatever the exit status.
	if [ -z "$why" ] && grep -q -e 'Sanitizer' -e 'runtime error:' \
	    "$tmp/err"; then
		why="sanitizer report"
	fi
	if [ -z "$why" ]; then
		echo "ok $i - $f"
	else
		fails=$((fails + 1))
		echo "not ok $i - $f: $why"
		echo "#   expected: $expect"
		echo "#   stdout:"
		diag "$tmp/out"
		echo "#   stderr:"
		diag "$tmp/err"
	fi
done
[ "$fails" -eq 0 ]
