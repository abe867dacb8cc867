#!/bin/sh
# The simulator against the real thing (docs/experiments.md): one setting, run by
# `sextant simulate` on its virtual clock and by `sextant launch` as a real federation on
# loopback (a server and 5 client processes, release binaries, speeds emulated by the
# clients), with the same configuration and seed; then one plot of both curves.
#
#   swift build -c release
#   sh bench/sim-vs-real.sh
#
# The setting is configs/experiments/paper-cnn.yaml with Compass, a budget of $SECONDS_BUDGET
# seconds and a mean time per step of $MU seconds (slow enough that the 5 clients' real
# training fits in the emulated time on a shared 2-core machine).
set -eu
BIN=${SEXTANT_BIN:-.build/release}
OUT=${OUT:-out/sim-vs-real}
SECONDS_BUDGET=${SECONDS_BUDGET:-240}
MU=${MU:-0.4}
PORT=${PORT:-7391}
rm -rf "$OUT"
mkdir -p "$OUT"
# No target: both run to the budget. The real server binds loopback and writes beside the logs.
sed -e "s/^  mean_time_per_step: [0-9.]*/  mean_time_per_step: $MU/" \
    -e "s/^  target_accuracy: [0-9.]*/  target_accuracy: 0/" \
    -e "s/^  max_seconds: [0-9]*/  max_seconds: $SECONDS_BUDGET/" \
    -e "s|^server:|server:\n  bind: tcp://127.0.0.1:$PORT\n  database: $OUT/real.sqlite|" \
    configs/experiments/paper-cnn.yaml >"$OUT/config.yaml"
"$BIN/sextant" simulate --config "$OUT/config.yaml" --algorithms compass --output "$OUT/simulated" \
    >"$OUT/simulated.log" 2>&1
"$BIN/sextant" launch --config "$OUT/config.yaml" --logs "$OUT/logs" >"$OUT/real.log" 2>&1
python3 bench/sim-vs-real.py --simulated "$OUT/simulated/results.csv" --database "$OUT/real.sqlite" \
    --title "Compass, 5 clients, mu $MU s/step: simulated and real" --into "${PLOT:-$OUT/sim-vs-real.png}"
