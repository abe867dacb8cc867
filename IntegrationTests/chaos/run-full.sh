#!/usr/bin/env bash
# The fault-injection tests at the size docs/reliability.md reports (CI runs them smaller):
# 10 server kills, 6 waves of 40% client churn, 3 storage faults each with a full tmpfs
# and with a file-size limit, 40 versions per run. Run as root (mount, prlimit).
# SEXTANT_CHAOS_SEED=N repeats the faults of an earlier run; each test prints its seed.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release
export SEXTANT_INTEGRATION=1
export SEXTANT_BIN="$PWD/.build/release"
export SEXTANT_CHAOS_SIZE=full
swift test --filter 'Chaos' "$@"
