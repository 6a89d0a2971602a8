#!/usr/bin/python3
"""NumPy reference peer for bench/run.py: a textbook fully-connected network in float32.

Forward, backward and the optimisers are written out by hand (matmuls go to whatever BLAS
NumPy links; Debian's is OpenBLAS, whose threads are set by --threads through
OPENBLAS_NUM_THREADS before NumPy is imported). Same workloads, data, batch sizes and epochs
as e2e_bench; prints one JSON object. Also provides the IDX loader and workload table that
torch_mlp.py uses.

  numpy_mlp.py --workload W1|W2|W3 [--threads N] [--epochs E] [--limit N] [--data DIR] [--seed S] [--json]
"""
import argparse
import gzip
import json
import os
import resource
import struct
import sys
import time

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"

# name -> (widths, hidden activation, optimiser, learning rate, batch)
WORKLOADS = {
    "W1": ([784, 128, 10], "sigmoid", "sgd", 0.1, 64),
    "W2": ([784, 512, 256, 10], "relu", "adam", 1e-3, 128),
    "W3": ([784, 128, 10], "sigmoid", None, None, None),  # inference only
}


def parse_args(argv=None, description=__doc__):
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", choices=sorted(WORKLOADS), default="W1")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--limit", type=int, default=0, help="training samples (W1, W2) or inference samples (W3); 0 = all")
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print one JSON object (the default output is one line)")
    args = p.parse_args(argv)
    if args.threads < 1 or args.epochs < 1 or args.limit < 0:
        p.error("--threads and --epochs must be >= 1, --limit >= 0")
    return args


