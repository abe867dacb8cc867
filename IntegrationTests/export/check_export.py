#!/usr/bin/env python3
"""Loads a model that `sextant checkpoints export` wrote, as a Python user would, and checks
it against `sextant predict`.

  check_export.py rows --idx-dir DIR --count N --output rows.csv
      writes the first N Fashion-MNIST test images as raw rows: label, then the pixels / 255.
  check_export.py check --safetensors M.safetensors --onnx M.onnx --npz M.npz
                        --data rows.csv --predictions preds.csv [--tolerance 1e-5]
      runs the ONNX model with onnxruntime and the safetensors weights with numpy on the raw
      rows, and compares both with the predictions of `sextant predict`.

Prints one line per check and exits non-zero on the first mismatch.
"""
import argparse
import csv
import gzip
import json
import math
import os
import sys

import numpy as np


def write_rows(args):
    def read(name):
        with gzip.open(os.path.join(args.idx_dir, name), "rb") as f:
            return f.read()

    images = read("t10k-images-idx3-ubyte.gz")
    labels = read("t10k-labels-idx1-ubyte.gz")
    rows, cols = int.from_bytes(images[8:12], "big"), int.from_bytes(images[12:16], "big")
    size = rows * cols
    with open(args.output, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["label"] + [f"p{i}" for i in range(size)])
        for n in range(args.count):
            pixels = images[16 + n * size:16 + (n + 1) * size]
            writer.writerow([labels[8 + n]] + [repr(b / 255) for b in pixels])
    print(f"wrote {args.count} rows to {args.output}")


def raw_inputs(pipeline, path):
    """The ONNX model's `features` input for the rows of a CSV file (see the export's docs)."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    if pipeline.get("arrayShape") is not None:
        skipped = set(pipeline.get("ignored", [])) | {pipeline["target"]["name"]}
        keep = [i for i, name in enumerate(header) if name not in skipped]
        return np.array([[float(row[i]) for i in keep] for row in rows], dtype=np.float32)
    features = []
    for row in rows:
        values = []
        for column in pipeline["columns"]:
            cell = row[header.index(column["name"])].strip()
            kind = column["kind"]
            if "categorical" in kind:
                vocabulary = kind["categorical"]["_0"]["vocabulary"]
                values.append(float(vocabulary.index(cell)) if cell in vocabulary else -1.0)
            else:
                values.append(float(cell) if cell not in ("", "NA", "NaN") else math.nan)
        features.append(values)
    return np.array(features, dtype=np.float32)


def numpy_forward(spec, tensors, x):
    """The layers that the safetensors names describe, in numpy (flatten, linear, relu, tanh, sigmoid)."""
    for index, layer in enumerate(spec["layers"]):
        kind = layer["type"]
        if kind == "flatten":
            x = x.reshape(x.shape[0], -1)
        elif kind == "linear":
            x = x @ tensors[f"{index}.weight"].T + tensors[f"{index}.bias"]
        elif kind == "relu":
            x = np.maximum(x, 0)
        elif kind == "tanh":
            x = np.tanh(x)
        elif kind == "sigmoid":
            x = 1 / (1 + np.exp(-x))
        elif kind == "dropout":
            pass
        else:
            return None
    return x


def check(args):
    import onnxruntime
    from safetensors import safe_open
    from safetensors.numpy import load_file

    failures = []

    def expect(condition, message):
        print(("ok    " if condition else "FAIL  ") + message)
        if not condition:
            failures.append(message)

    tensors = load_file(args.safetensors)
    with safe_open(args.safetensors, framework="numpy") as f:
        metadata = f.metadata()
    spec = json.loads(metadata["model"])
    pipeline = json.loads(metadata["pipeline"])
    classes = json.loads(metadata["classes"])
    expect(metadata["format"] == "sextant-model-1", f"safetensors metadata: run {metadata['run']} version {metadata['version']}")

    archive = np.load(args.npz)
    npz_names = sorted(name for name in archive.files if name != "__metadata__")
    expect(npz_names == sorted(tensors), f"npz holds the safetensors names {sorted(tensors)}")
    expect(all(np.array_equal(archive[name], tensors[name]) for name in tensors), "npz arrays equal the safetensors tensors")
    expect(json.loads(str(archive["__metadata__"]))["model"] == metadata["model"], "npz metadata names the same model")

    x = raw_inputs(pipeline, args.data)
    session = onnxruntime.InferenceSession(args.onnx, providers=["CPUExecutionProvider"])
    outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"features": x})))

    with open(args.predictions, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        predicted = list(reader)
    expect(len(predicted) == x.shape[0], f"sextant predict wrote {len(predicted)} rows for {x.shape[0]}")
    if classes:
        expect(header == ["prediction"] + classes, f"prediction columns {header}")
        sextant = np.array([[float(v) for v in row[1:]] for row in predicted], dtype=np.float64)
        onnx = outputs["probabilities"].astype(np.float64)
        gap = float(np.max(np.abs(sextant - onnx)))
        expect(gap <= args.tolerance, f"onnxruntime probabilities match sextant predict: max gap {gap:.2e} <= {args.tolerance}")
        labels = [classes[i] for i in outputs["label"]]
        expect(labels == [row[0] for row in predicted], "onnxruntime labels equal sextant predict's")
    else:
        sextant = np.array([[float(v) for v in row] for row in predicted], dtype=np.float64)
        onnx = outputs["prediction"].astype(np.float64)
        gap = float(np.max(np.abs(sextant - onnx)))
        expect(gap <= args.tolerance, f"onnxruntime predictions match sextant predict: max gap {gap:.2e}")

    # safetensors + numpy: the preprocessing from the metadata, then the layers by their names.
    if pipeline.get("arrayShape") is not None:
        shape = pipeline["arrayShape"]
        z = x.reshape(x.shape[0], shape["channels"], shape["height"] * shape["width"])
        scaling = pipeline.get("arrayScaling", [])
        if scaling:
            shift = np.array([s["shift"] for s in scaling], dtype=np.float32).reshape(-1, 1)
            scale = np.array([s["scale"] for s in scaling], dtype=np.float32).reshape(-1, 1)
            z = (z - shift) * scale
        logits = numpy_forward(spec, tensors, z.reshape(x.shape[0], -1))
        if logits is not None and spec["task"]["type"] == "classification":
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            probabilities = e / e.sum(axis=1, keepdims=True)
            gap = float(np.max(np.abs(probabilities - sextant)))
            expect(gap <= args.tolerance, f"numpy on the safetensors weights matches sextant predict: max gap {gap:.2e}")
    accuracy = None
    if classes and pipeline["target"]["name"]:
        with open(args.data, newline="") as f:
            reader = csv.DictReader(f)
            truth = [row[pipeline["target"]["name"]] for row in reader]
        names = [classes[int(t)] if t.isdigit() and int(t) < len(classes) else t for t in truth]
        accuracy = sum(a == b for a, b in zip(names, labels)) / len(names)
        print(f"accuracy of the exported model on these rows: {accuracy:.4f}")
    if failures:
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    rows = sub.add_parser("rows")
    rows.add_argument("--idx-dir", required=True)
    rows.add_argument("--count", type=int, default=200)
    rows.add_argument("--output", required=True)
    checks = sub.add_parser("check")
    for name in ("safetensors", "onnx", "npz", "data", "predictions"):
        checks.add_argument(f"--{name}", required=True)
    checks.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    write_rows(args) if args.command == "rows" else check(args)


if __name__ == "__main__":
    main()
