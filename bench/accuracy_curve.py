#!/usr/bin/python3
"""Side-by-side accuracy curves: backprop and PyTorch train the same network with the same
hyperparameters on Fashion-MNIST, and the per-epoch test accuracies are printed together.

    /usr/bin/python3 bench/accuracy_curve.py --backprop build/backprop

Defaults are the seed's network as the issue states it: 784-128-10 sigmoid, softmax +
cross-entropy, SGD lr 0.1, batch 64, 10 epochs. Each side uses its own initialisation (Glorot
uniform for backprop, PyTorch's default for torch), so the curves agree up to that noise.
Exits 1 when a final accuracy differs by more than --tolerance points.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
from numpy_mlp import load_fashion_mnist  # noqa: E402  (the suite's one IDX reader)


def torch_curve(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    train_x, train_y, test_x, test_y = load_fashion_mnist(args.data)
    x_train = torch.from_numpy(train_x.copy())
    y_train = torch.from_numpy(train_y)
    x_test = torch.from_numpy(test_x.copy()).float() / 255
    y_test = torch.from_numpy(test_y)
    widths = [int(w) for w in args.layers.split(",")]
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(torch.nn.Sigmoid() if args.activation == "sigmoid" else torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)
    curve = []
    for _ in range(args.epochs):
        order = torch.randperm(len(x_train), generator=generator)
        for start in range(0, len(order), args.batch):
            idx = order[start:start + args.batch]
            loss = loss_fn(model(x_train[idx].float() / 255), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            curve.append((model(x_test).argmax(1) == y_test).float().mean().item())
    return curve


def backprop_curve(args):
    with tempfile.TemporaryDirectory() as tmp:
        metrics = os.path.join(tmp, "metrics.jsonl")
        cmd = [args.backprop, "train", "--data", args.data, "--layers", args.layers, "--activation",
               args.activation, "--optimizer", "sgd", "--lr", str(args.lr), "--batch", str(args.batch),
               "--epochs", str(args.epochs), "--seed", str(args.seed), "--metrics", metrics,
               "-o", os.path.join(tmp, "model.safetensors"), "--quiet"]
        subprocess.run(cmd, check=True)
        with open(metrics) as f:
            return [json.loads(line)["test_accuracy"] for line in f]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backprop", default="build/backprop")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--layers", default="784,128,10")
    parser.add_argument("--activation", default="sigmoid", choices=["sigmoid", "relu"])
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tolerance", type=float, default=1.0, help="percentage points")
    args = parser.parse_args()

    started = time.time()
    ours = backprop_curve(args)
    ours_seconds = time.time() - started
    started = time.time()
    theirs = torch_curve(args)
    theirs_seconds = time.time() - started
    print(f"{args.layers} {args.activation}, SGD lr {args.lr}, batch {args.batch}, {args.epochs} epochs, seed {args.seed}")
    print(f"{'epoch':>5} {'backprop':>9} {'pytorch':>9} {'diff (pts)':>10}")
    for epoch, (a, b) in enumerate(zip(ours, theirs), 1):
        print(f"{epoch:>5} {a:>9.4f} {b:>9.4f} {100 * (a - b):>+10.2f}")
    worst = max(abs(a - b) for a, b in zip(ours, theirs)) * 100
    final = abs(ours[-1] - theirs[-1]) * 100
    print(f"largest difference {worst:.2f} points, final {final:.2f} points "
          f"(backprop run {ours_seconds:.1f} s incl. evaluation, pytorch {theirs_seconds:.1f} s)")
    return 0 if final <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