def set_thread_env(threads):
    """Must run before NumPy (or torch) is imported: BLAS reads these once."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
        os.environ[var] = str(threads)


def _find(directory, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"no {stem}[.gz] in {directory}")


def _read_idx(path):
    import numpy as np

    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    return arr.reshape(shape[0], -1) if dims > 1 else arr


def load_fashion_mnist(directory):
    """(train_x uint8 N x 784, train_y int64, test_x uint8, test_y int64)."""
    import numpy as np

    tx = _read_idx(_find(directory, "train-images-idx3-ubyte"))
    ty = _read_idx(_find(directory, "train-labels-idx1-ubyte")).astype(np.int64)
    vx = _read_idx(_find(directory, "t10k-images-idx3-ubyte"))
    vy = _read_idx(_find(directory, "t10k-labels-idx1-ubyte")).astype(np.int64)
    return tx, ty, vx, vy


def init_bounds(widths, activation):
    """Uniform init bound per layer, as backprop's Network::initialize: He sqrt(6/in) before ReLU,
    Glorot sqrt(6/(in+out)) before sigmoid and the output."""
    bounds = []
    for l in range(len(widths) - 1):
        fan_in, fan_out = widths[l], widths[l + 1]
        hidden = l < len(widths) - 2
        bounds.append((6.0 / fan_in) ** 0.5 if hidden and activation == "relu" else (6.0 / (fan_in + fan_out)) ** 0.5)
    return bounds


def train_flop_per_sample(widths):
    """3 GEMMs of 2*in*out per layer (Z = XW, dW = X^T dZ, dX = dZ W^T), no dX for the first layer."""
    s = sum(widths[l] * widths[l + 1] for l in range(len(widths) - 1))
    return 2.0 * (3 * s - widths[0] * widths[1])


def inference_flop_per_sample(widths):
    return 2.0 * sum(widths[l] * widths[l + 1] for l in range(len(widths) - 1))


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def emit(result, as_json):
    result["peak_rss_mb"] = peak_rss_mb()
    if as_json:
        print(json.dumps(result))
    else:
        print(" ".join(f"{k}={v}" for k, v in result.items()))
    sys.stdout.flush()


class Mlp:
    def __init__(self, np, widths, activation, seed):
        self.np = np
        self.activation = activation
        rng = np.random.default_rng(seed)
        self.params = []
        for l, a in enumerate(init_bounds(widths, activation)):
            w = rng.uniform(-a, a, size=(widths[l], widths[l + 1])).astype(np.float32)
            b = np.zeros(widths[l + 1], dtype=np.float32)
            self.params += [w, b]

    def _act(self, z):
        np = self.np
        if self.activation == "relu":
            return np.maximum(z, np.float32(0))
        out = np.negative(z)
        np.exp(out, out=out)
        out += np.float32(1)
        return np.reciprocal(out, out=out)

    def forward(self, x, keep=False):
        np = self.np
        acts = [x]
        h = x
        n = len(self.params) // 2
        for l in range(n):
            z = h @ self.params[2 * l]
            z += self.params[2 * l + 1]
            h = self._act(z) if l < n - 1 else z
            acts.append(h)
        z = acts[-1]
        z = z - z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return (z, acts) if keep else z

    def gradients(self, x, y):
        """Mean cross-entropy of softmax outputs and its gradient for every parameter."""
        np = self.np
        probs, acts = self.forward(x, keep=True)
        b = x.shape[0]
        rows = np.arange(b)
        loss = float(-np.log(np.maximum(probs[rows, y], np.float32(1e-30))).mean())
        delta = probs
        delta[rows, y] -= np.float32(1)
        delta *= np.float32(1.0 / b)
        n = len(self.params) // 2
        grads = [None] * len(self.params)
        for l in reversed(range(n)):
            grads[2 * l] = acts[l].T @ delta
            grads[2 * l + 1] = delta.sum(axis=0)
            if l > 0:
                dh = delta @ self.params[2 * l].T
                h = acts[l]
                if self.activation == "relu":
                    dh *= h > 0
                else:
                    dh *= h * (np.float32(1) - h)
                delta = dh
        return loss, grads


class Sgd:
    def __init__(self, np, params, lr):
        self.params, self.lr = params, np.float32(lr)

    def step(self, grads):
        for p, g in zip(self.params, grads):
            p -= self.lr * g


class Adam:
    """torch.optim.Adam's update (no weight decay, no amsgrad)."""

    def __init__(self, np, params, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        self.np, self.params = np, params
        self.lr, self.b1, self.b2, self.eps = lr, beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        np = self.np
        self.t += 1
        c1 = 1 - self.b1**self.t
        c2 = 1 - self.b2**self.t
        step_size = np.float32(self.lr / c1)
        b1, b2 = np.float32(self.b1), np.float32(self.b2)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (np.float32(1) - b1) * g
            v *= b2
            v += (np.float32(1) - b2) * (g * g)
            denom = np.sqrt(v / np.float32(c2))
            denom += np.float32(self.eps)
            p -= step_size * (m / denom)


def accuracy(np, model, x_u8, y, batch=1000):
    correct = 0
    for i in range(0, x_u8.shape[0], batch):
        x = x_u8[i : i + batch].astype(np.float32) * np.float32(1.0 / 255.0)
        correct += int((model.forward(x).argmax(axis=1) == y[i : i + batch]).sum())
    return correct / x_u8.shape[0]


def main():
    args = parse_args()
    set_thread_env(args.threads)
    import numpy as np

    widths, activation, opt_name, lr, batch = WORKLOADS[args.workload]
    tx, ty, vx, vy = load_fashion_mnist(args.data)
    model = Mlp(np, widths, activation, args.seed)
    result = {"engine": "numpy", "workload": args.workload, "threads": args.threads, "numpy": np.__version__}

    if args.workload == "W3":
        n = min(args.limit, vx.shape[0]) if args.limit else vx.shape[0]
        x = vx[:n].astype(np.float32) * np.float32(1.0 / 255.0)
        checksum = 0.0
        for i in range(min(n, 100)):
            checksum += float(model.forward(x[i : i + 1])[0, 0])
        t0 = time.perf_counter()
        for i in range(n):
            checksum += float(model.forward(x[i : i + 1])[0, 0])
        b1 = time.perf_counter() - t0
        reps = 5
        checksum += float(model.forward(x)[0, 0])
        t0 = time.perf_counter()
        for _ in range(reps):
            checksum += float(model.forward(x)[n - 1, 0])
        bn = (time.perf_counter() - t0) / reps
        f = inference_flop_per_sample(widths)
        result.update(samples=n, batch1_seconds=b1, latency_us=b1 / n * 1e6, batch1_samples_per_second=n / b1,
                      batch1_gflops=f * n / b1 / 1e9, batch=n, seconds=bn, samples_per_second=n / bn,
                      flop=f * n, gflops=f * n / bn / 1e9, checksum=checksum)
        emit(result, args.json)
        return 0

    n = min(args.limit, tx.shape[0]) if args.limit else tx.shape[0]
    x_all, y_all = tx[:n], ty[:n]
    opt = Sgd(np, model.params, lr) if opt_name == "sgd" else Adam(np, model.params, lr)
    rng = np.random.default_rng(args.seed)
    scale = np.float32(1.0 / 255.0)
    seconds = 0.0
    loss_sum = 0.0
    for _ in range(args.epochs):
        loss_sum = 0.0
        t0 = time.perf_counter()
        order = rng.permutation(n)
        for s in range(0, n, batch):
            idx = order[s : s + batch]
            x = x_all[idx].astype(np.float32) * scale  # uint8 -> float per batch, like the other engines
            loss, grads = model.gradients(x, y_all[idx])
            opt.step(grads)
            loss_sum += loss * len(idx)
        seconds += time.perf_counter() - t0
    samples = n * args.epochs
    flop = train_flop_per_sample(widths) * samples
    result.update(epochs=args.epochs, samples=samples, seconds=seconds, samples_per_second=samples / seconds,
                  flop=flop, gflops=flop / seconds / 1e9, train_loss=loss_sum / n,
                  test_accuracy=accuracy(np, model, vx, vy))
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
