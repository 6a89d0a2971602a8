#!/usr/bin/python3
"""Which BLAS the peers' NumPy (and PyTorch, through the same libblas.so.3) runs on, and how fast.

Prints one JSON object: the BLAS libraries mapped into the process after `import numpy`, the
OpenBLAS core (kernel family) in use when it is OpenBLAS, whether a float32 product of W2's
forward shape (128 x 784 times 784 x 512) is right to float32 accuracy, and its speed in GFLOP/s
(the best of repeated products on the threads given by OPENBLAS_NUM_THREADS).

run.py calls it once per candidate OPENBLAS_CORETYPE so that the peers get the fastest correct
kernel their OpenBLAS has for this CPU: an OpenBLAS older than the CPU may not recognise it and
fall back to a slow generic kernel (OpenBLAS 0.3.21 runs SSE3 "Prescott" code on some current
Xeons), which would make the comparison flatter backprop.
"""
import ctypes
import json
import re
import time

import numpy as np

M, K, N = 128, 784, 512
REPEATS = 60


def loaded_blas():
    with open("/proc/self/maps") as f:
        paths = set(re.findall(r"(/\S*(?:blas|blis|mkl)\S*\.so[\d.]*)", f.read()))
    return sorted(paths)


def openblas_core(paths):
    for path in paths:
        if "openblas" not in path:
            continue
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode(), lib.openblas_get_config().decode()
        except (OSError, AttributeError):
            continue
    return None, None


def main():
    rng = np.random.default_rng(0)
    a = rng.random((M, K), dtype=np.float32)
    b = rng.random((K, N), dtype=np.float32) - 0.5
    exact = a.astype(np.float64) @ b.astype(np.float64)
    c = a @ b
    # K terms of magnitude <= 0.5: float32 sums stay within a few ulps of K * 0.5.
    correct = bool(np.isfinite(c).all() and np.abs(c - exact).max() <= 1e-5 * K)
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        best = min(best, time.perf_counter() - start)
    paths = loaded_blas()
    core, config = openblas_core(paths)
    print(json.dumps({"libraries": paths, "openblas_core": core, "openblas_config": config,
                      "correct": correct, "gflops": 2.0 * M * K * N / best / 1e9}))


if __name__ == "__main__":
    main()
