#!/usr/bin/python3
"""`backprop train` under the real mpirun (OpenMPI), on loopback only (docs/distributed.md).

usage: mpi_cli_test.py CLI MPIRUN CASE    CASE: same_bits | rank0_only | sigkill | sigterm

same_bits   -np 1, 2, 4 over shared memory (vader) and TCP, with different --threads per
            process, write the model file of the plain run with the same --shards, byte for byte.
rank0_only  rank 1 runs in a directory of its own (MPMD -wdir): it writes no file there, and
            prints nothing (mpirun --output-filename keeps each rank's output apart).
sigkill     SIGKILL to rank 1 after the first checkpoint: mpirun exits non-zero within 5 s, the
            checkpoint loads, and resuming it with -np 4 writes the uninterrupted run's model.
sigterm     SIGTERM to rank 1: every rank stops at the same step, rank 0 writes a checkpoint,
            and resuming it alone writes the uninterrupted run's model.
"""
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import tempfile
import time

CLI, MPIRUN, CASE = sys.argv[1], sys.argv[2], sys.argv[3]

ENV = dict(os.environ)
ENV.update({
    # OpenMPI refuses root without these (CI containers run as root).
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    # Loopback only, for the processes' traffic and for mpirun's own.
    "OMPI_MCA_btl_tcp_if_include": "lo",
    "OMPI_MCA_oob_tcp_if_include": "lo",
    # No warning about a missing high-speed network.
    "OMPI_MCA_btl_base_warn_component_unused": "0",
})
for key in [k for k in ENV if k.startswith(("OMPI_COMM_WORLD", "PMI_", "PMIX_"))]:
    del ENV[key]  # the plain runs below must not think they were launched by MPI


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def write_data(path, rows, features, seed=7):
    """A learnable three-class problem: the class of a sample is its largest of three sums."""
    rng = random.Random(seed)
    lines = [",".join(f"f{i}" for i in range(features)) + ",label"]
    for _ in range(rows):
        x = [rng.uniform(-1, 1) for _ in range(features)]
        sums = [sum(x[i::3]) for i in range(3)]
        lines.append(",".join(f"{v:.5f}" for v in x) + f",c{sums.index(max(sums))}")
    path.write_text("\n".join(lines) + "\n")


def train_args(data, out, extra=()):
    return ["train", "--data", str(data), "--hidden", "24", "--batch", "50", "--shards", "8",
            "--optimizer", "adam", "--dropout", "0.1", "--val-split", "0.1", "-o", str(out),
            *extra]


def mpirun(np_, args, btl="self,vader", threads=1, mpmd=None, **kw):
    cmd = [MPIRUN, "--oversubscribe", "--bind-to", "none", "--mca", "btl", btl]
    if mpmd is not None:  # one app context per rank: (working directory, threads)
        for i, (wdir, t) in enumerate(mpmd):
            cmd += ([":"] if i else []) + ["-np", "1", "-wdir", str(wdir), CLI, *args,
                                           "--threads", str(t)]
    else:
        cmd += ["-np", str(np_), CLI, *args, "--threads", str(threads)]
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300, **kw)


def plain(args, threads=2):
    threads_flag = ["--threads", str(threads)] if args[0] == "train" else []
    return subprocess.run([CLI, *args, *threads_flag], env=ENV, capture_output=True, text=True,
                          timeout=300)


def check(result, what):
    if result.returncode != 0:
        fail(f"{what}: exit {result.returncode}\n{result.stdout}\n{result.stderr}")


def same_bytes(a, b, what):
    if pathlib.Path(a).read_bytes() != pathlib.Path(b).read_bytes():
        fail(f"{what}: {a} and {b} differ")


def untimed(metrics_path):
    """The epochs' metrics without their timings."""
    epochs = [json.loads(line) for line in pathlib.Path(metrics_path).read_text().splitlines()]
    for m in epochs:
        m.pop("seconds")
        m.pop("samples_per_second")
    if len(epochs) < 1 or "val_loss" not in epochs[0]:
        fail(f"{metrics_path} lacks the epochs' metrics")
    return epochs


