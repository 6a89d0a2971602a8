#!/usr/bin/python3
"""PyTorch peer for bench/run.py: the same workloads as e2e_bench with torch.nn.Linear layers,
torch.optim.SGD / Adam and nn.functional.cross_entropy, on one to N threads
(torch.set_num_threads). Data stays a uint8 tensor and is converted per batch (/255); the
shuffle is torch.randperm with a seeded generator. Only the training loop is timed.
Prints one JSON object.

  torch_mlp.py --workload W1|W2|W3 [--threads N] [--epochs E] [--limit N] [--data DIR] [--seed S] [--json]
"""
import sys
import time

from numpy_mlp import (WORKLOADS, emit, inference_flop_per_sample, init_bounds, load_fashion_mnist, parse_args,
                       set_thread_env, train_flop_per_sample)


def build_model(torch, widths, activation, seed):
    """nn.Linear layers, initialised like backprop (uniform, He before ReLU, Glorot otherwise)."""
    torch.manual_seed(seed)
    layers = []
    bounds = init_bounds(widths, activation)
    for l in range(len(widths) - 1):
        lin = torch.nn.Linear(widths[l], widths[l + 1])
        with torch.no_grad():
            lin.weight.uniform_(-bounds[l], bounds[l])
            lin.bias.zero_()
        layers.append(lin)
        if l < len(widths) - 2:
            layers.append(torch.nn.ReLU() if activation == "relu" else torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers)


def main():
    args = parse_args(description=__doc__)
    set_thread_env(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    widths, activation, opt_name, lr, batch = WORKLOADS[args.workload]
    tx, ty, vx, vy = load_fashion_mnist(args.data)
    model = build_model(torch, widths, activation, args.seed)
    result = {"engine": "torch", "workload": args.workload, "threads": args.threads, "torch": torch.__version__}

    if args.workload == "W3":
        n = min(args.limit, vx.shape[0]) if args.limit else vx.shape[0]
        x = torch.from_numpy(vx[:n].copy()).float().div_(255.0)
        model.eval()
        checksum = 0.0
        with torch.inference_mode():
            for i in range(min(n, 100)):
                checksum += float(torch.softmax(model(x[i : i + 1]), dim=1)[0, 0])
            t0 = time.perf_counter()
            for i in range(n):
                checksum += float(torch.softmax(model(x[i : i + 1]), dim=1)[0, 0])
            b1 = time.perf_counter() - t0
            reps = 5
            checksum += float(torch.softmax(model(x), dim=1)[0, 0])
            t0 = time.perf_counter()
            for _ in range(reps):
                checksum += float(torch.softmax(model(x), dim=1)[n - 1, 0])
            bn = (time.perf_counter() - t0) / reps
        f = inference_flop_per_sample(widths)
        result.update(samples=n, batch1_seconds=b1, latency_us=b1 / n * 1e6, batch1_samples_per_second=n / b1,
                      batch1_gflops=f * n / b1 / 1e9, batch=n, seconds=bn, samples_per_second=n / bn,
                      flop=f * n, gflops=f * n / bn / 1e9, checksum=checksum)
        emit(result, args.json)
        return 0

    n = min(args.limit, tx.shape[0]) if args.limit else tx.shape[0]
    x_all = torch.from_numpy(tx[:n].copy())  # uint8
    y_all = torch.from_numpy(ty[:n].copy())
    if opt_name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(args.seed)
    loss_fn = torch.nn.functional.cross_entropy
    model.train()
    seconds = 0.0
    loss_sum = 0.0
    for _ in range(args.epochs):
        loss_sum = 0.0
        t0 = time.perf_counter()
        order = torch.randperm(n, generator=gen)
        for s in range(0, n, batch):
            idx = order[s : s + batch]
            xb = x_all[idx].float().div_(255.0)
            loss = loss_fn(model(xb), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
        seconds += time.perf_counter() - t0

    model.eval()
    correct = 0
    with torch.inference_mode():
        xv = torch.from_numpy(vx.copy())
        yv = torch.from_numpy(vy.copy())
        for i in range(0, xv.shape[0], 1000):
            pred = model(xv[i : i + 1000].float().div_(255.0)).argmax(dim=1)
            correct += int((pred == yv[i : i + 1000]).sum())
    samples = n * args.epochs
    flop = train_flop_per_sample(widths) * samples
    result.update(epochs=args.epochs, samples=samples, seconds=seconds, samples_per_second=samples / seconds,
                  flop=flop, gflops=flop / seconds / 1e9, train_loss=loss_sum / n,
                  test_accuracy=correct / vx.shape[0])
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
