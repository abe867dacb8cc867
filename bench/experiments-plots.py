#!/usr/bin/env python3
"""Tables and plots of bench/paper-cnn.sh's runs for docs/experiments.md.

For every setting directory given (SETTING/seed-S/ALGORITHM/results.csv, one `sextant
simulate` run each), prints a Markdown table: per accuracy (--target, then each of --also)
and algorithm the median time to it over the seeds run, first crossing and held for --held
consecutive evaluations (the same statistics as `sextant simulate --seeds`: a seed that never
reached it counts as later than any that did; with 3 seeds the order-statistic interval of
the median is the whole range, which covers the median with probability 75%), the seeds that
reached it, the median accuracy at the end of the runs, and their CPU seconds (from
SETTING/cpu.txt). Writes into
--into:
  SETTING-curves.png  accuracy against virtual time, every seed's curve, one colour per
                      algorithm, the target as a dashed line;
  times.png           per setting and algorithm, the median time to the held target (dot) and
                      the range over seeds (bar); a seed that never reached it is drawn at the
                      right edge (>).
With --pairs, also Compass against each baseline paired by seed (the same partition, speeds
and initial model): who crosses each of the --pairs accuracies first, and who is ahead at the
end (the accuracy of each at the last virtual time both runs reached), per setting and over
all settings, with one-sided sign-test p-values (ties and pairs where neither reached the
accuracy left out).

Needs matplotlib (`make plot-deps` installs it from PyPI). Not part of `make test`.
    python3 bench/experiments-plots.py --target 0.8 --also 0.75,0.7 --pairs 0.7,0.75,0.8 \
        --into docs/experiments out/paper-cnn/class-normal
"""

import argparse
import csv
import math
import os
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ORDER = ["compass", "fedasync", "fedbuff", "fedavg", "fedadam", "fedavgm"]
COLOURS = {
    "compass": "#d62728",
    "fedavg": "#1f77b4",
    "fedavgm": "#17becf",
    "fedasync": "#2ca02c",
    "fedbuff": "#9467bd",
    "fedadam": "#ff7f0e",
}


def read_runs(setting):
    """{algorithm: {seed: (times, accuracies)}} of the runs that finished."""
    runs = {}
    for seed_entry in sorted(os.listdir(setting)):
        seed_directory = os.path.join(setting, seed_entry)
        if not seed_entry.startswith("seed-") or not os.path.isdir(seed_directory):
            continue
        for algorithm in os.listdir(seed_directory):
            path = os.path.join(seed_directory, algorithm, "results.csv")
            if not os.path.exists(path):
                continue
            times, accuracies = [], []
            with open(path, newline="") as handle:
                for row in csv.DictReader(handle):
                    times.append(float(row["virtual_seconds"]))
                    accuracies.append(float(row["accuracy"]))
            runs.setdefault(algorithm, {})[int(seed_entry[5:])] = (times, accuracies)
    return {a: runs[a] for a in ORDER if a in runs}


def first_crossing(times, accuracies, target):
    return next((t for t, a in zip(times, accuracies) if a >= target), None)


def held(times, accuracies, target, count):
    """The first of `count` consecutive evaluations at or above the target."""
    streak = 0
    for index, accuracy in enumerate(accuracies):
        streak = streak + 1 if accuracy >= target else 0
        if streak == count:
            return times[index - count + 1]
    return None


def median_range(values):
    ordered = sorted(math.inf if v is None else v for v in values)
    return statistics.median(ordered), ordered[0], ordered[-1]


def seconds(value):
    return f"{value:.1f}" if math.isfinite(value) else "not reached"


def median_and_range(values):
    median, low, high = median_range(values)
    return seconds(median) if low == high else f"{seconds(median)} [{seconds(low)}, {seconds(high)}]"


def cpu_seconds(setting):
    """CPU seconds per algorithm of the runs that finished, and of those stopped by a signal."""
    totals, aborted, killed = {}, 0.0, False
    path = os.path.join(setting, "cpu.txt")
    if os.path.exists(path):
        with open(path) as handle:
            for line in handle:
                fields = line.split()
                if line.startswith("Command terminated"):
                    killed = True
                elif len(fields) == 5:
                    cpu = float(fields[3]) + float(fields[4])
                    if killed:
                        aborted += cpu
                    else:
                        totals[fields[1]] = totals.get(fields[1], 0.0) + cpu
                    killed = False
    return totals, aborted


