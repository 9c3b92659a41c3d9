#!/bin/bash
# runtime-deps.sh -- print the Debian packages that hold the shared
# libraries the given programs load (one a line, sorted), for a runtime
# image with nothing else: docker/Dockerfile installs exactly these.
#
# Usage: scripts/runtime-deps.sh PROGRAM...
set -euo pipefail

if [ "$#" -eq 0 ]; then
	echo "usage: $0 PROGRAM..." >&2
	exit 2
fi

owner() {
	# With the merged /usr of Debian 12, ldd may say /lib/... where dpkg
	# knows /usr/lib/..., or the other way round: try both.
	local f=$1 alt
	case "$f" in
	/usr/*) alt=${f#/usr} ;;
	*) alt=/usr$f ;;
	esac
	dpkg-query -S "$f" 2>/dev/null || dpkg-query -S "$alt" 2>/dev/null || {
		echo "runtime-deps: no package holds $f" >&2
		return 1
	}
}

for prog in "$@"; do
	ldd "$prog" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
done | sort -u | while read -r lib; do
	owner "$lib"
done | cut -d: -f1 | sort -u
