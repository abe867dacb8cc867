#!/usr/bin/env bash
# Runs `swift test` with its whole output kept in out/swift-test.log. When the run fails,
# its last lines are a summary: the failed tests, and a crash's threads without the
# backtracer's register and image dumps (which would otherwise be all that a short tail of
# the output shows).
set -uo pipefail
SWIFT=${SWIFT:-swift}
mkdir -p out
log=out/swift-test.log
# The suites run in parallel threads, each training its own small networks: one BLAS thread
# per caller, as the executables run under the launcher and the integration tests, instead
# of every caller also sharing OpenBLAS's thread pool.
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
"$SWIFT" test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    echo
    echo "==== swift test failed (exit $status); summary of $log ===="
    grep -n -E "Fatal error|Program crashed|crashed:|malloc\(\)|double free|corrupted|Assertion failed|^✘ Test [^r]|error:" "$log" | head -60
    if grep -q "Program crashed" "$log"; then
        echo "---- the crash ----"
        sed -n '/Program crashed/,/Backtrace took/{p}' "$log" | grep -v -E '^ ?[a-z0-9]+ +0x[0-9a-f]{4}|^0x[0-9a-f]+|^cs 0x|^ *$' | head -150
    fi
fi
exit "$status"
