#!/bin/bash
# test.sh -- the README's test command: install what is missing, build out
# of tree, run the whole test suite (make check).
#
# Usage: scripts/test.sh [configure options...]
# Environment: BUILD_DIR (default: build), JOBS (default: number of CPUs),
#   TESTS / TEST_LOGS passed through to make check to run a subset, e.g.
#   TESTS=tests/unit/test_conf scripts/test.sh
# Exit status: 0 when every test passed (or was skipped), 1 otherwise.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-build}
case "$build" in
/*) ;;
*) build="$src/$build" ;;
esac
jobs=${JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}

"$src/scripts/install-deps.sh"
BUILD_DIR="$build" JOBS="$jobs" "$src/scripts/build.sh" "$@"

cd "$build"
# A build error in check_PROGRAMS would leave the last run's results in
# place; remove them so that nobody counts stale results.
rm -f test-suite.log
find . -path ./arcdns-\* -prune -o -name '*.trs' -exec rm -f {} +

make_args=()
[ -n "${TESTS:-}" ] && make_args+=("TESTS=$TESTS")
[ -n "${TEST_LOGS:-}" ] && make_args+=("TEST_LOGS=$TEST_LOGS")

echo "test: make -j$jobs check (in $build)"
# VERBOSE=1: on failure, automake prints test-suite.log (the logs of every
# test that did not pass) right here.
rc=0
make -j"$jobs" check VERBOSE=1 "${make_args[@]}" || rc=$?
[ "$rc" -eq 0 ] || echo "test: make check failed; logs are under $build" >&2
exit "$([ "$rc" -eq 0 ] && echo 0 || echo 1)"
