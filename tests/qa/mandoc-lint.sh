#!/bin/sh
# mandoc-lint.sh -- TAP: `mandoc -Tlint -W warning` on every man page that
# configure generated in the build tree (man/*.8 man/*.5 man/*.1), one test
# each. A page fails on any mandoc output or a non-zero status.
#
# Run by make check, which exports MANDOC (empty when configure found no
# mandoc) and TOP_BUILDDIR. By hand:
#   MANDOC=mandoc TOP_BUILDDIR=build sh tests/qa/mandoc-lint.sh

builddir=${TOP_BUILDDIR:-.}
mandoc=${MANDOC-mandoc}

if [ -z "$mandoc" ]; then
	echo "1..0 # SKIP mandoc not found by configure (apt-get install mandoc)"
	exit 0
fi

pages=
for p in "$builddir"/man/*.8 "$builddir"/man/*.5 "$builddir"/man/*.1; do
	[ -f "$p" ] && pages="$pages $p"
done
if [ -z "$pages" ]; then
	echo "1..1"
	echo "not ok 1 - no generated man page under $builddir/man"
	exit 0
fi

set -- $pages
echo "1..$#"
n=0
for p in "$@"; do
	n=$((n + 1))
	name=man/${p##*/}
	out=$("$mandoc" -Tlint -W warning "$p" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name (mandoc status $rc)"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done
exit 0