def rank_pids(mpirun_pid):
    """The rank processes of one mpirun (its children), by OMPI_COMM_WORLD_RANK."""
    ranks = {}
    for child in pathlib.Path("/proc").iterdir():
        if not child.name.isdigit():
            continue
        try:
            stat = (child / "stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            if ppid != mpirun_pid:
                continue
            env = (child / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        for entry in env:
            if entry.startswith(b"OMPI_COMM_WORLD_RANK="):
                ranks[int(entry.split(b"=")[1])] = int(child.name)
    return ranks


def start_and_signal(tmp, args, np_, sig, after):
    """Starts mpirun, waits until `after` exists, sends `sig` to rank 1; returns the result
    and the seconds from the signal to mpirun's exit."""
    proc = subprocess.Popen([MPIRUN, "--oversubscribe", "--bind-to", "none", "-np", str(np_),
                             CLI, *args, "--threads", "1"], env=ENV, cwd=tmp,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not after.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            fail(f"the run ended or stalled before {after} appeared:\n{proc.communicate()}")
        time.sleep(0.01)
    pids = rank_pids(proc.pid)
    if 1 not in pids:
        proc.kill()
        fail(f"rank 1 of mpirun {proc.pid} not found: {pids}")
    os.kill(pids[1], sig)
    sent = time.monotonic()
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("the job was still running 60 s after the signal")
    return proc.returncode, out, err, time.monotonic() - sent


def main():
    with tempfile.TemporaryDirectory() as t:
        tmp = pathlib.Path(t)
        data = tmp / "data.csv"
        if CASE == "same_bits":
            write_data(data, 600, 12)
            args = train_args(data, tmp / "plain.st",
                              ["--epochs", "2", "--metrics", str(tmp / "plain.jsonl")])
            check(plain(args), "plain run")
            for np_, btl, threads in [(1, "self,vader", 2), (2, "self,vader", 1),
                                      (4, "self,vader", 1), (1, "self,tcp", 1),
                                      (2, "self,tcp", 2), (4, "self,tcp", 1)]:
                out = tmp / f"np{np_}_{btl}.st"
                metrics = tmp / f"np{np_}_{btl}.jsonl"
                check(mpirun(np_, train_args(data, out, ["--epochs", "2", "--metrics",
                                                         str(metrics)]), btl, threads),
                      f"-np {np_} {btl}")
                same_bytes(tmp / "plain.st", out, f"-np {np_} over {btl}, {threads} threads")
                if untimed(metrics) != untimed(tmp / "plain.jsonl"):
                    fail(f"-np {np_} over {btl}: the metrics differ from the plain run's")
            # Different thread counts within one job.
            (tmp / "a").mkdir()
            check(mpirun(2, train_args(data, tmp / "mixed.st", ["--epochs", "2"]),
                         mpmd=[(tmp, 1), (tmp / "a", 2)]), "-np 2 with 1 and 2 threads")
            same_bytes(tmp / "plain.st", tmp / "mixed.st", "ranks with 1 and 2 threads")
            # Process counts that cannot give the same bits are refused.
            r = mpirun(3, train_args(data, tmp / "three.st", ["--epochs", "1"]))
            if r.returncode == 0 or "power of two" not in r.stderr:
                fail(f"-np 3 was not refused clearly:\n{r.stdout}\n{r.stderr}")
        elif CASE == "rank0_only":
            write_data(data, 300, 12)
            (tmp / "r0").mkdir()
            (tmp / "r1").mkdir()
            logs = tmp / "logs"
            args = train_args(data, "model.st",
                              ["--epochs", "2", "--metrics", "metrics.jsonl", "--checkpoint",
                               "run.checkpoint", "--report", "run.html"])
            cmd = [MPIRUN, "--oversubscribe", "--bind-to", "none", "--output-filename",
                   str(logs), "-np", "1", "-wdir", str(tmp / "r0"), CLI, *args, ":", "-np", "1",
                   "-wdir", str(tmp / "r1"), CLI, *args]
            check(subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300),
                  "-np 2 with a directory per rank")
            written = sorted(p.name for p in (tmp / "r0").iterdir())
            if written != ["metrics.jsonl", "model.st", "run.checkpoint", "run.html"]:
                fail(f"rank 0 wrote {written}")
            if list((tmp / "r1").iterdir()):
                fail(f"rank 1 wrote {list((tmp / 'r1').iterdir())}")
            outputs = {p.parent.name + "/" + p.name: p.read_text() for p in logs.rglob("std*")}
            rank0 = "".join(v for k, v in outputs.items() if k.startswith("rank.0/"))
            rank1 = "".join(v for k, v in outputs.items() if k.startswith("rank.1/"))
            if "epoch   2/2" not in rank0 or "saved model.st" not in rank0:
                fail(f"rank 0 did not print the log: {outputs}")
            if rank1.strip():
                fail(f"rank 1 printed: {rank1!r}")
        elif CASE in ("sigkill", "sigterm"):
            write_data(data, 3000, 24)
            ref = tmp / "reference.st"
            epochs = ["--epochs", "12"]
            check(plain(train_args(data, ref, epochs)), "uninterrupted run")
            ckpt = tmp / "run.checkpoint"
            args = train_args(data, tmp / "model.st", [*epochs, "--checkpoint", str(ckpt)])
            if CASE == "sigkill":
                code, out, err, seconds = start_and_signal(tmp, args, 2, signal.SIGKILL, ckpt)
                if code == 0:
                    fail(f"the job survived the loss of rank 1:\n{out}\n{err}")
                if seconds > 5:
                    fail(f"the job took {seconds:.1f} s to end after rank 1 died")
                if (tmp / "model.st").exists():
                    fail("the run completed before rank 1 was killed; nothing was tested")
                print(f"job ended with exit {code} {seconds:.2f} s after SIGKILL to rank 1")
                check(plain(["info", str(ckpt)]), "backprop info on the checkpoint")
                resumed = mpirun(4, ["train", "--resume", str(ckpt), "-o", str(tmp / "model.st")])
            else:
                code, out, err, seconds = start_and_signal(tmp, args, 2, signal.SIGTERM, ckpt)
                if code == 0 or "interrupted" not in err or "resume with" not in err:
                    fail(f"SIGTERM to rank 1: exit {code}\n{out}\n{err}")
                if (tmp / "model.st").exists():
                    fail("the run completed before the signal; nothing was tested")
                print(f"job stopped with exit {code}: {err.strip().splitlines()[0]}")
                resumed = plain(["train", "--resume", str(ckpt), "-o", str(tmp / "model.st")])
            check(resumed, "resume")
            same_bytes(ref, tmp / "model.st", f"resume after {CASE}")
        else:
            fail(f"unknown case {CASE}")
    print(f"{CASE}: ok")


main()
