#!/bin/sh
# The CNN experiments of docs/experiments.md: configs/experiments/paper-cnn.yaml (the FedCompass
# paper's training setup) under each setting named on the command line, three seeds each,
# Compass against FedAvg, FedAvgM, FedAsync, FedBuff and FedAdam (FedAvg with
# `server.optimizer: fedadam`, a second sweep since FedAvgM cannot take a server optimizer).
# Every algorithm stops once the target has held for 3 evaluations, or at the budget.
#
#   swift build -c release --product sextant
#   sh bench/paper-cnn.sh class-normal dirichlet-normal class-exponential
#
# A setting is PARTITION-SPEEDS with PARTITION class or dirichlet (dual-Dirichlet) and SPEEDS
# normal or exponential. Results go to $OUT/SETTING (seeds.md, seeds.csv, seed-S/) and
# $OUT/SETTING-fedadam; each seeds.md states the CPU time of its sweep.
set -eu
BIN=${SEXTANT_BIN:-.build/release}
OUT=${OUT:-out/paper-cnn}
TARGET=${TARGET:-0.80}
SEEDS=${SEEDS:-3}
BUDGET=${BUDGET:-1200}
CLIENTS=${CLIENTS:-5}
[ $# -gt 0 ] || set -- class-normal
mkdir -p "$OUT"
for setting in "$@"; do
    partition=${setting%-*}
    speeds=${setting#*-}
    case $partition in
    class) ;;
    dirichlet) partition=dual-dirichlet ;;
    *) echo "unknown partition in $setting: use class or dirichlet" >&2 && exit 2 ;;
    esac
    case $speeds in
    normal | exponential) ;;
    *) echo "unknown speeds in $setting: use normal or exponential" >&2 && exit 2 ;;
    esac
    sed -e "s/^  partition: class\$/  partition: $partition/" \
        -e "s/^  speed_distribution: normal\$/  speed_distribution: $speeds/" \
        -e "s/^  count: [0-9]*/  count: $CLIENTS/" -e "s/^  min_clients: [0-9]*/  min_clients: $CLIENTS/" \
        configs/experiments/paper-cnn.yaml >"$OUT/$setting.yaml"
    sed -e 's/^  optimizer: none /  optimizer: fedadam /' "$OUT/$setting.yaml" >"$OUT/$setting-fedadam.yaml"
    common="--seeds $SEEDS --target-accuracy $TARGET --stop-when-held --max-time $BUDGET --latency 1"
    # The two sweeps run side by side: three seeds over two processes leave one idle otherwise.
    # shellcheck disable=SC2086
    nice -n 10 "$BIN/sextant" simulate --config "$OUT/$setting.yaml" --title "$setting" $common \
        --algorithms compass,fedavg,fedavgm,fedasync,fedbuff --processes 2 --output "$OUT/$setting" \
        >"$OUT/$setting.log" 2>&1 &
    # shellcheck disable=SC2086
    nice -n 10 "$BIN/sextant" simulate --config "$OUT/$setting-fedadam.yaml" --title "$setting fedadam" $common \
        --algorithms fedavg --processes 1 --output "$OUT/$setting-fedadam" >"$OUT/$setting-fedadam.log" 2>&1
    wait
    tail -n 3 "$OUT/$setting.log" "$OUT/$setting-fedadam.log"
done
