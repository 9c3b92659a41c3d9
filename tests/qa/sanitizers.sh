#!/bin/bash
# sanitizers.sh -- build with ASan+UBSan in a separate build directory and
# run the test suite under it (unit, integration, config corpus, QA).
# Used by .ci/run; run it by hand the same way:
#   tests/qa/sanitizers.sh            (build dir: build-san)
# Environment: BUILD_DIR (default: build-san), JOBS, TESTS (a subset).
#
# Any sanitizer report stops the process that made it (halt_on_error and
# -fno-sanitize-recover=all), so the test that ran it fails. LeakSanitizer
# runs at exit of every instrumented process: arcdnsd and `arcdnsd -t` get
# leak checks; Criterion's forked test workers exit without one.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-build-san}

export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:${ASAN_OPTIONS_EXTRA:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS_EXTRA:-}"
export LSAN_OPTIONS="suppressions=$src/tests/qa/lsan.supp:print_suppressions=0"

BUILD_DIR="$build" exec "$src/scripts/test.sh" --enable-sanitizers "$@"
