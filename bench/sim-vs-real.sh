#!/bin/sh
# The simulator against the real thing (docs/experiments.md): one setting, run by
# `sextant simulate` on its virtual clock and by `sextant launch` as a real federation on
# loopback (a server and 5 client processes, release binaries, speeds emulated by the
# clients), with the same configuration and seed; then one plot of both curves.
#
#   swift build -c release
#   sh bench/sim-vs-real.sh
#
# The setting is $BASE (by default the logistic regression of configs/experiments/class-normal.yaml)
# with 5 clients, Compass, a budget of $SECONDS_BUDGET seconds and a mean time per step of $MU
# seconds. The logistic regression is the default because its real training takes a small
# share of the emulated time even on a busy machine, so that the gap shows the simulator's
# model rather than CPU contention; BASE=configs/experiments/paper-cnn.yaml MU=0.5 runs the CNN.
set -eu
BIN=${SEXTANT_BIN:-.build/release}
OUT=${OUT:-out/sim-vs-real}
BASE=${BASE:-configs/experiments/class-normal.yaml}
SECONDS_BUDGET=${SECONDS_BUDGET:-120}
MU=${MU:-0.15}
PORT=${PORT:-7391}
rm -rf "$OUT"
mkdir -p "$OUT"
# No target: both run to the budget. The real server binds loopback and writes beside the logs.
sed -e "s/^  kind: [a-z]*/  kind: compass/" \
    -e "s/^  count: [0-9]*/  count: 5/" -e "s/^  min_clients: [0-9]*/  min_clients: 5/" \
    -e "s/^  mean_time_per_step: [0-9.]*/  mean_time_per_step: $MU/" \
    -e "s/^  target_accuracy: [0-9.]*/  target_accuracy: 0/" \
    -e "s/^  max_seconds: [0-9]*/  max_seconds: $SECONDS_BUDGET/" \
    -e "s|^server:|server:\n  bind: tcp://127.0.0.1:$PORT\n  database: $OUT/real.sqlite|" \
    "$BASE" >"$OUT/config.yaml"
grep -q '^server:' "$BASE" ||
    printf 'server:\n  bind: tcp://127.0.0.1:%s\n  database: %s/real.sqlite\n' "$PORT" "$OUT" >>"$OUT/config.yaml"
"$BIN/sextant" simulate --config "$OUT/config.yaml" --algorithms compass --output "$OUT/simulated" \
    >"$OUT/simulated.log" 2>&1
"$BIN/sextant" launch --config "$OUT/config.yaml" --logs "$OUT/logs" >"$OUT/real.log" 2>&1
python3 bench/sim-vs-real.py --simulated "$OUT/simulated/results.csv" --database "$OUT/real.sqlite" \
    --title "Compass, 5 clients, $(basename "$BASE" .yaml), mu $MU s/step: simulated and real" --into "${PLOT:-$OUT/sim-vs-real.png}"
