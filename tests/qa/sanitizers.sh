#!/bin/bash
# sanitizers.sh -- build with ASan+UBSan in a separate build directory and
# run the test suite under it (unit, integration, config corpus, QA).
# Used by .ci/run; run it by hand the same way:
#   tests/qa/sanitizers.sh            (build dir: build-san)
# Environment: BUILD_DIR (default: build-san), JOBS, TESTS (a subset).
#
# Any sanitizer error stops the process that made it (halt_on_error and
# -fno-sanitize-recover=all), so the test that ran it fails. LeakSanitizer
# runs when an instrumented process exits: arcdnsd and `arcdnsd -t` get
# leak checks; Criterion's forked test workers exit without one.
#
# ASan and LSan reports also go to files (log_path), because a report at
# the exit of a daemon that a test has already finished with would go
# unnoticed otherwise: any such file fails this script, and is printed.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-build-san}
case "$build" in
/*) ;;
*) build="$src/$build" ;;
esac
reports="$build/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"

export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:log_path=$reports/asan${ASAN_OPTIONS_EXTRA:+:$ASAN_OPTIONS_EXTRA}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS_EXTRA:+:$UBSAN_OPTIONS_EXTRA}"
export LSAN_OPTIONS="suppressions=$src/tests/qa/lsan.supp:print_suppressions=0"

rc=0
BUILD_DIR="$build" "$src/scripts/test.sh" --enable-sanitizers "$@" || rc=$?

shopt -s nullglob

# Criterion's TAP output drops what a crashed test worker wrote to stderr,
# so a UBSan report there shows only as "assertions: 0". Run each failed
# unit test binary again with Criterion's plain output, for the reports.
for trs in "$build"/tests/unit/*.trs; do
	grep -q '^:test-result: \(FAIL\|ERROR\|XPASS\)' "$trs" || continue
	bin=${trs%.trs}
	[ -x "$bin" ] || continue
	echo "sanitizers: ${bin#"$build"/} failed; sanitizer reports from a plain rerun:" >&2
	(cd "$build" && env -u CRITERION_OUTPUTS "$bin" 2>&1) |
		grep -E -A12 'runtime error|ERROR: (Address|Leak)Sanitizer' |
		head -n 80 >&2 || true
done

files=("$reports"/*)
if [ "${#files[@]}" -ne 0 ]; then
	echo "sanitizers: ${#files[@]} sanitizer report(s) in $reports:" >&2
	for f in "${files[@]}"; do
		echo "--- $f" >&2
		head -n 60 "$f" >&2
	done
	rc=1
fi
exit "$rc"
