#!/usr/bin/env python3
"""Splits the Wisconsin breast-cancer data that scikit-learn ships into the CSV files of a
small consortium, as docs/your-own-data.md walks through.

Each site's file looks like a hospital's export: a patient identifier column (`patient_id`,
ignored by the model), a categorical column (`texture_group`, one-hot encoded with a
vocabulary the federation agrees on), some missing cells (imputed with the federation's
mean), and a text label (`diagnosis`: malignant or benign). A fifth of the patients is kept
back as `test.csv` for predictions, and `pooled.csv` holds every site's rows for the
centralised baselines.

    python3 examples/tabular/make_sites.py --output out/tabular --sites 3 --seed 7
"""

import argparse
import csv
import os
import random

from sklearn.datasets import load_breast_cancer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", required=True, help="directory for sites/, test.csv and pooled.csv")
    parser.add_argument("--sites", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--missing-fraction", type=float, default=0.03,
                        help="share of cells left empty in two columns")
    args = parser.parse_args()

    data = load_breast_cancer()
    names = [name.replace(" ", "_") for name in data.feature_names]
    texture = names.index("mean_texture")
    cut_low, cut_high = sorted(row[texture] for row in data.data)[len(data.data) // 3], \
        sorted(row[texture] for row in data.data)[2 * len(data.data) // 3]
    header = ["patient_id"] + [n for n in names if n != "mean_texture"] + ["texture_group", "diagnosis"]
    blanks = {"worst_smoothness", "mean_symmetry"}

    rng = random.Random(args.seed)
    rows = []
    for index, (values, target) in enumerate(zip(data.data, data.target)):
        row = [f"MRN-{100000 + index:06d}"]
        for name, value in zip(names, values):
            if name == "mean_texture":
                continue
            empty = name in blanks and rng.random() < args.missing_fraction
            row.append("" if empty else repr(float(value)))
        value = values[texture]
        row.append("low" if value < cut_low else ("high" if value >= cut_high else "mid"))
        row.append(data.target_names[target])
        rows.append(row)
    rng.shuffle(rows)

    test_count = int(len(rows) * args.test_fraction)
    test, train = rows[:test_count], rows[test_count:]
    # Sites of unequal size, as consortia have: shares 3:2:1 for three sites.
    weights = list(range(args.sites, 0, -1))
    bounds = [round(len(train) * sum(weights[:k]) / sum(weights)) for k in range(args.sites + 1)]

    sites = os.path.join(args.output, "sites")
    os.makedirs(sites, exist_ok=True)

    def write(path, chosen):
        with open(path, "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\r\n")
            writer.writerow(header)
            writer.writerows(chosen)

    for k in range(args.sites):
        write(os.path.join(sites, f"site-{k}.csv"), train[bounds[k]:bounds[k + 1]])
    write(os.path.join(args.output, "test.csv"), test)
    write(os.path.join(args.output, "pooled.csv"), train)
    print(f"wrote {args.sites} sites ({', '.join(str(bounds[k + 1] - bounds[k]) for k in range(args.sites))} "
          f"patients), {len(test)} test rows and the pooled file to {args.output}")


if __name__ == "__main__":
    main()
