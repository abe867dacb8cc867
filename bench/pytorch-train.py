#!/usr/bin/env python3
"""Training throughput of Sextant's mlp and cnn against PyTorch's, side by side.

Both sides train the same models (Sextant's `mlp` and `cnn` presets, rebuilt here as
`nn.Sequential`) on random Fashion-MNIST-shaped batches of 64 with SGD (lr 0.01, momentum
0.9), on one thread, and count training samples per CPU-second of their process. The runs
are interleaved (Sextant, then PyTorch, round after round) so that a change in the
machine's load hits both; the medians over the rounds are compared.

Needs PyTorch (CPU wheel) in the interpreter that runs it, for example:
    python3 -m venv /tmp/torch-venv && /tmp/torch-venv/bin/pip install torch numpy
    swift build -c release --product sextant
    /tmp/torch-venv/bin/python bench/pytorch-train.py --sextant .build/release/sextant
Not part of `make test`.
"""

import argparse
import json
import statistics
import subprocess
import time

import torch
from torch import nn

BATCH = 64


def make_model(name: str) -> nn.Module:
    if name == "mlp":
        return nn.Sequential(
            nn.Flatten(), nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(1024, 512), nn.ReLU(), nn.Linear(512, 10))
    raise ValueError(name)


def pytorch_rate(name: str, steps: int) -> float:
    """Training samples per CPU-second of this process for `steps` steps after a warm-up."""
    torch.manual_seed(1)
    model = make_model(name)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    inputs = torch.randn(BATCH, 1, 28, 28)
    labels = torch.randint(0, 10, (BATCH,))

    def step() -> None:
        optimizer.zero_grad(set_to_none=False)
        loss_fn(model(inputs), labels).backward()
        optimizer.step()

    for _ in range(3):
        step()
    start = time.process_time()
    for _ in range(steps):
        step()
    return steps * BATCH / (time.process_time() - start)


def sextant_rates(binary: str, repetitions: int) -> dict:
    """One `sextant bench train` run: samples per CPU-second for each model."""
    output = subprocess.run(
        [binary, "bench", "train", "--json", "--threads", "1", "--repetitions", str(repetitions)],
        check=True, capture_output=True, text=True).stdout
    report = json.loads(output)
    return {r["model"]: r["samplesPerCPUSecond"] for r in report["results"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sextant", default=".build/release/sextant", help="the sextant executable")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (medians are reported)")
    parser.add_argument("--steps", type=int, default=40, help="PyTorch steps per measurement")
    args = parser.parse_args()
    torch.set_num_threads(1)
    models = ["mlp", "cnn"]
    sextant = {m: [] for m in models}
    pytorch = {m: [] for m in models}
    for round_index in range(args.rounds):
        for model, rate in sextant_rates(args.sextant, 3).items():
            if model in sextant:
                sextant[model].append(rate)
        for model in models:
            pytorch[model].append(pytorch_rate(model, args.steps))
        print(f"round {round_index + 1}: " + ", ".join(
            f"{m} sextant {sextant[m][-1]:.0f} pytorch {pytorch[m][-1]:.0f}" for m in models), flush=True)
    print(f"PyTorch {torch.__version__}, 1 thread, batch {BATCH}, training samples per CPU-second "
          f"(median of {args.rounds} interleaved rounds)")
    print("model    sextant    pytorch   sextant/pytorch")
    for model in models:
        s, p = statistics.median(sextant[model]), statistics.median(pytorch[model])
        print(f"{model:5}  {s:9.0f}  {p:9.0f}   {s / p:6.2f}x")


if __name__ == "__main__":
    main()
