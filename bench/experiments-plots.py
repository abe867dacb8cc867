#!/usr/bin/env python3
"""Plots of `sextant simulate --seeds N` sweeps for docs/experiments.md.

For every sweep directory given (the --output of one simulate run, holding seeds.csv and
seed-S/results.csv), writes into --into:
  <name>-curves.png  accuracy against virtual time, every seed's curve, one colour per
                     algorithm, the target as a dashed line;
  times.png          per setting and algorithm, the median time to the target (held for
                     --held evaluations) over seeds, with the whole range of the seeds as the
                     interval and the seeds that never reached it marked at the right edge.

Needs matplotlib (`make plots` installs it from PyPI). Not part of `make test`.
    python3 bench/experiments-plots.py --target 0.8 --into docs/experiments out/paper-cnn/class-normal ...
"""

import argparse
import csv
import math
import os
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = {
    "compass": "#d62728",
    "fedavg": "#1f77b4",
    "fedavgm": "#17becf",
    "fedasync": "#2ca02c",
    "fedbuff": "#9467bd",
    "fedadam": "#ff7f0e",
}


def read_curves(sweep):
    """{algorithm: [(seed, [t...], [accuracy...]), ...]} from every seed-S/results.csv."""
    curves = {}
    for entry in sorted(os.listdir(sweep)):
        path = os.path.join(sweep, entry, "results.csv")
        if not entry.startswith("seed-") or not os.path.exists(path):
            continue
        series = {}
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                times, accuracies = series.setdefault(row["algorithm"], ([], []))
                times.append(float(row["virtual_seconds"]))
                accuracies.append(float(row["accuracy"]))
        for algorithm, (times, accuracies) in series.items():
            curves.setdefault(algorithm, []).append((entry[5:], times, accuracies))
    return curves


def read_times(sweep):
    """{algorithm: [robust time or None per seed]} from seeds.csv."""
    times = {}
    with open(os.path.join(sweep, "seeds.csv"), newline="") as handle:
        for row in csv.DictReader(handle):
            value = row["robust_seconds"]
            times.setdefault(row["algorithm"], []).append(float(value) if value else None)
    return times


def label(sweep):
    return os.path.basename(os.path.normpath(sweep))


def plot_curves(sweep, target, into):
    curves = read_curves(sweep)
    figure, axes = plt.subplots(figsize=(7, 4), dpi=100)
    for algorithm, runs in curves.items():
        for index, (_, times, accuracies) in enumerate(runs):
            axes.plot(
                times, accuracies, color=COLOURS.get(algorithm, "grey"), linewidth=0.9, alpha=0.8,
                label=algorithm if index == 0 else None)
    axes.axhline(target, color="black", linestyle="--", linewidth=0.8, label=f"target {target:.0%}")
    axes.set_xlabel("virtual time (s)")
    axes.set_ylabel("test accuracy")
    axes.set_ylim(0, 1)
    axes.set_title(f"{label(sweep)}: every seed's curve")
    axes.legend(fontsize=8, loc="lower right")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    path = os.path.join(into, f"{label(sweep)}-curves.png")
    figure.savefig(path)
    plt.close(figure)
    return path


def plot_times(sweeps, held, into):
    figure, axes = plt.subplots(figsize=(7, 0.6 + 1.6 * len(sweeps)), dpi=100)
    ticks, names, right = [], [], 0.0
    rows = []
    for row, sweep in enumerate(sweeps):
        times = read_times(sweep)
        for column, (algorithm, values) in enumerate(times.items()):
            y = row * (len(times) + 1) + column
            reached = sorted(v for v in values if v is not None)
            ordered = reached + [math.inf] * (len(values) - len(reached))
            rows.append((y, algorithm, statistics.median(ordered), ordered[0], ordered[-1]))
            right = max([right] + reached)
            ticks.append(y)
            names.append(f"{label(sweep)}  {algorithm}")
    edge = right * 1.1 if right > 0 else 1
    for y, algorithm, median, low, high in rows:
        colour = COLOURS.get(algorithm, "grey")
        shown_high = min(high, edge)
        if math.isfinite(low):
            axes.plot([low, shown_high], [y, y], color=colour, linewidth=2, alpha=0.5)
        if math.isfinite(median):
            axes.plot([median], [y], "o", color=colour)
        else:
            axes.plot([edge], [y], ">", color=colour)
    axes.set_yticks(ticks, names, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, edge * 1.02)
    axes.set_xlabel(f"virtual seconds to the target held for {held} evaluations (dot: median; bar: range of seeds; >: not reached)")
    axes.xaxis.label.set_size(8)
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    path = os.path.join(into, "times.png")
    figure.savefig(path)
    plt.close(figure)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sweeps", nargs="+", help="output directories of sextant simulate --seeds")
    parser.add_argument("--target", type=float, required=True, help="the target accuracy of the sweeps")
    parser.add_argument("--held", type=int, default=3, help="the sweeps' --held")
    parser.add_argument("--into", default="docs/experiments", help="directory for the PNG files")
    arguments = parser.parse_args()
    os.makedirs(arguments.into, exist_ok=True)
    for sweep in arguments.sweeps:
        print("wrote", plot_curves(sweep, arguments.target, arguments.into))
    print("wrote", plot_times(arguments.sweeps, arguments.held, arguments.into))


if __name__ == "__main__":
    main()
