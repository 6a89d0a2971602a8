#!/usr/bin/python3
"""Whether a long run's side outputs cost the same every epoch: two backprop binaries train the
same small table for many epochs with --metrics and --checkpoint (written every epoch), started
side by side, and for each the script prints the whole run's seconds, the wall-clock seconds of
the first and of the last 500 epochs (from the moment each epoch's log line arrives), the same
two spans of training steps alone (the metrics file's per-epoch "seconds"), the CPU seconds, and
the final checkpoint's size. With writes whose cost does not depend on the epoch count, the last
500 epochs take as long as the first 500.

    /usr/bin/python3 bench/long_run_outputs.py --old /work/baseline/backprop --new build/backprop

The table: ROWS rows of 4 features and 3 classes (a pure function of --seed), trained with
`--hidden 8 --batch ROWS --val-split 0 --patience 0 --threads 1`.
"""
import argparse
import json
import os
import random
import subprocess
import tempfile
import threading
import time


def write_table(path, rows, seed):
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("a,b,c,d,kind\n")
        for _ in range(rows):
            x = [rng.uniform(-1, 1) for _ in range(4)]
            s = x[0] + 0.5 * x[1] - x[2] * x[3]
            kind = "low" if s < -0.3 else ("high" if s > 0.3 else "mid")
            f.write(",".join(f"{v:.6f}" for v in x) + f",{kind}\n")


class Run:
    """One binary's training run, started at once; its epoch lines are timestamped as they arrive."""

    def __init__(self, name, binary, table, work, epochs, rows):
        self.name = name
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.metrics = os.path.join(self.dir, "m.jsonl")
        self.checkpoint = os.path.join(self.dir, "ck.safetensors")
        self.epochs = epochs
        argv = [binary, "train", "--data", table, "--hidden", "8", "--batch", str(rows),
                "--val-split", "0", "--patience", "0", "--threads", "1", "--epochs", str(epochs),
                "--metrics", self.metrics, "--checkpoint", self.checkpoint,
                "-o", os.path.join(self.dir, "model.safetensors")]
        self.epoch_at = {}  # epoch -> seconds since the start when its line arrived
        self.start = time.monotonic()
        self.stderr = os.path.join(self.dir, "stderr")
        with open(self.stderr, "w") as err:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True)
        self.reader = threading.Thread(target=self._read)
        self.reader.start()

    def _read(self):
        """Runs in its own thread, so that each run's end is timed as it happens."""
        for line in self.proc.stdout:
            if line.startswith("epoch "):
                self.epoch_at[int(line.split()[1].split("/")[0])] = time.monotonic() - self.start
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.seconds = time.monotonic() - self.start
        self.cpu = usage.ru_utime + usage.ru_stime
        self.status = os.waitstatus_to_exitcode(status)
        self.proc.returncode = self.status

    def wait(self):
        self.reader.join()
        with open(self.stderr) as err:
            self.error = err.read()

    def spans(self, span):
        """(wall first, wall last, steps first, steps last) over `span` epochs."""
        n = self.epochs
        wall_first = self.epoch_at[span]
        wall_last = self.epoch_at[n] - self.epoch_at[n - span]
        steps = [json.loads(line)["seconds"] for line in open(self.metrics)]
        return wall_first, wall_last, sum(steps[:span]), sum(steps[-span:])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--old", required=True, help="the binary to compare against (main's)")
    p.add_argument("--new", required=True, help="the binary under test")
    p.add_argument("--epochs", type=int, default=4000)
    p.add_argument("--span", type=int, default=500, help="epochs in the first and last spans")
    p.add_argument("--rows", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if a.epochs < 2 * a.span:
        p.error("--epochs must be at least twice --span")
    with tempfile.TemporaryDirectory(prefix="long-run-outputs-") as work:
        table = os.path.join(work, "table.csv")
        write_table(table, a.rows, a.seed)
        runs = [Run(name, binary, table, work, a.epochs, a.rows)
                for name, binary in (("old", a.old), ("new", a.new))]
        for r in runs:
            r.wait()
        failed = [r for r in runs if r.status != 0]
        for r in failed:
            print(f"{r.name} ({r.proc.args[0]}) exited {r.status}:\n{r.error}")
        if failed:
            return 1
        print(f"{a.epochs} epochs, {a.rows} rows x 4 features, --hidden 8 --batch {a.rows}, "
              f"--metrics and --checkpoint every epoch; both runs at once, so each shares the "
              f"machine with the other")
        print(f"{'':34}{'old':>12}{'new':>12}{'old/new':>10}")
        rows = [("total seconds (wall)", [r.seconds for r in runs], "{:.2f}"),
                ("CPU seconds (user + system)", [r.cpu for r in runs], "{:.2f}")]
        spans = [r.spans(a.span) for r in runs]
        rows += [(f"first {a.span} epochs, wall s", [s[0] for s in spans], "{:.3f}"),
                 (f"last {a.span} epochs, wall s", [s[1] for s in spans], "{:.3f}"),
                 (f"first {a.span} epochs, steps s", [s[2] for s in spans], "{:.4f}"),
                 (f"last {a.span} epochs, steps s", [s[3] for s in spans], "{:.4f}"),
                 ("final checkpoint bytes", [os.path.getsize(r.checkpoint) for r in runs], "{}")]
        for label, (old, new), fmt in rows:
            ratio = f"{old / new:.1f}" if new > 0 else "-"
            print(f"{label:34}{fmt.format(old):>12}{fmt.format(new):>12}{ratio:>10}")
        for r, s in zip(runs, spans):
            print(f"{r.name}: last/first {a.span} epochs (wall) = {s[1] / s[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
