#!/usr/bin/python3
"""Peak memory of reading a CSV file, per byte of the file, beside the size of its numbers.

Generates two files into a temporary directory:
  mnist   30000 rows: 784 integer pixels 0-255 (about half of them 0, as in MNIST) and a label
          0-9 (the last column), with a header;
  decimal 60000 rows: 300 numbers with 4 decimals and a label 0-9, with a header;
and with --gzip their gzipped copies. For each file and CLI it runs
  CLI train --data FILE --hidden 16 --epochs 1 -o MODEL
  CLI eval MODEL --data FILE                    (with --eval)
  cat FILE | CLI train --data - ...              (with --stdin: the stream through a pipe)
and reads the peak resident set (ru_maxrss) of the process from os.wait4, and the peak rise of
the machine's shared memory (/proc/meminfo Shmem, sampled every 10 ms: an in-memory file, which
the resident set does not count and which without swap cannot be reclaimed). Prints a Markdown
table: the file's MB (the text, decompressed for .gz), the parsed numbers' MB (rows x features x
4 bytes), and per CLI the peak MB, the peak per byte of text, the shared-memory MB and the
seconds. Seconds on a
loaded machine are noisy; the runs of the CLIs are interleaved so that they share the noise.

Usage: /usr/bin/python3 bench/csv_memory.py --cli build/backprop [--baseline OLD_CLI]
         [--gzip] [--eval] [--stdin] [--repeat N]
"""
import argparse
import gzip
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

MB = 1e6


def write_table(path, rows, names, block):
    """A CSV file: the header `names` + label, then `rows` rows made 1000 at a time by
    block(n), which gives n rows of cells and their n labels."""
    with open(path, "w") as f:
        f.write(",".join(names) + ",label\n")
        for start in range(0, rows, 1000):
            cells, labels = block(min(1000, rows - start))
            f.writelines(",".join(r) + f",{c}\n" for r, c in zip(cells, labels))


def write_mnist(path, rng):
    rows, pixels = 30000, 784

    def block(n):
        x = rng.integers(1, 256, (n, pixels))
        x[rng.random((n, pixels)) < 0.5] = 0
        return [map(str, r) for r in x.tolist()], rng.integers(0, 10, n)

    write_table(path, rows, [f"p{j}" for j in range(pixels)], block)
    return rows, pixels


def write_decimal(path, rng):
    rows, columns = 60000, 300

    def block(n):
        x = rng.normal(0, 1, (n, columns))
        return [(f"{v:.4f}" for v in r) for r in x], rng.integers(0, 10, n)

    write_table(path, rows, [f"x{j}" for j in range(columns)], block)
    return rows, columns


def shmem_mb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Shmem:"):
                return int(line.split()[1]) * 1024 / MB
    return 0.0


def peak(args, stdin_from=None):
    """(peak resident MB, peak shared-memory rise MB, seconds) of one run, its standard input a
    pipe from `cat stdin_from` if given; raises if it fails."""
    before = shmem_mb()
    highest = [before]
    done = threading.Event()

    def sample():
        while not done.wait(0.01):
            highest[0] = max(highest[0], shmem_mb())

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()
    cat = None
    if stdin_from is not None:
        cat = subprocess.Popen(["cat", str(stdin_from)], stdout=subprocess.PIPE)
    proc = subprocess.Popen(args, stdin=cat.stdout if cat else None, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    if cat:
        cat.stdout.close()  # the CLI holds the pipe's read end now
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if cat:
        cat.wait()
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed:\n{err}")
    # ru_maxrss is in KiB on Linux
    return usage.ru_maxrss * 1024 / MB, max(0.0, highest[0] - before), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cli", required=True, help="the backprop tool to measure")
    parser.add_argument("--baseline", help="another backprop tool, measured beside it")
    parser.add_argument("--gzip", action="store_true", help="also the gzipped files")
    parser.add_argument("--eval", action="store_true", help="also `eval` of each file")
    parser.add_argument("--stdin", action="store_true",
                        help="also `train --data -` with the file piped to standard input")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per cell (the lowest peak and the fewest seconds)")
    args = parser.parse_args()
    clis = [("new", args.cli)] + ([("baseline", args.baseline)] if args.baseline else [])

    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = []
        for name, write in (("mnist", write_mnist), ("decimal", write_decimal)):
            path = tmp / f"{name}.csv"
            rows, features = write(path, rng)
            text = path.stat().st_size
            files.append((path.name, path, text, rows * features * 4))
            if args.gzip:
                gz = tmp / f"{name}.csv.gz"
                with open(path, "rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
                    shutil.copyfileobj(src, dst)
                files.append((gz.name, gz, text, rows * features * 4))

        commands = ["train"] + (["eval"] if args.eval else []) + (["train -"] if args.stdin else [])
        head = "| file | command | text MB | numbers MB (B/B) |"
        rule = "|---|---|--:|--:|"
        for label, _ in clis:
            head += f" {label} peak MB | {label} B/B | {label} shmem MB | {label} s |"
            rule += "--:|--:|--:|--:|"
        print(head)
        print(rule)
        for name, path, text, numbers in files:
            for command in commands:
                best = {label: (float("inf"), float("inf"), 0.0) for label, _ in clis}
                for _ in range(args.repeat):
                    for label, cli in clis:
                        model = tmp / f"{label}.safetensors"
                        piped = command == "train -"
                        if command.startswith("train"):
                            run = [cli, "train", "--data", "-" if piped else path, "--hidden", "16",
                                   "--epochs", "1", "-o", model]
                        else:
                            run = [cli, "eval", model, "--data", path]
                        mb, shared, seconds = peak(run, path if piped else None)
                        low_mb, low_shared, low_s = best[label]
                        best[label] = (min(low_mb, mb), min(low_shared, shared),
                                       min(low_s, seconds) if low_s else seconds)
                row = (f"| {name} | {command} | {text / MB:.1f} | "
                       f"{numbers / MB:.1f} ({numbers / text:.2f}) |")
                for label, _ in clis:
                    mb, shared, seconds = best[label]
                    row += f" {mb:.0f} | {mb * MB / text:.2f} | {shared:.0f} | {seconds:.1f} |"
                print(row, flush=True)


if __name__ == "__main__":
    main()
