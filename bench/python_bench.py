#!/usr/bin/python3
"""The Python package side by side with its peers, in one run (docs/python.md, "Benchmarks").

  /usr/bin/python3 bench/python_bench.py --build build [--json out.json]
  /usr/bin/python3 bench/python_bench.py --build build --quick     # bench/run.py's quick mode

Needs the build's Python module (build/python), CLI (build/backprop) and e2e_bench
(build/bench/e2e/e2e_bench). Three comparisons on Fashion-MNIST, 784-128-10 ReLU, Adam lr 1e-3,
batch 64, alpha 0, seed 1, pixels / 255:

  fit       backprop.sklearn.MLPClassifier against sklearn.neural_network.MLPClassifier, the
            same data and parameters, 3 epochs: wall time of fit() and test accuracy
  bound     what any fit of this network could reach: its products' flops at the 2-thread
            FMA peak, and at backprop's GEMM speed on the W1 step (both from gemm_bench); each
            as a time and as the speed-up over scikit-learn's fit it would give
  predict   one row per call: backprop.Model.predict_proba (and the estimator's, and
            scikit-learn's) against the C++ forward pass of e2e_bench's W3 batch-1 mode on the
            same network shape and thread count
  cli       the same training through Python and through `backprop train` on the IDX file:
            wall times, and whether the weights are the same bits (unit scaling x * (1/255)
            in float32 is what the CLI applies to IDX pixels)

Every timing is the fastest of --repeat runs (default 3; quick mode 1), the engines' runs
interleaved, since on a shared machine noise only ever adds time.
Quick mode: 2000 training rows, 1 epoch, 200 single-row predictions; no timing verdicts (the
weights' identity with the CLI's is checked in both modes).
Exit status: non-zero if a run failed, or in full mode if a target below was missed.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = "/usr/share/datasets/fashion-mnist"
SPEEDUP_TARGET = 5.0         # backprop's fit at least 5x faster than scikit-learn's
ACCURACY_TOLERANCE = 0.01    # test accuracy within one point
LATENCY_TARGET_US = 5.0      # Python predict_proba on one row at most 5 us above C++
CLI_TOLERANCE = 0.10         # fit through Python within 10% of the CLI


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    return data.reshape(shape[0], -1) if dims > 1 else data


def load(limit_train, limit_test):
    xtr = read_idx(os.path.join(DATA, "train-images-idx3-ubyte.gz"))[:limit_train]
    ytr = read_idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz"))[:limit_train]
    xte = read_idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz"))[:limit_test]
    yte = read_idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz"))[:limit_test]
    scale = np.float32(1.0) / np.float32(255.0)  # the CLI's unit scaling, in float32
    return (xtr.astype(np.float32) * scale, ytr.astype(np.int64),
            xte.astype(np.float32) * scale, yte.astype(np.int64), xtr)


def params(epochs):
    return dict(hidden_layer_sizes=(128,), activation="relu", solver="adam", alpha=0.0,
                batch_size=64, learning_rate_init=0.001, max_iter=epochs, random_state=1,
                n_iter_no_change=epochs + 1)


def timed_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after a fixed number of epochs
        t0 = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - t0


def per_call_us(fn, rows, repeats=3):
    """The fastest of `repeats` passes over the rows, in microseconds per call."""
    for x in rows[:50]:
        fn(x)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for x in rows:
            fn(x)
        best = min(best, (time.perf_counter() - t0) / len(rows) * 1e6)
    return best


def fit_flops(rows, epochs, widths=(784, 128, 10)):
    """The products of the fit, e2e_bench's training count: per sample 2 (3 sum_l in_l out_l -
    in_0 out_0) flops (Z = XW and dW = X^T D of every layer, D W^T of all but the first, whose
    input needs no gradient)."""
    weights = sum(a * b for a, b in zip(widths, widths[1:]))
    return 2.0 * rows * epochs * (3 * weights - widths[0] * widths[1])


def fit_bound(build, rows, epochs, sklearn_seconds):
    """How fast the fit could be at all: its products at the machine's 2-thread FMA peak, and
    at the speed of backprop's own GEMM kernels on this shape (gemm_bench's W1 step, the five
    products of a 64-row step back to back with warm operands, the fastest of its
    repetitions; gemm_bench measures the peak too). Everything else a fit does (Adam's update,
    activations, the softmax, gathering shuffled rows) comes on top of both. None if
    gemm_bench is not built."""
    gemm = os.path.join(build, "bench", "gemm_bench")
    if not os.access(gemm, os.X_OK):
        print("bound    skipped: gemm_bench is not built")
        return None
    runs = json.loads(subprocess.run(
        [gemm, "--benchmark_filter=^fast/W1/step/threads:2/", "--benchmark_repetitions=5",
         "--benchmark_format=json"], check=True, capture_output=True, text=True).stdout)
    peak = float(runs["context"]["fma_peak_gflops_2_threads"])
    unit = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
    step_ns = min(b["real_time"] * unit[b["time_unit"]] for b in runs["benchmarks"]
                  if b.get("run_type") == "iteration")
    flops = fit_flops(rows, epochs)
    peak_floor = flops / (peak * 1e9)
    gemm_floor = step_ns * 1e-9 * rows / 64 * epochs  # the step's products scale with its rows
    return {"gflop": flops / 1e9, "fma_peak_gflops": peak, "peak_floor_seconds": peak_floor,
            "peak_ceiling": sklearn_seconds / peak_floor, "gemm_step_us": step_ns / 1e3,
            "gemm_floor_seconds": gemm_floor, "gemm_ceiling": sklearn_seconds / gemm_floor}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--repeat", type=int, help="runs per measurement (default 3, quick 1)")
    args = ap.parse_args()
    repeat = args.repeat or (1 if args.quick else 3)
    build = os.path.abspath(args.build)
    sys.path.insert(0, os.path.join(build, "python"))
    import backprop
    from backprop.sklearn import MLPClassifier as BackpropMLP
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    n_train, n_test, epochs, n_rows = (2000, 500, 1, 200) if args.quick else (60000, 10000, 3, 2000)
    Xtr, ytr, Xte, yte, pixels = load(n_train, n_test)
    results = {"mode": "quick" if args.quick else "full", "train_rows": len(Xtr), "epochs": epochs,
               "threads": os.cpu_count(), "repeat": repeat}
    print(f"backprop Python bench ({results['mode']} mode): Fashion-MNIST {len(Xtr)} train rows, "
          f"{len(Xte)} test rows, 784-128-10 ReLU, Adam, batch 64, {epochs} epoch(s)")

    # fit: backprop's estimator against scikit-learn's, interleaved.
    ours_times, theirs_times = [], []
    for _ in range(repeat):
        ours, theirs = BackpropMLP(**params(epochs)), SklearnMLP(**params(epochs))
        ours_times.append(timed_fit(ours, Xtr, ytr))
        theirs_times.append(timed_fit(theirs, Xtr, ytr))
    fit = {"backprop_seconds": min(ours_times), "sklearn_seconds": min(theirs_times),
           "backprop_runs": ours_times, "sklearn_runs": theirs_times,
           "backprop_accuracy": float(ours.score(Xte, yte)),
           "sklearn_accuracy": float(theirs.score(Xte, yte))}
    fit["speedup"] = fit["sklearn_seconds"] / fit["backprop_seconds"]
    results["fit"] = fit
    print(f"fit      backprop {fit['backprop_seconds']:.2f} s (test acc {fit['backprop_accuracy']:.4f})"
          f"   scikit-learn {fit['sklearn_seconds']:.2f} s (test acc {fit['sklearn_accuracy']:.4f})"
          f"   speedup {fit['speedup']:.2f}x")

    results["bound"] = bound = fit_bound(build, len(Xtr), epochs, fit["sklearn_seconds"])
    if bound:
        print(f"bound    the fit's {bound['gflop']:.1f} GFLOP of products: at the FMA peak "
              f"({bound['fma_peak_gflops']:.0f} GFLOP/s) {bound['peak_floor_seconds']:.2f} s, a "
              f"ceiling of {bound['peak_ceiling']:.2f}x on this scikit-learn fit; at backprop's "
              f"GEMM speed on this shape ({bound['gemm_step_us']:.0f} us a step) "
              f"{bound['gemm_floor_seconds']:.2f} s, a ceiling of {bound['gemm_ceiling']:.2f}x")

    # predict: one row per call, 1 thread, against the C++ forward pass (e2e_bench W3).
    model = backprop.Model.create([784, 128, 10], ["sigmoid"], "classification",
                                  [str(k) for k in range(10)], [f"x{j}" for j in range(784)])
    rows = [Xte[i:i + 1] for i in range(min(n_rows, len(Xte)))]
    ours.set_params(n_jobs=1)
    pred = {"rows": len(rows),
            "python_model_us": per_call_us(lambda x: model.predict_proba(x, 1), rows),
            "python_estimator_us": per_call_us(ours.predict_proba, rows),
            "sklearn_estimator_us": per_call_us(theirs.predict_proba, rows)}
    cpp = []
    for _ in range(max(repeat, 7 if not args.quick else 1)):  # microseconds: more runs
        e2e = subprocess.run([os.path.join(build, "bench", "e2e", "e2e_bench"), "--workload", "W3",
                              "--threads", "1", "--limit", str(len(rows)), "--json"], check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
        cpp.append(json.loads(e2e)["latency_us"])
        pred["python_model_us"] = min(pred["python_model_us"],
                                      per_call_us(lambda x: model.predict_proba(x, 1), rows))
    pred["cpp_us"] = min(cpp)
    pred["python_overhead_us"] = pred["python_model_us"] - pred["cpp_us"]
    results["predict"] = pred
    print(f"predict  one row, 1 thread: C++ {pred['cpp_us']:.2f} us   backprop.Model.predict_proba "
          f"{pred['python_model_us']:.2f} us (+{pred['python_overhead_us']:.2f})   "
          f"backprop.sklearn {pred['python_estimator_us']:.1f} us   scikit-learn "
          f"{pred['sklearn_estimator_us']:.1f} us")

    # cli: the same training through `backprop train` and through Python.
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cli.safetensors")
        cmd = [os.path.join(build, "backprop"), "train", "--hidden", "128", "--activation", "relu",
               "--optimizer", "adam", "--lr", "0.001", "--batch", "64", "--epochs", str(epochs),
               "--seed", "1", "-q", "-o", out, "--metrics", os.path.join(tmp, "m.jsonl")]
        if args.quick:  # the same rows as a CSV file, already scaled
            data = os.path.join(tmp, "train.csv")
            with open(data, "w") as f:
                f.write(",".join(f"x{j}" for j in range(784)) + ",y\n")
                for x, label in zip(Xtr, ytr):
                    f.write(",".join(repr(float(v)) for v in x) + f",{label}\n")
            # A table's defaults hold out 10% with early stopping; the estimator's do not.
            cmd += ["--data", data, "--label", "y", "--task", "classification",
                    "--normalize", "none", "--val-split", "0", "--patience", "0"]
        else:  # the IDX file alone: no test set to evaluate after each epoch
            cmd += ["--data", os.path.join(DATA, "train-images-idx3-ubyte.gz")]
        cli_walls, cli_trains, python_fits = [], [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True)
            cli_walls.append(time.perf_counter() - t0)
            with open(os.path.join(tmp, "m.jsonl")) as f:
                cli_trains.append(sum(json.loads(line)["seconds"] for line in f))
            python_fits.append(timed_fit(BackpropMLP(**params(epochs)), Xtr, ytr))
        cli_wall, cli_train, python_fit = min(cli_walls), min(cli_trains), min(python_fits)
        cli_model = backprop.load(out)
    same = all(np.array_equal(a, b) for a, b in zip(ours._model.weights() + ours._model.biases(),
                                                    cli_model.weights() + cli_model.biases()))
    cli = {"cli_wall_seconds": cli_wall, "cli_train_seconds": cli_train,
           "python_fit_seconds": python_fit, "ratio_to_cli_wall": python_fit / cli_wall,
           "weights_identical": same}
    results["cli"] = cli
    print(f"cli      backprop train {cli_wall:.2f} s wall ({cli_train:.2f} s in training steps)   "
          f"Python fit {python_fit:.2f} s ({cli['ratio_to_cli_wall']:.2f}x the CLI's wall time)   "
          f"weights identical: {'yes' if same else 'NO'}")

    failures = []
    if not args.quick:
        if fit["speedup"] < SPEEDUP_TARGET:
            failures.append(f"fit speedup {fit['speedup']:.2f}x < {SPEEDUP_TARGET}x")
        if abs(fit["backprop_accuracy"] - fit["sklearn_accuracy"]) > ACCURACY_TOLERANCE:
            failures.append("test accuracy differs by more than one point")
        if pred["python_overhead_us"] > LATENCY_TARGET_US:
            failures.append(f"predict_proba overhead {pred['python_overhead_us']:.2f} us > 5 us")
        if python_fit > cli_wall * (1 + CLI_TOLERANCE):
            failures.append("fit through Python more than 10% slower than the CLI")
    if not same:  # exact, not a timing: a verdict in quick mode too
        failures.append("Python and CLI weights differ")
    results["failures"] = failures
    for msg in failures:
        print(f"FLAG: {msg}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
