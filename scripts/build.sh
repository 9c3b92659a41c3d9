#!/bin/bash
# build.sh -- configure and build arcdns out of tree. Shared by demo.sh,
# test.sh, tests/qa/sanitizers.sh, .ci/run and docker/Dockerfile.
#
# Usage: scripts/build.sh [configure options...]
#   --enable-developer is always passed (warnings are errors).
# Environment:
#   BUILD_DIR  build directory (default: build, relative to the source tree)
#   JOBS       parallel make jobs (default: number of CPUs)
#
# Steps: autoreconf -fi (when configure is missing or older than its
# inputs), configure (when the build directory is new or the options
# changed), make -j$JOBS. Installs nothing: run scripts/install-deps.sh
# first (demo.sh and test.sh do).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-build}
case "$build" in
/*) ;;
*) build="$src/$build" ;;
esac
jobs=${JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}

cd "$src"
stale=
if [ ! -x configure ] || [ ! -f Makefile.in ]; then
	stale=yes
else
	for f in configure.ac Makefile.am m4/*.m4; do
		if [ "$f" -nt configure ] || [ "$f" -nt Makefile.in ]; then
			stale=yes
		fi
	done
fi
if [ -n "$stale" ]; then
	echo "build: autoreconf -fi"
	autoreconf -fi
fi

args=(--enable-developer "$@")
mkdir -p "$build"
cd "$build"
if [ ! -f config.status ] || [ ! -f .build-args ] ||
	[ "$(cat .build-args)" != "${args[*]}" ]; then
	echo "build: configure ${args[*]} (in $build)"
	"$src/configure" "${args[@]}"
	printf '%s' "${args[*]}" >.build-args
fi

echo "build: make -j$jobs (in $build)"
make -j"$jobs"
