#!/usr/bin/env bash
# The load benchmark at the size docs/reliability.md reports: 50, 100, 200 and 500 clients
# (50 sessions per client process), 20 FedAvg aggregations each. CI runs 50 clients for
# 3 aggregations (LoadTests). Extra arguments go to `sextant bench load`.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release
.build/release/sextant bench load --clients 50,100,200,500 --versions 20 --output out/bench-load "$@"
