#!/usr/bin/env python3
"""Runs a model that `sextant checkpoints export` wrote on raw CSV rows, with onnxruntime and
with safetensors + numpy, as docs/your-own-data.md shows, and compares both with
`sextant predict`'s file when one is given.

    python3 examples/tabular/predict_with_onnxruntime.py --onnx out/tabular/model.onnx \\
        --safetensors out/tabular/model.safetensors --data out/tabular/test.csv \\
        [--sextant out/tabular/predictions.csv]

The pipeline the federation agreed travels in the safetensors metadata (`pipeline`): the ONNX
graph takes one value per pipeline column, in that order, numbers as they are (empty: NaN,
imputed inside the graph) and a categorical column as its category's index in the agreed
vocabulary (NaN when missing or unknown).
"""

import argparse
import csv
import json

import numpy as np
import onnxruntime
from safetensors.numpy import safe_open


def raw_features(pipeline, header, rows):
    features = np.zeros((len(rows), len(pipeline["columns"])), dtype=np.float32)
    for j, column in enumerate(pipeline["columns"]):
        position = header.index(column["name"])
        vocabulary = column["kind"].get("categorical", {}).get("_0", {}).get("vocabulary")
        for i, row in enumerate(rows):
            cell = row[position].strip()
            if vocabulary is not None:
                features[i, j] = vocabulary.index(cell) if cell in vocabulary else np.nan
            else:
                features[i, j] = float(cell) if cell else np.nan
    return features


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--onnx", required=True)
    parser.add_argument("--safetensors", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--sextant", help="sextant predict's output for the same rows")
    args = parser.parse_args()

    with safe_open(args.safetensors, framework="numpy") as f:
        metadata = f.metadata()
    pipeline = json.loads(metadata["pipeline"])
    classes = pipeline["target"]["classes"]
    with open(args.data, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    features = raw_features(pipeline, header, rows)

    session = onnxruntime.InferenceSession(args.onnx, providers=["CPUExecutionProvider"])
    outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"features": features})))
    if "probabilities" in outputs:
        predicted = [classes[i] for i in outputs["label"]]
        label = pipeline["target"]["name"]
        if label in header:
            truth = [row[header.index(label)] for row in rows]
            accuracy = np.mean([p == t for p, t in zip(predicted, truth)])
            print(f"onnxruntime: {len(rows)} rows, accuracy {accuracy:.4f} against the file's '{label}' column")
    else:
        label = pipeline["target"]["name"]
        if label in header:
            truth = np.array([float(row[header.index(label)]) for row in rows])
            error = truth - outputs["prediction"][:, 0]
            r2 = 1 - np.sum(error**2) / np.sum((truth - truth.mean()) ** 2)
            print(f"onnxruntime: {len(rows)} rows, MAE {np.mean(np.abs(error)):.4f}, R2 {r2:.4f} "
                  f"against the file's '{label}' column")
    if args.sextant:
        with open(args.sextant, newline="") as f:
            theirs = list(csv.reader(f))[1:]
        values = outputs.get("probabilities", outputs.get("prediction"))
        # Classification: the label, then the probabilities; regression: the predictions.
        first = 1 if "probabilities" in outputs else 0
        ours = np.array([[float(x) for x in row[first:]] for row in theirs], dtype=np.float64)
        difference = np.max(np.abs(ours - values))
        print(f"largest difference from sextant predict: {difference:.2e}")


if __name__ == "__main__":
    main()
