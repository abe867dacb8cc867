#!/bin/sh
# The CNN experiments of docs/experiments.md: configs/experiments/paper-cnn.yaml (the FedCompass
# paper's training setup) under each setting named on the command line, $SEEDS seeds each,
# Compass against FedAsync, FedBuff, FedAvg, FedAdam (FedAvg with `server.optimizer: fedadam`)
# and FedAvgM. Every (algorithm, seed) is its own `sextant simulate` run, $JOBS at a time,
# in that order of priority, so that whatever has finished is usable; each stops once the
# target has held for 3 evaluations, or at the virtual budget.
#
#   swift build -c release --product sextant
#   sh bench/paper-cnn.sh class-normal dirichlet-normal class-exponential
#   python3 bench/experiments-plots.py --target 0.8 out/paper-cnn/class-normal ...
#
# A setting is PARTITION-SPEEDS with PARTITION class or dirichlet (dual-Dirichlet) and SPEEDS
# normal or exponential. Run S of algorithm A writes $OUT/SETTING/seed-S/A/ (results.csv,
# summary.md, accuracy.svg); $OUT/SETTING/cpu.txt gets the CPU seconds of every run.
set -eu
BIN=${SEXTANT_BIN:-.build/release}
OUT=${OUT:-out/paper-cnn}
TARGET=${TARGET:-0.80}
SEEDS=${SEEDS:-3}
BUDGET=${BUDGET:-300}
CLIENTS=${CLIENTS:-5}
JOBS=${JOBS:-3}
ALGORITHMS=${ALGORITHMS:-compass fedasync fedbuff fedavg fedadam fedavgm}
# One run: FedAdam is fedavg under the configuration with the server optimizer.
run() {
    setting=$1 algorithm=$2 seed=$3
    config="$OUT/$setting/seed-$seed-none.yaml" kind=$algorithm
    if [ "$algorithm" = fedadam ]; then config="$OUT/$setting/seed-$seed-fedadam.yaml" kind=fedavg; fi
    directory="$OUT/$setting/seed-$seed/$algorithm"
    mkdir -p "$directory"
    /usr/bin/time -f "$setting $algorithm $seed %U %S" -a -o "$OUT/$setting/cpu.txt" \
        nice -n 10 "$BIN/sextant" simulate --config "$config" --algorithms "$kind" --title "$setting $algorithm" \
        --target-accuracy "$TARGET" --stop-when-held --max-time "$BUDGET" --latency 1 --output "$directory" \
        >"$directory/simulate.log" 2>&1 || echo "failed: $setting $algorithm seed $seed (see $directory/simulate.log)"
}
if [ "${1:-}" = --run ]; then
    shift
    run "$@"
    exit 0
fi
[ $# -gt 0 ] || set -- class-normal
mkdir -p "$OUT"
queue="$OUT/queue.txt"
: >"$queue"
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
    mkdir -p "$OUT/$setting"
    for seed in $(seq 1 "$SEEDS"); do
        for optimizer in none fedadam; do
            sed -e "s/^  seed: [0-9]*/  seed: $seed/" \
                -e "s/^  partition: class\$/  partition: $partition/" \
                -e "s/^  speed_distribution: normal\$/  speed_distribution: $speeds/" \
                -e "s/^  count: [0-9]*/  count: $CLIENTS/" -e "s/^  min_clients: [0-9]*/  min_clients: $CLIENTS/" \
                -e "s/^  optimizer: none /  optimizer: $optimizer /" \
                configs/experiments/paper-cnn.yaml >"$OUT/$setting/seed-$seed-$optimizer.yaml"
        done
    done
    # The queue: every seed of one algorithm, then the next algorithm; with ORDER=seed every
    # algorithm of one seed, then the next seed, so that a queue cut short leaves paired runs.
    if [ "${ORDER:-algorithm}" = seed ]; then
        for seed in $(seq 1 "$SEEDS"); do
            for algorithm in $ALGORITHMS; do echo "$setting $algorithm $seed" >>"$queue"; done
        done
    else
        for algorithm in $ALGORITHMS; do
            for seed in $(seq 1 "$SEEDS"); do echo "$setting $algorithm $seed" >>"$queue"; done
        done
    fi
done

xargs -r -P "$JOBS" -L 1 sh "$0" --run <"$queue"