def table(setting, targets, count):
    """One row per target and algorithm; the first target's rows carry the final accuracy and CPU."""
    runs = read_runs(setting)
    cpu, aborted = cpu_seconds(setting)
    lines = [
        "| target | algorithm | seeds run | first crossing: median [range] (s) | held for "
        f"{count} evaluations: median [range] (s) | seeds reaching (first / held) | accuracy at the end (median) | CPU (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for index, target in enumerate(targets):
        for row, (algorithm, by_seed) in enumerate(runs.items()):
            firsts = [first_crossing(t, a, target) for t, a in by_seed.values()]
            robust = [held(t, a, target, count) for t, a in by_seed.values()]
            final = statistics.median(a[-1] for _, a in by_seed.values())
            label = f"{target * 100:g}%" if row == 0 else ""
            extra = f"{final * 100:.2f}% | {cpu.get(algorithm, 0):.0f}" if index == 0 else " | "
            lines.append(
                f"| {label} | {algorithm} | {', '.join(map(str, sorted(by_seed)))} | "
                f"{median_and_range(firsts)} | {median_and_range(robust)} | "
                f"{sum(v is not None for v in firsts)}/{len(firsts)} / {sum(v is not None for v in robust)}/{len(robust)} | "
                f"{extra} |")
    lines.append("")
    lines.append(f"CPU time of these runs: {sum(cpu.values()):.0f} s; of runs stopped before their end: {aborted:.0f} s")
    return "\n".join(lines)


def accuracy_at(times, accuracies, moment):
    """The accuracy of the last evaluation at or before `moment`."""
    return next(a for t, a in zip(reversed(times), reversed(accuracies)) if t <= moment)


def pair_outcomes(settings, marks):
    """{(setting, baseline, seed): {mark or "end": +1 Compass first/ahead, -1 baseline, 0 tie or neither}}."""
    outcomes = {}
    for setting in settings:
        name = os.path.basename(os.path.normpath(setting))
        runs = read_runs(setting)
        for baseline, by_seed in runs.items():
            if baseline == "compass":
                continue
            for seed, (times, accuracies) in sorted(by_seed.items()):
                if seed not in runs.get("compass", {}):
                    continue
                compass_times, compass_accuracies = runs["compass"][seed]
                outcome = {}
                for mark in marks:
                    mine = first_crossing(compass_times, compass_accuracies, mark)
                    theirs = first_crossing(times, accuracies, mark)
                    mine = math.inf if mine is None else mine
                    theirs = math.inf if theirs is None else theirs
                    outcome[mark] = 0 if mine == theirs else (1 if mine < theirs else -1)
                end = min(compass_times[-1], times[-1])
                difference = accuracy_at(compass_times, compass_accuracies, end) - accuracy_at(times, accuracies, end)
                outcome["end"] = 0 if difference == 0 else (1 if difference > 0 else -1)
                outcomes[(name, baseline, seed)] = outcome
    return outcomes


def sign_test(wins, losses):
    """One-sided sign-test p: the chance of at least `wins` of wins + losses under a fair coin."""
    n = wins + losses
    return sum(math.comb(n, k) for k in range(wins, n + 1)) / 2**n if n else 1.0


def pairs_table(settings, marks):
    outcomes = pair_outcomes(settings, marks)
    columns = [*marks, "end"]
    heading = [f"first to {m * 100:g}%" for m in marks] + ["ahead at the end"]
    lines = [
        "Compass against each baseline, paired by seed: Compass wins-baseline wins (ties or neither reached), "
        "one-sided sign-test p",
        "",
        "| setting | baseline | seeds | " + " | ".join(heading) + " |",
        "|---|---|---|" + "---:|" * len(columns),
    ]
    groups = {}
    for (setting, baseline, seed), outcome in outcomes.items():
        groups.setdefault((setting, baseline), []).append((seed, outcome))
        groups.setdefault(("all settings", baseline), []).append((seed, outcome))
        groups.setdefault(("all settings", "every baseline"), []).append((seed, outcome))

    def cell(results, column):
        wins = sum(o[column] == 1 for _, o in results)
        losses = sum(o[column] == -1 for _, o in results)
        ties = len(results) - wins - losses
        return f"{wins}-{losses}" + (f" ({ties})" if ties else "") + f", p = {sign_test(wins, losses):.3g}"

    order = sorted(groups, key=lambda key: (key[0] == "all settings", key[1] == "every baseline", key[0],
                                             ORDER.index(key[1]) if key[1] in ORDER else 0))
    for key in order:
        results = groups[key]
        seeds = ", ".join(str(seed) for seed, _ in results) if key[0] != "all settings" else f"{len(results)} pairs"
        lines.append(f"| {key[0]} | {key[1]} | {seeds} | " + " | ".join(cell(results, c) for c in columns) + " |")
    return "\n".join(lines)


def plot_curves(setting, target, into):
    figure, axes = plt.subplots(figsize=(7, 4), dpi=100)
    for algorithm, by_seed in read_runs(setting).items():
        for index, (times, accuracies) in enumerate(by_seed.values()):
            axes.plot(
                times, accuracies, color=COLOURS.get(algorithm, "grey"), linewidth=0.9, alpha=0.8,
                label=algorithm if index == 0 else None)
    axes.axhline(target, color="black", linestyle="--", linewidth=0.8, label=f"target {target:.0%}")
    axes.set_xlabel("virtual time (s)")
    axes.set_ylabel("test accuracy")
    axes.set_ylim(0, 1)
    axes.set_title(f"{os.path.basename(os.path.normpath(setting))}: every seed's curve (runs stop once the target held)")
    axes.title.set_size(9)
    axes.legend(fontsize=8, loc="lower right")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    path = os.path.join(into, f"{os.path.basename(os.path.normpath(setting))}-curves.png")
    figure.savefig(path)
    plt.close(figure)
    return path


def plot_times(settings, target, count, into):
    rows, right = [], 0.0
    for setting in settings:
        name = os.path.basename(os.path.normpath(setting))
        for algorithm, by_seed in read_runs(setting).items():
            robust = [held(t, a, target, count) for t, a in by_seed.values()]
            rows.append((f"{name}  {algorithm}", algorithm, *median_range(robust)))
            right = max([right] + [v for v in robust if v is not None])
        rows.append(None)
    edge = right * 1.1 if right > 0 else 1
    figure, axes = plt.subplots(figsize=(7, 0.8 + 0.3 * len(rows)), dpi=100)
    ticks, names = [], []
    for y, row in enumerate(rows):
        if row is None:
            continue
        name, algorithm, median, low, high = row
        colour = COLOURS.get(algorithm, "grey")
        if math.isfinite(low):
            axes.plot([low, min(high, edge)], [y, y], color=colour, linewidth=3, alpha=0.4)
        axes.plot([median if math.isfinite(median) else edge], [y], "o" if math.isfinite(median) else ">", color=colour)
        ticks.append(y)
        names.append(name)
    axes.set_yticks(ticks, names, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, edge * 1.03)
    axes.set_xlabel(
        f"virtual seconds to {target:.0%} held for {count} evaluations (dot: median; bar: range over seeds; >: not reached)")
    axes.xaxis.label.set_size(8)
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    path = os.path.join(into, "times.png")
    figure.savefig(path)
    plt.close(figure)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("settings", nargs="+", help="setting directories of bench/paper-cnn.sh")
    parser.add_argument("--target", type=float, required=True, help="the runs' target accuracy")
    parser.add_argument("--also", help="more accuracies for the table, comma-separated (e.g. 0.75,0.7)")
    parser.add_argument("--held", type=int, default=3, help="consecutive evaluations the target must hold")
    parser.add_argument("--into", help="directory for the PNG files (none: tables only)")
    parser.add_argument("--pairs", help="accuracies for the paired comparison, comma-separated (e.g. 0.7,0.75,0.8)")
    arguments = parser.parse_args()
    for setting in arguments.settings:
        print(f"### {os.path.basename(os.path.normpath(setting))}\n")
        targets = [arguments.target] + ([float(m) for m in arguments.also.split(",")] if arguments.also else [])
        print(table(setting, targets, arguments.held) + "\n")
    if arguments.pairs:
        print(pairs_table(arguments.settings, [float(m) for m in arguments.pairs.split(",")]) + "\n")
    if arguments.into:
        os.makedirs(arguments.into, exist_ok=True)
        for setting in arguments.settings:
            print("wrote", plot_curves(setting, arguments.target, arguments.into))
        print("wrote", plot_times(arguments.settings, arguments.target, arguments.held, arguments.into))


if __name__ == "__main__":
    main()
