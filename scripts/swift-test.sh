#!/usr/bin/env bash
# Runs the tests in two passes: the unit tests (in parallel, in one process), then the
# integration tests, which start the release executables (`SEXTANT_BIN`) and run one at a
# time, in a process of their own, so that their harness (child processes, pipes, databases
# read while a federation runs) never shares a process with the unit tests. The whole output
# is kept in out/swift-test.log; when a pass fails, its last lines are a summary: the failed
# tests, and a crash's threads without the backtracer's register and image dumps (which
# would otherwise be all that a short tail of the output shows).
set -uo pipefail
SWIFT=${SWIFT:-swift}
mkdir -p out
log=out/swift-test.log
: >"$log"
# The suites run in parallel threads, each training its own small networks: one BLAS thread
# per caller, as the executables run under the launcher and the integration tests, instead
# of every caller also sharing OpenBLAS's thread pool.
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}

summarize() {
    echo
    echo "==== swift test failed (exit $1); summary of $log ===="
    grep -n -E "Fatal error|Program crashed|crashed:|malloc|double free|corrupted|Assertion failed|^✘ Test [^r]|error:" "$log" | head -60
    if grep -q "Program crashed" "$log"; then
        echo "---- the crash ----"
        sed -n '/Program crashed/,/Backtrace took/{p}' "$log" | grep -v -E '^ ?[a-z0-9]+ +0x[0-9a-f]{4}|^0x[0-9a-f]+|^cs 0x|^ *$' | head -150
    fi
}

env -u SEXTANT_INTEGRATION "$SWIFT" test "$@" 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ] && grep -q "Program crashed" "$log" && ! grep -q "^✘ Test [^r]" "$log"; then
    # A known, not yet found heap corruption (glibc: "unaligned fastbin chunk") aborts the
    # unit tests' process now and then, with no test failed. It is reported in full, and the
    # pass is run once more; a second crash, or any failed test, fails the run.
    summarize "$status"
    echo "==== the unit tests' process crashed with no test failed: running the pass once more ===="
    env -u SEXTANT_INTEGRATION "$SWIFT" test --skip-build "$@" 2>&1 | tee -a "$log"
    status=${PIPESTATUS[0]}
fi
if [ "$status" -ne 0 ]; then
    summarize "$status"
    exit "$status"
fi
SEXTANT_INTEGRATION=1 "$SWIFT" test --skip-build --filter SextantIntegrationTests "$@" 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then summarize "$status"; fi
exit "$status"
