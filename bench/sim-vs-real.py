#!/usr/bin/env python3
"""The simulator against a real federation: one accuracy-against-time plot of both.

Reads the curve of one algorithm from `sextant simulate`'s results.csv (virtual seconds) and
the checkpoints of a real run (`sextant launch`) from its SQLite database: each version's
commit time and test accuracy. The real clock starts when the first local task started
(the earliest update's receipt time less its compute seconds), which is what virtual time 0
is in the simulator. Prints, per client, the real seconds per local step (compute seconds
over steps, from the updates table) beside the emulated ones, which is where most of a gap
comes from on a busy machine.

Needs matplotlib (`make plot-deps` installs it from PyPI). Not part of `make test`.
    python3 bench/sim-vs-real.py --simulated out/sim-vs-real/simulated/results.csv \
        --database out/sim-vs-real/real.sqlite --algorithm compass --into docs/experiments/sim-vs-real.png
"""

import argparse
import csv
import json
import sqlite3

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def simulated_curve(path, algorithm):
    times, accuracies = [], []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            if row["algorithm"] == algorithm:
                times.append(float(row["virtual_seconds"]))
                accuracies.append(float(row["accuracy"]))
    if not times:
        raise SystemExit(f"{path} has no rows of algorithm {algorithm}")
    return times, accuracies


def real_run(path):
    """The real run's curve from its clock's start, and per client its seconds per step."""
    database = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    start = database.execute(
        "SELECT MIN(received - compute_seconds) FROM updates WHERE steps > 0").fetchone()[0]
    if start is None:
        raise SystemExit(f"{path} holds no update: did the real run train?")
    times, accuracies = [], []
    for version, created, metrics in database.execute(
            "SELECT version, created, metrics FROM checkpoints ORDER BY version"):
        accuracy = json.loads(metrics).get("accuracy")
        if accuracy is not None:
            times.append(max(0.0, created - start) if version > 0 else 0.0)
            accuracies.append(accuracy)
    speeds = database.execute(
        "SELECT client, SUM(compute_seconds) / SUM(steps), COUNT(*), MIN(received - compute_seconds) - ? "
        "FROM updates WHERE steps > 0 GROUP BY client ORDER BY client", (start,)).fetchall()
    return times, accuracies, speeds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--simulated", required=True, help="results.csv of sextant simulate")
    parser.add_argument("--database", required=True, help="the real run's checkpoint database")
    parser.add_argument("--algorithm", default="compass")
    parser.add_argument("--title", default="Compass, 5 clients: simulated and real")
    parser.add_argument("--into", required=True, help="the PNG to write")
    arguments = parser.parse_args()

    sim_times, sim_accuracies = simulated_curve(arguments.simulated, arguments.algorithm)
    real_times, real_accuracies, speeds = real_run(arguments.database)
    horizon = min(sim_times[-1], real_times[-1])

    figure, axes = plt.subplots(figsize=(7, 4), dpi=100)
    axes.plot(sim_times, sim_accuracies, color="#d62728", label=f"simulated ({len(sim_times) - 1} versions)")
    axes.plot(real_times, real_accuracies, color="#1f77b4", label=f"real, loopback ({len(real_times) - 1} versions)")
    axes.set_xlabel("seconds since the first task started (virtual, or wall-clock)")
    axes.set_ylabel("test accuracy")
    axes.set_ylim(0, 1)
    axes.set_title(arguments.title)
    axes.legend(loc="lower right")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(arguments.into)
    print("wrote", arguments.into)

    def last_before(times, accuracies, limit):
        return max((t, a) for t, a in zip(times, accuracies) if t <= limit)[1]

    print(f"versions within {horizon:.0f} s: simulated {sum(t <= horizon for t in sim_times) - 1}, "
          f"real {sum(t <= horizon for t in real_times) - 1}")
    print(f"accuracy at {horizon:.0f} s: simulated {last_before(sim_times, sim_accuracies, horizon):.4f}, "
          f"real {last_before(real_times, real_accuracies, horizon):.4f}")
    print("| client | real s/step (compute seconds / steps) | updates | first task started (s) |")
    print("|---|---:|---:|---:|")
    for client, per_step, updates, started in speeds:
        print(f"| {client} | {per_step:.3f} | {updates} | {started:.1f} |")


if __name__ == "__main__":
    main()
